#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine (run as root):
# Debian packages for the real servers and tools the integration tests start,
# and the npm packages of the JS oracles under testdata/*/ (from their lockfiles).
set -euo pipefail
cd "$(dirname "$0")/.."
apt_packages=(
	mosquitto            # MQTT broker for adapter and northbound tests
	python3-pymodbus     # independent Modbus server (run with /usr/bin/python3)
	socat                # pty pairs for serial and Modbus RTU tests
	qemu-user-static     # run arm64/armhf builds
	binfmt-support
)
missing=()
for p in "${apt_packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages: ${missing[*]} (run as root or install them)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
for lock in testdata/*/package-lock.json; do
	[ -e "$lock" ] || continue
	dir=$(dirname "$lock")
	if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules" ]; then
		echo "npm ci in $dir"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
	fi
done
