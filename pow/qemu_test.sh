#!/usr/bin/env bash
# Cross-compiles the pow and tangle/curl tests for arm64 and armv7 and runs
# them under qemu user emulation (Debian package qemu-user-static): the NEON
# engine, the pure-Go engine on 32-bit ARM and the bit-plane Curl.
# Usage: bash pow/qemu_test.sh        (from the repository root or anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
for q in qemu-aarch64-static qemu-arm-static; do
	command -v "$q" >/dev/null || { echo "$q not found: apt-get install -y qemu-user-static" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# MWM 14 searches are left to the native run; everything else runs.
run='Kernel|Disjoint|Alloc|MWM9|Cancel|Attach|Bad|Ended|Vectors|Transform|Batch|Hash'
status=0
for target in "arm64 qemu-aarch64-static" "arm qemu-arm-static"; do
	set -- $target
	arch=$1 qemu=$2
	for pkg in pow tangle/curl; do
		bin="$tmp/$(echo "$pkg" | tr / _).$arch.test"
		CGO_ENABLED=0 GOOS=linux GOARCH=$arch GOARM=7 go test -c -o "$bin" "./$pkg"
		echo "== $pkg on $arch (GOARM=7 for arm) under $qemu"
		if (cd "$pkg" && "$qemu" "$bin" -test.run "$run" -test.count 1 -test.short); then :; else status=1; fi
	done
done
exit $status
