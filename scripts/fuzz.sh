#!/usr/bin/env bash
# Runs every native Go fuzz target in the module briefly (FUZZTIME each, default 5s).
# Targets are discovered with `go test -list`, so new ones are picked up automatically.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
status=0
for pkg in $(go list ./...); do
	targets=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
	for t in $targets; do
		echo "fuzz $pkg $t ($fuzztime)"
		if ! go test -run '^$' -fuzz "^${t}\$" -fuzztime "$fuzztime" "$pkg" >/tmp/fuzz.$$.log 2>&1; then
			cat /tmp/fuzz.$$.log
			echo "FAIL: fuzz target $pkg $t (a failing input was written under testdata/fuzz/$t)"
			status=1
		fi
	done
done
rm -f /tmp/fuzz.$$.log
exit $status
