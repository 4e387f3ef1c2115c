#!/usr/bin/env bash
# Runs every unit-test binary (test_*) in each directory given, one after the
# other, and prints one line per binary. Test counts come from cmocka's
# summary lines ("[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)"); a
# binary that fails without a cmocka summary (crash, sanitizer report,
# timeout) counts as one failed test. The last line is "N passed, N failed".
# Exit status: 0 only when every binary passed.
#
#   tests/run-unit.sh build/rel/tests build/san/tests
#
# Environment: UNIT_TIMEOUT (seconds per binary, default 120); UNIT_VERBOSE=1
# prints every binary's output, not only that of failing ones.
set -uo pipefail

timeout_s=${UNIT_TIMEOUT:-120}
passed=0
failed=0
bins=0
bad=()

if [ $# -eq 0 ]; then
	echo "usage: $0 DIR..." >&2
	exit 2
fi

for dir in "$@"; do
	if [ ! -d "$dir" ]; then
		echo "unit: $dir: no such directory (nothing built?)"
		continue
	fi
	for bin in "$dir"/test_*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		bins=$((bins + 1))
		out=$(timeout --kill-after=5 "$timeout_s" "$bin" 2>&1)
		rc=$?
		p=$(grep -E '^\[  PASSED  \] [0-9]+ test' <<<"$out" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
		f=$(grep -E '^\[  FAILED  \] [0-9]+ test' <<<"$out" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
		# "[  FAILED  ] N test(s), listed below:" is followed by one
		# "[  FAILED  ] name" line per test; only the counted lines matter.
		if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		if [ $rc -eq 0 ] && [ "$f" -eq 0 ]; then
			printf 'PASS  %s (%d tests)\n' "$bin" "$p"
			[ "${UNIT_VERBOSE:-0}" = 1 ] && sed 's/^/      /' <<<"$out"
		else
			why="exit $rc"
			[ $rc -eq 124 ] || [ $rc -eq 137 ] && why="timeout after ${timeout_s}s"
			[ $rc -gt 128 ] && [ $rc -ne 137 ] && why="killed by signal $((rc - 128))"
			printf 'FAIL  %s (%d passed, %d failed, %s)\n' "$bin" "$p" "$f" "$why"
			sed 's/^/      /' <<<"$out" | tail -n 60
			bad+=("$bin")
		fi
	done
done

if [ $bins -eq 0 ]; then
	echo "unit: no test binaries found in: $*"
fi
if [ ${#bad[@]} -gt 0 ]; then
	echo "unit: failing binaries: ${bad[*]}"
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
