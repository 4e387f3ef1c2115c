#!/usr/bin/env bash
# `make test-compose`: the compose deployment under scale and faults. Owns
# the run: engine, images, one stack under its own project name and ports,
# the cases (tests/compose/cases/*.sh) in order, teardown (down -v, also on
# failure or Ctrl-C). Last line: "N passed, N failed".
#
# Without a usable Docker engine (deploy/docker/engine.sh cannot install or
# start one) it prints "compose tests SKIPPED: <reason>" and exits 0, unless
# FULCRUM_COMPOSE_REQUIRED=1 (then that is a failure).
#
# Environment:
#   FULCRUM_COMPOSE_CASES    [smoke scale add_proxy callctl_kill upgrade proxy_drain proxy_kill double_fault redis_restart]
#   FULCRUM_COMPOSE_PROJECT  [fulcrum-ctest]  compose project name
#   FULCRUM_COMPOSE_PROXIES  [3]  proxies at the start (callctl: 2)
#   FULCRUM_COMPOSE_SIP_PORT [25060], FULCRUM_COMPOSE_API_PORT [28080],
#   FULCRUM_COMPOSE_WEBHOOK_PORT [28000]  published on 127.0.0.1
#   FULCRUM_COMPOSE_KEEP=1   leave the stack running at the end
#   BASE_IMAGE [fulcrum-base:bookworm, built by deploy/docker/base-image.sh when missing]
#   FULCRUM_TAG [ctest]      tag of the images built here
# Logs: FULCRUM_COMPOSE_LOGS [build/compose-test/].
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
logs=${FULCRUM_COMPOSE_LOGS:-$top/build/compose-test}
case "$logs" in /*) ;; *) logs=$top/$logs ;; esac
mkdir -p "$logs"
rm -rf "$logs"/*.log "$logs"/*.json "$logs"/*.time "$logs/peer"
t_start=$SECONDS

finish() {
	echo "compose tests took $((SECONDS - t_start)) s"
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
skip() {
	if [ "${FULCRUM_COMPOSE_REQUIRED:-0}" = 1 ]; then
		echo "FAIL compose tests could not run: $*"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "compose tests SKIPPED: $*"
	exit 0
}

# ---- a Docker engine (installed and started when possible)
if ! engine_out=$(bash deploy/docker/engine.sh 2>&1); then
	echo "$engine_out" | tail -n 5
	skip "no usable Docker engine ($(echo "$engine_out" | tail -n 1))"
fi
compose=$(sed -n 's/^compose: //p' <<<"$engine_out")
[ -n "$compose" ] || skip "no compose tool"
echo "$engine_out" | grep -v '^compose:' | sed 's/^/  /'
echo "compose command: $compose ($($compose version --short 2>/dev/null || $compose version 2>/dev/null | head -n 1))"

export COMPOSE_PROJECT_NAME=${FULCRUM_COMPOSE_PROJECT:-fulcrum-ctest}
export FULCRUM_SIP_PORT=${FULCRUM_COMPOSE_SIP_PORT:-25060}
export FULCRUM_API_PORT=${FULCRUM_COMPOSE_API_PORT:-28080}
export FULCRUM_TEST_WEBHOOK_PORT=${FULCRUM_COMPOSE_WEBHOOK_PORT:-28000}
export FULCRUM_PUBLISH_ADDR=127.0.0.1
export FULCRUM_TAG=${FULCRUM_TAG:-ctest}
export BASE_IMAGE=${BASE_IMAGE:-fulcrum-base:bookworm}
# Short drain for the proxy drain case (compose default: 600 s / 630 s).
export FULCRUM_DRAIN_TIMEOUT=${FULCRUM_DRAIN_TIMEOUT:-20}
export FULCRUM_STOP_GRACE=${FULCRUM_STOP_GRACE:-45s}
NPROXY=${FULCRUM_COMPOSE_PROXIES:-3}
NCALLCTL=2
cases=${FULCRUM_COMPOSE_CASES:-smoke scale add_proxy callctl_kill upgrade proxy_drain proxy_kill double_fault redis_restart}

source tests/compose/lib.sh

# ---- host tools: sipp (callers), curl (REST), python3 (helpers)
missing=()
command -v sipp >/dev/null || missing+=(sip-tester)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >"$logs/apt.log" 2>&1 ||
			{ apt-get update -q >>"$logs/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$logs/apt.log" 2>&1; }
	fi
	if ! command -v sipp >/dev/null || ! command -v curl >/dev/null; then
		ko "host tools: missing ${missing[*]} (apt-get install ${missing[*]})"
		finish
	fi
fi

# ---- images
if [ "$BASE_IMAGE" = fulcrum-base:bookworm ]; then
	s=$SECONDS
	if ! bash deploy/docker/base-image.sh >"$logs/base-image.log" 2>&1; then
		tail -n 20 "$logs/base-image.log"
		ko "base image $BASE_IMAGE (see $logs/base-image.log)"
		finish
	fi
	timing "base image $((SECONDS - s)) s ($(tail -n 1 "$logs/base-image.log"))"
fi

teardown() {
	trap - EXIT INT TERM
	callers_kill
	local p
	p=$(one peer)
	[ -n "$p" ] && docker cp "$p:/tmp/peer" "$logs/" >/dev/null 2>&1
	dc ps >"$logs/ps.log" 2>&1
	dc logs --no-color --timestamps >"$logs/compose.log" 2>&1
	if [ "${FULCRUM_COMPOSE_KEEP:-0}" = 1 ]; then
		echo "left running (project $COMPOSE_PROJECT_NAME): $compose -f docker-compose.yml -f tests/compose/compose.test.yml -p $COMPOSE_PROJECT_NAME down -v"
	else
		dc down -v --remove-orphans -t 5 >"$logs/down.log" 2>&1 || echo "down failed (see $logs/down.log)"
	fi
}

# A stack of the same project left behind by an interrupted run goes first.
dc down -v --remove-orphans -t 5 >"$logs/down-before.log" 2>&1

s=$SECONDS
if dc build >"$logs/build.log" 2>&1; then
	ok "images built ($((SECONDS - s)) s)"
	timing "build $((SECONDS - s)) s"
else
	tail -n 30 "$logs/build.log"
	ko "images built (see $logs/build.log)"
	finish
fi

trap teardown EXIT
trap 'echo "interrupted"; exit 130' INT TERM

s=$SECONDS
if ! dc up -d --scale proxy="$NPROXY" --scale callctl="$NCALLCTL" >"$logs/up.log" 2>&1; then
	cat "$logs/up.log"
	ko "stack up"
	finish
fi
timing "up $((SECONDS - s)) s (containers created)"

for tcase in $cases; do
	f=tests/compose/cases/$tcase.sh
	if [ ! -f "$f" ]; then
		ko "no such case: $tcase"
		continue
	fi
	echo "---- $tcase ($(date '+%H:%M:%S'))"
	source "$f"
	cs=$SECONDS
	"case_$tcase"
	timing "case $tcase $((SECONDS - cs)) s"
done

finish
