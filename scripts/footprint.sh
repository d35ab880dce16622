#!/bin/sh
# Idle footprint of `tanglegate run` (issue 8, acceptance 4): 20 simulated
# Modbus devices polled every second plus the local node. Builds the binary,
# runs it as a child process, waits WARMUP, then measures RSS and CPU% of one
# core over WINDOW. Prints one "footprint: ..." line; exits 1 over budget
# (80 MB RSS, 10% of one core).
#
#   scripts/footprint.sh [WARMUP [WINDOW]]     defaults: 30s 60s
set -eu
cd "$(dirname "$0")/.."
TANGLEGATE_FOOTPRINT=1 \
TANGLEGATE_FOOTPRINT_WARMUP="${1:-30s}" \
TANGLEGATE_FOOTPRINT_WINDOW="${2:-60s}" \
	go test -count=1 -run '^TestFootprint$' -v -timeout 30m ./cmd/gateway/ | grep -E '^(footprint:|--- |FAIL|ok|\s+footprint_test)'
