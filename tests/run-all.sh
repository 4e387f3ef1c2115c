#!/usr/bin/env bash
# Everything `make test` (and CI, through .ci/run) runs, in order:
#   1. deploy/install-deps.sh   (a fresh CI machine has nothing installed)
#   2. make all                 (callctl and the Kamailio module)
#   3. make test-unit           (unit tests, plain and ASan/UBSan builds)
#   4. make fuzz-smoke          (only when tests/fuzz has harnesses)
#   5. tests/e2e/run.py         (end-to-end tests against real stacks)
#   6. tests/compose/run.sh     (make test-compose: the Docker Compose deployment
#                                under scale and faults; "compose tests SKIPPED:
#                                <reason>" and nothing counted without an engine)
# Every stage runs even when an earlier test stage failed (a failed install
# or build stops here: nothing after it could run). Stage output is also kept
# in build/test-logs/. The last line is "N passed, N failed", adding up unit
# tests (cmocka counts), fuzzers (one each), e2e and compose tests; a stage that fails
# without reporting counts counts as one failure. Exit status 0 only when
# nothing failed.
set -uo pipefail
cd "$(dirname "$0")/.."

logs=build/test-logs
mkdir -p "$logs"
total_p=0
total_f=0
failed_stages=()
t_start=$SECONDS

stage() {
	echo
	echo "==== $* ($(date '+%H:%M:%S'))"
}

# Adds the counts of the last "N passed, N failed" line of a log; when there
# is none, a failed stage counts as one failure.
add_counts() { # log rc stage
	local line p f
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 || true)
	if [ -n "$line" ]; then
		p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
		f=$(sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
	else
		p=0
		f=0
	fi
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	[ "$2" -ne 0 ] && failed_stages+=("$3")
	return 0
}

summary() {
	echo
	echo "==== summary ($((SECONDS - t_start)) s)"
	if [ ${#failed_stages[@]} -gt 0 ]; then
		echo "failed stages: ${failed_stages[*]} (logs in $logs/)"
	fi
	echo "$total_p passed, $total_f failed"
}

run_logged() { # log command...
	local log=$1
	shift
	"$@" </dev/null 2>&1 | tee "$log"
	return "${PIPESTATUS[0]}"
}

stage "dependencies"
if ! run_logged "$logs/deps.log" bash deploy/install-deps.sh; then
	failed_stages+=(deps)
	total_f=$((total_f + 1))
	summary
	exit 1
fi

stage "build"
jobs=$(nproc 2>/dev/null || echo 2)
if ! run_logged "$logs/build.log" make -j"$jobs" all; then
	failed_stages+=(build)
	total_f=$((total_f + 1))
	summary
	exit 1
fi

stage "unit tests (plain and ASan/UBSan)"
run_logged "$logs/unit.log" make test-unit
add_counts "$logs/unit.log" $? unit

if compgen -G "tests/fuzz/fuzz_*.c" >/dev/null; then
	stage "fuzz smoke"
	run_logged "$logs/fuzz.log" make fuzz-smoke
	rc=$?
	n=$(ls tests/fuzz/fuzz_*.c | wc -l)
	ran=$(grep -cE '^fuzz: fuzz_[A-Za-z0-9_]+ for ' "$logs/fuzz.log" || true)
	if [ $rc -eq 0 ]; then
		total_p=$((total_p + n))
	else
		# make fuzz stops at the first failing fuzzer: those before it passed.
		ok=$((ran > 0 ? ran - 1 : 0))
		total_p=$((total_p + ok))
		total_f=$((total_f + 1))
		failed_stages+=(fuzz)
	fi
	echo "fuzz: $n harness(es), $([ $rc -eq 0 ] && echo all passed || echo FAILED)"
fi

stage "end-to-end tests"
run_logged "$logs/e2e.log" python3 tests/e2e/run.py
add_counts "$logs/e2e.log" $? e2e

stage "compose tests (Docker)"
run_logged "$logs/compose.log" bash tests/compose/run.sh
add_counts "$logs/compose.log" $? compose

summary
[ "$total_f" -eq 0 ]
