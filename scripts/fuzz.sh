#!/usr/bin/env bash
# Runs every native Go fuzz target in the module briefly (FUZZTIME each, default 5s).
# Targets are discovered with `go test -list`, so new ones are picked up automatically.
#
# A crash or a failed check always makes the fuzzer write the input to
# testdata/fuzz/<target>/ ("Failing input written to ..."): that fails the run.
# The Go fuzzing engine itself sometimes ends a short run with only "context
# deadline exceeded" and no input (golang/go#48127, #56238); such a run is
# retried once and, if it happens again without an input, reported as a warning.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-5s}
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fuzz() { go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" "$1" >"$log" 2>&1; }
for pkg in $(go list ./...); do
	targets=$(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true)
	for t in $targets; do
		echo "fuzz $pkg $t ($fuzztime)"
		if fuzz "$pkg" "$t"; then
			continue
		fi
		if ! grep -q "Failing input written to" "$log"; then
			echo "  engine hiccup without a failing input, retrying once:"
			tail -3 "$log" | sed 's/^/    /'
			if fuzz "$pkg" "$t"; then
				continue
			fi
			if ! grep -q "Failing input written to" "$log"; then
				echo "WARNING: fuzz target $pkg $t: the engine stopped twice without a failing input:"
				tail -5 "$log" | sed 's/^/    /'
				continue
			fi
		fi
		cat "$log"
		echo "FAIL: fuzz target $pkg $t (the failing input is under testdata/fuzz/$t: run go test -run $t/ $pkg)"
		status=1
	done
done
exit $status
