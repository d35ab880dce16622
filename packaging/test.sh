#!/bin/bash
# packaging/test.sh: end-to-end checks of Tanglegate's packages (`make package-test`).
#
# Run as root on Debian (a throwaway container is fine; systemd need not be PID 1).
# It installs what it needs with apt-get, builds two versions of the packages
# into $WORK, and checks:
#   1. lintian (no errors) on every .deb, systemd-analyze verify on the unit;
#   2. dpkg -i / check / run as the tanglegate user / upgrade / remove / purge;
#   3. arm64 and armhf binaries under qemu-user-static print what amd64 prints;
#   4. skopeo inspect + umoci unpack of the OCI image, rootfs run as non-root;
#   5. stripped binary sizes <= 25 MB.
# It is idempotent: it purges a previous test install first (and deletes the
# tanglegate user so that user creation is tested again).
#
# Environment: VERSION (default: git describe --tags --always --dirty),
# WORK (default: /tmp/tanglegate-package-test), MAX_BINARY_BYTES (25000000).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=${WORK:-/tmp/tanglegate-package-test}
MAX_BINARY_BYTES=${MAX_BINARY_BYTES:-25000000}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo 0.0.0~dev)}
TEST_SEED=TANGLEGATE9PACKAGE9TEST9SEED9999999999999999999999999999999999999999999999999999
SKIPPED=()
FAILED=()

step() { printf '\n=== %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
skip() { printf 'SKIP %s\n' "$*"; SKIPPED+=("$*"); }
fail() { printf 'FAIL %s\n' "$*" >&2; exit 1; }
# fail_later records a failure of the binary itself (not of the packaging) and goes on.
fail_later() { printf 'FAIL %s\n' "$*" >&2; FAILED+=("$*"); }

# has_cmd BINARY WORDS... reports whether the binary has the subcommand WORDS
# (cobra prints the parent's help for unknown subcommands, so compare Usage lines).
has_cmd() {
	local bin=$1 help; shift
	help=$("$bin" "$@" --help 2>/dev/null) || return 1
	grep -q "^  tanglegate $* " <<<"$help"
}

[ "$(id -u)" = 0 ] || fail "run as root (it installs packages and creates users)"
command -v go >/dev/null || fail "go is not on PATH"

step "dependencies"
need=()
for p in lintian systemd qemu-user-static skopeo umoci jq ca-certificates util-linux git; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep '^install ok installed$' >/dev/null || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "apt-get install ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
ok "lintian $(lintian --version | awk '{print $2}'), skopeo $(skopeo --version | awk '{print $3}'), umoci $(umoci --version | awk '{print $3}')"

step "clean previous test install"
if dpkg-query -W tanglegate >/dev/null 2>&1; then
	dpkg --purge tanglegate >/dev/null
fi
if getent passwd tanglegate >/dev/null; then
	userdel tanglegate
fi
if getent group tanglegate >/dev/null; then
	groupdel tanglegate
fi
rm -rf /var/lib/tanglegate /etc/tanglegate
if [ "${REUSE_BUILD:-0}" = 1 ] && [ -d "$WORK/v1" ] && [ -d "$WORK/v2" ]; then
	rm -rf "$WORK/layout" "$WORK"/bundle-*   # keep the builds (for iterating on this script)
else
	rm -rf "$WORK"
fi
mkdir -p "$WORK"
ok "no tanglegate package, user or state"

step "build $VERSION (all platforms) and an upgrade version (amd64)"
DEB1=$(go run ./packaging/cmd/mkpkg -print-deb-version -version "$VERSION")
VERSION2="$DEB1+upgradetest"
if [ ! -f "$WORK/v2/build.log" ]; then
	mkdir -p "$WORK/v1" "$WORK/v2"
	go run ./packaging/cmd/mkpkg -version "$VERSION" -out "$WORK/v1" | tee "$WORK/v1/build.log"
	go run ./packaging/cmd/mkpkg -version "$VERSION2" -arch amd64 -oci=false -out "$WORK/v2" >"$WORK/v2/build.log"
fi
DEB2=$(go run ./packaging/cmd/mkpkg -print-deb-version -version "$VERSION2")
dpkg --compare-versions "$DEB2" gt "$DEB1" || fail "upgrade version $DEB2 is not greater than $DEB1"
ok "v1 $DEB1, v2 $DEB2"

step "binary sizes (stripped, limit $MAX_BINARY_BYTES bytes)"
for arch in amd64 arm64 armhf; do
	bin=$WORK/v1/bin/linux_$arch/tanglegate
	size=$(stat -c %s "$bin")
	awk -v a="$arch" -v s="$size" 'BEGIN { printf "%-6s %10d bytes  %5.2f MB\n", a, s, s / 1e6 }'
	[ "$size" -le "$MAX_BINARY_BYTES" ] || fail "$arch binary is $size bytes, over $MAX_BINARY_BYTES"
done
ok "every binary is within the size limit"

step "lintian"
for deb in "$WORK"/v1/*.deb; do
	echo "--- $(basename "$deb")"
	if ! lintian --allow-root --fail-on error --display-info "$deb"; then
		fail "lintian reports errors for $(basename "$deb")"
	fi
done
ok "lintian: no errors"

AMD64_DEB1=$WORK/v1/tanglegate_${DEB1}_amd64.deb
AMD64_DEB2=$WORK/v2/tanglegate_${DEB2}_amd64.deb
BIN=/usr/bin/tanglegate
STATE=/var/lib/tanglegate

step "install $DEB1 (systemd is not PID 1 here: $( [ -d /run/systemd/system ] && echo running || echo not running))"
dpkg -i "$AMD64_DEB1"
[ "$(dpkg-query -W -f='${Version}' tanglegate)" = "$DEB1" ] || fail "installed version is not $DEB1"
getent passwd tanglegate >/dev/null || fail "no tanglegate user"
[ "$(getent passwd tanglegate | cut -d: -f7)" = /usr/sbin/nologin ] || fail "tanglegate user has a login shell"
id -nG tanglegate | tr ' ' '\n' | grep -x dialout >/dev/null || fail "tanglegate is not in dialout"
[ "$(stat -c '%U:%G %a' $STATE)" = "tanglegate:tanglegate 750" ] || fail "$STATE is $(stat -c '%U:%G %a' $STATE)"
[ "$(stat -c '%U:%G %a' $STATE/seed)" = "tanglegate:tanglegate 600" ] || fail "seed is $(stat -c '%U:%G %a' $STATE/seed)"
grep -qxE '[9A-Z]{81}' $STATE/seed || fail "seed is not 81 trytes"
[ "$(wc -l <$STATE/seed)" = 1 ] || fail "seed is not one line"
[ -f /etc/tanglegate/gateway.yaml ] || fail "no /etc/tanglegate/gateway.yaml"
[ -f /etc/tanglegate/rules.d/pump.yaml.example ] || fail "no rules.d example"
[ -L /etc/systemd/system/multi-user.target.wants/tanglegate.service ] || fail "unit not enabled"
ok "user tanglegate (dialout), $STATE 0750, seed 0600 with 81 trytes, conffiles, unit enabled"
SEED_SUM=$(sha256sum <$STATE/seed)

step "systemd-analyze verify"
out=$(systemd-analyze verify /lib/systemd/system/tanglegate.service 2>&1) || fail "systemd-analyze verify: $out"
if [ -n "$out" ]; then
	echo "$out"
	if grep -q tanglegate.service <<<"$out"; then fail "systemd-analyze verify complains about tanglegate.service"; fi
fi
ok "systemd-analyze verify accepts tanglegate.service"
if systemd-analyze security --help 2>/dev/null | grep -- --offline >/dev/null; then
	systemd-analyze security --offline=true /lib/systemd/system/tanglegate.service 2>/dev/null | tail -1 || true
fi

step "run as the tanglegate user against the installed config and state"
if has_cmd $BIN check; then
	runuser -u tanglegate -- $BIN check --config /etc/tanglegate/gateway.yaml || fail "tanglegate check fails on the installed config"
	ok "tanglegate check --config /etc/tanglegate/gateway.yaml passes as user tanglegate"
else
	skip "tanglegate check: subcommand not in this binary yet"
fi
runuser -u tanglegate -- $BIN version
if has_cmd $BIN tools address; then
	runuser -u tanglegate -- $BIN tools address --seed-file $STATE/seed --index 0 >"$WORK/address-installed" \
		|| fail "tools address cannot read the seed as user tanglegate"
	grep -qxE '[9A-Z]{81}' "$WORK/address-installed" || fail "tools address printed $(cat "$WORK/address-installed")"
	if runuser -u nobody -- $BIN tools address --seed-file $STATE/seed --index 0 >/dev/null 2>&1; then
		fail "user nobody can read the seed"
	fi
	ok "tools address reads the 0600 seed as tanglegate (and not as nobody)"
else
	skip "tools address on the installed seed: subcommand not in this binary yet"
fi
if has_cmd $BIN run; then
	# `run` must come up and keep running as the service user, with the unit's
	# working directory, until the timeout stops it (exit 124).
	rc=0
	(cd $STATE && timeout --signal=TERM 5 runuser -u tanglegate -- $BIN run --config /etc/tanglegate/gateway.yaml) \
		>"$WORK/run.log" 2>&1 || rc=$?
	cat "$WORK/run.log" | tail -20
	bad=$(find $STATE ! -user tanglegate | head -5)
	[ -z "$bad" ] || fail "files in $STATE not owned by tanglegate: $bad"
	ls -la $STATE
	if [ "$rc" = 124 ] || [ "$rc" = 0 ]; then
		ok "tanglegate run ran for 5 s as tanglegate; everything in $STATE belongs to tanglegate"
	else
		fail_later "tanglegate run exited with $rc before the timeout (log: $WORK/run.log)"
	fi
else
	skip "tanglegate run as the service user: subcommand not in this binary yet"
fi
runuser -u tanglegate -- sh -c "echo marker >$STATE/package-test-marker"

step "upgrade to $DEB2 keeps state and edited conffiles"
echo "# edited by package-test" >>/etc/tanglegate/gateway.yaml
dpkg -i "$AMD64_DEB2"
[ "$(dpkg-query -W -f='${Version}' tanglegate)" = "$DEB2" ] || fail "upgrade did not install $DEB2"
[ "$(sha256sum <$STATE/seed)" = "$SEED_SUM" ] || fail "upgrade changed the seed"
[ -f $STATE/package-test-marker ] || fail "upgrade lost $STATE/package-test-marker"
grep -q '^# edited by package-test$' /etc/tanglegate/gateway.yaml || fail "upgrade replaced the edited gateway.yaml"
grep -F "$VERSION2" <<<"$($BIN version)" >/dev/null || fail "the upgraded binary does not report $VERSION2"
ok "seed, state and edited gateway.yaml kept; binary reports $VERSION2"

step "remove keeps state"
dpkg -r tanglegate
[ ! -e $BIN ] || fail "remove left $BIN"
[ "$(dpkg-query -W -f='${Status}' tanglegate)" = "deinstall ok config-files" ] || fail "status after remove: $(dpkg-query -W -f='${Status}' tanglegate)"
[ "$(sha256sum <$STATE/seed)" = "$SEED_SUM" ] || fail "remove changed or deleted the seed"
[ -f $STATE/package-test-marker ] || fail "remove lost the state dir"
[ -f /etc/tanglegate/gateway.yaml ] || fail "remove deleted the conffile"
ok "binary gone; seed, state and config kept"

step "reinstall keeps the old seed"
dpkg -i "$AMD64_DEB2"
[ "$(sha256sum <$STATE/seed)" = "$SEED_SUM" ] || fail "reinstall generated a new seed"
ok "seed generated once"

step "purge deletes state"
dpkg --purge tanglegate
[ ! -e $STATE ] || fail "purge left $STATE"
[ ! -e /etc/tanglegate/gateway.yaml ] || fail "purge left gateway.yaml"
[ ! -e /etc/systemd/system/multi-user.target.wants/tanglegate.service ] || fail "purge left the enable symlink"
! dpkg-query -W -f='${Status}' tanglegate 2>/dev/null | grep -E ' (installed|config-files)$' >/dev/null || fail "purge left the package"
getent passwd tanglegate >/dev/null || fail "purge deleted the tanglegate user (it should stay, see README.Debian)"
ok "$STATE and conffiles deleted, user kept"

step "arm64 and armhf under qemu-user-static print what amd64 prints"
printf '%s\n' "$TEST_SEED" >"$WORK/test.seed"
# probe runs the checks of one binary (optionally through qemu) and prints
# their output with the platform in `version` replaced by PLATFORM.
probe() {
	local run=("$@")
	"${run[@]}" version | sed -E 's#linux/[a-z0-9]+$#linux/PLATFORM#'
	if has_cmd "$WORK/v1/bin/linux_amd64/tanglegate" tools address; then
		"${run[@]}" tools address --seed-file "$WORK/test.seed" --index 0 --count 2 --checksum
	fi
	if has_cmd "$WORK/v1/bin/linux_amd64/tanglegate" tools pow; then
		# The portable Go kernel with one worker is deterministic: the same nonce everywhere.
		local tx
		tx=$(printf 'TANGLEGATE9PACKAGE9TEST9%.0s' {1..112})
		tx=${tx:0:2673}
		echo "pow --impl go nonce: $("${run[@]}" tools pow --mwm 9 --impl go --threads 1 <<<"$tx" | cut -c 2647-)"
		# The native kernel (SIMD where the CPU has it) finds some nonce; check its weight.
		local hash
		hash=$("${run[@]}" tools pow --mwm 9 <<<"$tx" | "${run[@]}" tools hash)
		echo "pow --impl auto: hash ends in 999 (mwm 9): $([[ $hash == *999 ]] && echo yes || echo "no: $hash")"
	fi
}
has_cmd "$WORK/v1/bin/linux_amd64/tanglegate" tools address || skip "qemu: tools address not in this binary yet"
has_cmd "$WORK/v1/bin/linux_amd64/tanglegate" tools pow || skip "qemu: tools pow (PoW self-test) not in this binary yet"
probe "$WORK/v1/bin/linux_amd64/tanglegate" >"$WORK/probe-amd64"
cat "$WORK/probe-amd64"
for q in "arm64 qemu-aarch64-static" "armhf qemu-arm-static"; do
	set -- $q
	probe "$2" "$WORK/v1/bin/linux_$1/tanglegate" >"$WORK/probe-$1"
	diff -u "$WORK/probe-amd64" "$WORK/probe-$1" || fail "$1 output differs from amd64"
	ok "$1 under $2: identical output ($(wc -l <"$WORK/probe-$1") lines)"
done

step "OCI image: skopeo inspect, umoci unpack, non-root run"
TAR=$(ls "$WORK"/v1/tanglegate_*_oci.tar)
TAG=$(tar -xOf "$TAR" index.json | jq -r '.manifests[] | select(.mediaType == "application/vnd.oci.image.index.v1+json") | .annotations["org.opencontainers.image.ref.name"]')
[ -n "$TAG" ] || fail "no image index tag in $TAR"
skopeo inspect --raw "oci-archive:$TAR:$TAG" | jq -r '.manifests[].platform | "\(.os)/\(.architecture)\(if .variant then "/" + .variant else "" end)"' | sort >"$WORK/platforms"
[ "$(tr '\n' ' ' <"$WORK/platforms")" = "linux/amd64 linux/arm/v7 linux/arm64 " ] || fail "index platforms: $(cat "$WORK/platforms")"
for p in "amd64 amd64 ''" "arm64 arm64 ''" "arm arm v7"; do
	eval "set -- $p"
	args=(--override-os linux --override-arch "$2")
	[ -z "$3" ] || args+=(--override-variant "$3")
	skopeo inspect "${args[@]}" "oci-archive:$TAR:$TAG" >"$WORK/inspect-$1.json"
	[ "$(jq -r .Architecture "$WORK/inspect-$1.json")" = "$2" ] || fail "skopeo inspect $1: wrong architecture"
done
cfg=$(skopeo inspect --config "oci-archive:$TAR:$TAG")
echo "$cfg" | jq -c '.config | {User, Entrypoint, Cmd, Volumes, ExposedPorts}'
[ "$(echo "$cfg" | jq -r .config.User)" = "10001:10001" ] || fail "image user is not 10001:10001"
echo "$cfg" | jq -e '.config.Volumes["/var/lib/tanglegate"]' >/dev/null || fail "no /var/lib/tanglegate volume"
ok "skopeo: index with linux/amd64, linux/arm64, linux/arm/v7; user 10001, volume"

mkdir -p "$WORK/layout"
tar -xf "$TAR" -C "$WORK/layout"
# skopeo shows the config through the OCI struct, which has no Healthcheck (a
# Docker extension that Docker and Podman honour): read it from the blob.
blob() { echo "$WORK/layout/blobs/${1/://}"; }
mdigest=$(jq -r --arg t "$TAG-amd64" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$WORK/layout/index.json")
hc=$(jq -c .config.Healthcheck "$(blob "$(jq -r .config.digest "$(blob "$mdigest")")")")
echo "Healthcheck: $hc"
[ "$(jq -c .Test <<<"$hc")" = '["CMD","/usr/bin/tanglegate","version"]' ] || fail "no health check in the image config"
for arch in amd64 arm64; do
	umoci unpack --image "$WORK/layout:$TAG-$arch" "$WORK/bundle-$arch" >/dev/null
done
RFS=$WORK/bundle-amd64/rootfs
[ "$(jq -r '.process.user | "\(.uid):\(.gid)"' "$WORK/bundle-amd64/config.json")" = "10001:10001" ] || fail "runtime config user is not 10001"
for f in usr/bin/tanglegate etc/passwd etc/group etc/ssl/certs/ca-certificates.crt etc/tanglegate/gateway.yaml; do
	[ -f "$RFS/$f" ] || fail "rootfs lacks /$f"
done
[ "$(stat -c '%u %a' "$RFS/var/lib/tanglegate")" = "10001 750" ] || fail "rootfs /var/lib/tanglegate is $(stat -c '%u %a' "$RFS/var/lib/tanglegate")"
img_version=$(setpriv --reuid=10001 --regid=10001 --clear-groups --no-new-privs "$RFS/usr/bin/tanglegate" version)
chroot_version=$(chroot --userspec=10001:10001 --groups= "$RFS" /usr/bin/tanglegate version)
host_version=$("$WORK/v1/bin/linux_amd64/tanglegate" version)
echo "$img_version"
[ "$img_version" = "$host_version" ] && [ "$chroot_version" = "$host_version" ] || fail "image binary prints '$img_version' / '$chroot_version', want '$host_version'"
arm_version=$(qemu-aarch64-static "$WORK/bundle-arm64/rootfs/usr/bin/tanglegate" version)
[ "${arm_version% *}" = "${host_version% *}" ] || fail "arm64 image binary prints '$arm_version'"
ok "umoci unpack; amd64 rootfs runs 'tanglegate version' as uid 10001 (setpriv, and chroot into the rootfs); arm64 rootfs under qemu"

step "summary"
echo "packages: $(cd "$WORK/v1" && ls *.deb *.tar | tr '\n' ' ')"
for arch in amd64 arm64 armhf; do
	printf 'binary %-6s %d bytes\n' "$arch" "$(stat -c %s "$WORK/v1/bin/linux_$arch/tanglegate")"
done
if [ ${#SKIPPED[@]} -gt 0 ]; then
	echo "skipped (subcommands not built yet):"
	printf '  - %s\n' "${SKIPPED[@]}"
fi
if [ ${#FAILED[@]} -gt 0 ]; then
	echo "FAILED:"
	printf '  - %s\n' "${FAILED[@]}"
	exit 1
fi
echo "PASS package-test"
