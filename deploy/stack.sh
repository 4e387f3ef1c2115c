#!/usr/bin/env bash
# Runs one Fulcrum stack on this machine: Redis, rtpengine, Kamailio with the
# fulcrum module (kamailio-module/run-kamailio.sh) and callctl.
#
#   deploy/stack.sh run      start everything, stay in the foreground; Ctrl-C
#                            (SIGINT/SIGTERM) stops everything it started
#   deploy/stack.sh start    start in the background; returns once every
#                            component passes its health check (30 s limit)
#   deploy/stack.sh stop     stop exactly the processes `start` recorded
#   deploy/stack.sh status   show the recorded processes and their health
#
# Expects a build (make all). `make run` / `make start` / `make stop` call this.
#
# Configuration (environment; defaults in brackets):
#   FULCRUM_SIP_ADDR [127.0.0.1]    FULCRUM_SIP_PORT [5060]   SIP, UDP and TCP
#   FULCRUM_API_ADDR [127.0.0.1]    FULCRUM_API_PORT [8080]   callctl REST API
#   FULCRUM_REDIS_URL [unset]       unset: start our own redis-server on
#                                   127.0.0.1:$FULCRUM_REDIS_PORT [6379], AOF
#                                   persistence in $FULCRUM_STATE_DIR/redis;
#                                   set: use that Redis, start none
#   FULCRUM_RTPENGINE_NG [unset]    unset: start our own rtpengine with its ng
#                                   control socket on
#                                   127.0.0.1:$FULCRUM_RTPENGINE_NG_PORT [2223];
#                                   set (host:port): use that rtpengine
#   FULCRUM_RTP_ADDR [$FULCRUM_SIP_ADDR]  media address of our rtpengine
#   FULCRUM_RTP_PORT_MIN [30000]    FULCRUM_RTP_PORT_MAX [30999]  RTP ports
#   FULCRUM_ACCOUNT_SID, FULCRUM_AUTH_TOKEN [unset]  unset: generated once
#                                   (AC + 32 hex / 32 hex) and kept in
#                                   $FULCRUM_STATE_DIR/credentials
#   FULCRUM_PUBLIC_URL [http://$FULCRUM_API_ADDR:$FULCRUM_API_PORT]
#   FULCRUM_LOG_LEVEL [info]        callctl log level
#   FULCRUM_STATE_DIR [./.fulcrum]  credentials, pids, logs/*.log, redis data
#   FULCRUM_SAN [0]                 1: run build/san/callctl (ASan/UBSan)
#   FULCRUM_TONES_DIR [<repo>/build/tones]  ringback WAVs (make tones),
#                                   a path on the rtpengine host
# Kamailio's own variables (FULCRUM_SIP_ADVERTISE, FULCRUM_PROXY_ID, ...) are
# documented at the top of kamailio-module/run-kamailio.sh and passed through.
#
# A second stack on the same machine needs its own ports and state dir, e.g.
#   FULCRUM_STATE_DIR=.fulcrum2 FULCRUM_SIP_PORT=5070 FULCRUM_API_PORT=8081 \
#   FULCRUM_REDIS_PORT=6380 FULCRUM_RTPENGINE_NG_PORT=2224 \
#   FULCRUM_RTP_PORT_MIN=31000 FULCRUM_RTP_PORT_MAX=31999 deploy/stack.sh start
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cd "$top"

cmd=${1:-}
case "$cmd" in
run | start | stop | status) ;;
*)
	echo "usage: $0 run|start|stop|status" >&2
	exit 2
	;;
esac

STATE=${FULCRUM_STATE_DIR:-$top/.fulcrum}
mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
LOGS=$STATE/logs
PIDS=$STATE/pids
HEALTH_TIMEOUT=${FULCRUM_HEALTH_TIMEOUT:-30}

SIP_ADDR=${FULCRUM_SIP_ADDR:-127.0.0.1}
SIP_PORT=${FULCRUM_SIP_PORT:-5060}
API_ADDR=${FULCRUM_API_ADDR:-127.0.0.1}
API_PORT=${FULCRUM_API_PORT:-8080}
RTP_MIN=${FULCRUM_RTP_PORT_MIN:-30000}
RTP_MAX=${FULCRUM_RTP_PORT_MAX:-30999}
RTP_ADDR=${FULCRUM_RTP_ADDR:-$SIP_ADDR}
if [ -n "${FULCRUM_REDIS_URL:-}" ]; then
	OWN_REDIS=0
	REDIS_URL=$FULCRUM_REDIS_URL
else
	OWN_REDIS=1
	REDIS_PORT=${FULCRUM_REDIS_PORT:-6379}
	REDIS_URL=redis://127.0.0.1:$REDIS_PORT
fi
if [ -n "${FULCRUM_RTPENGINE_NG:-}" ]; then
	OWN_RTP=0
	NG=$FULCRUM_RTPENGINE_NG
else
	OWN_RTP=1
	NG=127.0.0.1:${FULCRUM_RTPENGINE_NG_PORT:-2223}
fi
PUBLIC_URL=${FULCRUM_PUBLIC_URL:-http://$API_ADDR:$API_PORT}
if [ "${FULCRUM_SAN:-0}" = 1 ]; then
	CALLCTL_BIN=$top/build/san/callctl
else
	CALLCTL_BIN=$top/build/rel/callctl
fi
MODULE=${FULCRUM_MODULE:-$top/build/modules/fulcrum.so}

# Loopback address to probe a service bound to addr (0.0.0.0 → 127.0.0.1).
probe_addr() { case "$1" in 0.0.0.0 | '') echo 127.0.0.1 ;; ::) echo ::1 ;; *) echo "$1" ;; esac; }

say() { echo "stack: $*"; }
die() {
	echo "stack: $*" >&2
	exit 1
}

# ---------------------------------------------------------------- pids file
# One line per process we started: "name pid starttime" (starttime = field 22
# of /proc/pid/stat, so that a recycled pid is never mistaken for ours). Each
# process is started with setsid, so it leads its own process group.

proc_starttime() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# fields after "comm)": state is field 3 → starttime (22) is the 20th here
	set -- $s
	echo "${20}"
}

# True when pid is alive and is the process we recorded.
ours() {
	local pid=$1 st=$2 now
	now=$(proc_starttime "$pid") || return 1
	[ "$now" = "$st" ]
}

STARTED=() # "name pid starttime" of this invocation

launch() { # name command...
	local name=$1
	shift
	mkdir -p "$LOGS"
	echo "---- $(date '+%F %T') starting: $*" >>"$LOGS/$name.log"
	setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
	local pid=$! st=""
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		st=$(proc_starttime "$pid") && break
		sleep 0.05
	done
	STARTED+=("$name $pid ${st:-0}")
	echo "$name $pid ${st:-0}" >>"$PIDS"
}

stop_list() { # lines "name pid starttime", stopped in reverse order
	local lines=("$@") i name pid st alive=()
	for ((i = ${#lines[@]} - 1; i >= 0; i--)); do
		read -r name pid st <<<"${lines[$i]}"
		if ours "$pid" "$st"; then
			say "stopping $name (pid $pid)"
			kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
			alive+=("$name $pid $st")
		fi
	done
	local deadline=$((SECONDS + 5)) left
	while :; do
		left=()
		for l in "${alive[@]+"${alive[@]}"}"; do
			read -r name pid st <<<"$l"
			ours "$pid" "$st" && left+=("$l")
		done
		[ ${#left[@]} -eq 0 ] && break
		if [ $SECONDS -ge $deadline ]; then
			for l in "${left[@]}"; do
				read -r name pid st <<<"$l"
				say "$name (pid $pid) ignored SIGTERM for 5 s: SIGKILL"
				kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
			done
			sleep 0.2
			break
		fi
		sleep 0.1
	done
	# Reap our own children (no zombies while `run` keeps going).
	wait 2>/dev/null || true
}

# ------------------------------------------------------------ health checks

PROBE_PY='
import socket, sys, random
kind, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(1.0)
try:
    s.bind(("::1" if fam == socket.AF_INET6 else "127.0.0.1", 0) if host in ("127.0.0.1", "::1") else ("", 0))
    lp = s.getsockname()[1]
    tag = "%08x" % random.getrandbits(32)
    if kind == "ng":
        s.sendto(tag.encode() + b" d7:command4:pinge", (host, port))
        data, _ = s.recvfrom(65535)
        sys.exit(0 if data.startswith(tag.encode()) and b"pong" in data else 1)
    h = "[%s]" % host if fam == socket.AF_INET6 else host
    me = "[::1]" if fam == socket.AF_INET6 else "127.0.0.1"
    msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%s;rport\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:health@%s>;tag=%s\r\n"
           "To: <sip:%s:%d>\r\n"
           "Call-ID: health-%s@%s\r\n"
           "CSeq: 1 OPTIONS\r\n"
           "Content-Length: 0\r\n\r\n") % (h, port, me, lp, tag, me, tag, h, port, tag, me)
    s.sendto(msg.encode(), (host, port))
    while True:
        data, _ = s.recvfrom(65535)
        line = data.split(b"\r\n", 1)[0]
        if line.startswith(b"SIP/2.0 1"):
            continue
        sys.exit(0 if line.startswith(b"SIP/2.0 200") else 1)
except (OSError, socket.timeout):
    sys.exit(1)
'

check() { # component → 0 when healthy
	case "$1" in
	redis)
		if [ $OWN_REDIS = 1 ]; then
			[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
		else
			[ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = PONG ]
		fi
		;;
	rtpengine) python3 -c "$PROBE_PY" ng "$(probe_addr "${NG%:*}")" "${NG##*:}" ;;
	kamailio) python3 -c "$PROBE_PY" sip "$(probe_addr "$SIP_ADDR")" "$SIP_PORT" ;;
	callctl)
		local code
		code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
			"http://$(probe_addr "$API_ADDR"):$API_PORT/health" 2>/dev/null || true)
		[ "$code" = 200 ]
		;;
	esac
}

pid_of() { # name → "pid starttime" from STARTED, or nothing
	local l name pid st
	for l in "${STARTED[@]+"${STARTED[@]}"}"; do
		read -r name pid st <<<"$l"
		[ "$name" = "$1" ] && echo "$pid $st" && return 0
	done
	return 0
}

fail_component() { # name message
	echo "stack: $1: $2" >&2
	if [ -f "$LOGS/$1.log" ]; then
		echo "---- last lines of $LOGS/$1.log:" >&2
		tail -n 30 "$LOGS/$1.log" >&2
		echo "----" >&2
	fi
	stop_list "${STARTED[@]+"${STARTED[@]}"}"
	rm -f "$PIDS"
	exit 1
}

# Waits until every named component is healthy or the deadline passes.
wait_healthy() { # deadline(SECONDS) components...
	local deadline=$1
	shift
	local pending=("$@") next c ps pid st
	while [ ${#pending[@]} -gt 0 ]; do
		next=()
		for c in "${pending[@]}"; do
			ps=$(pid_of "$c")
			if [ -n "$ps" ]; then
				read -r pid st <<<"$ps"
				ours "$pid" "$st" || {
					wait "$pid" 2>/dev/null && rc=0 || rc=$?
					fail_component "$c" "exited during startup (status $rc)"
				}
			fi
			if check "$c"; then
				say "$c is up"
			else
				next+=("$c")
			fi
		done
		pending=("${next[@]+"${next[@]}"}")
		[ ${#pending[@]} -eq 0 ] && break
		if [ $SECONDS -ge "$deadline" ]; then
			fail_component "${pending[0]}" "no healthy answer within ${HEALTH_TIMEOUT} s"
		fi
		sleep 0.2
	done
}

# ---------------------------------------------------------------- start

port_busy() { # proto(tcp|udp) addr port → 0 when something listens there
	local flag=-ltnH
	[ "$1" = udp ] && flag=-lunH
	[ -n "$(ss $flag "sport = :$3" 2>/dev/null)" ]
}

load_credentials() {
	local f=$STATE/credentials sid="" tok=""
	if [ -f "$f" ]; then
		sid=$(sed -n 's/^FULCRUM_ACCOUNT_SID=//p' "$f")
		tok=$(sed -n 's/^FULCRUM_AUTH_TOKEN=//p' "$f")
	fi
	if [ -z "$sid" ] || [ -z "$tok" ]; then
		sid=AC$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
		tok=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
		(
			umask 077
			printf 'FULCRUM_ACCOUNT_SID=%s\nFULCRUM_AUTH_TOKEN=%s\n' "$sid" "$tok" >"$f"
		)
		say "generated credentials in $f"
	fi
	ACCOUNT_SID=${FULCRUM_ACCOUNT_SID:-$sid}
	AUTH_TOKEN=${FULCRUM_AUTH_TOKEN:-$tok}
}

start_all() {
	# Refuse to start twice.
	if [ -f "$PIDS" ]; then
		local name pid st running=0
		while read -r name pid st; do
			ours "$pid" "$st" && running=1
		done <"$PIDS"
		[ $running = 1 ] && die "already running (pids in $PIDS); run: $0 stop"
		rm -f "$PIDS"
	fi
	[ -x "$CALLCTL_BIN" ] || die "$CALLCTL_BIN not found: build first (make all)"
	[ -f "$MODULE" ] || die "$MODULE not found: build first (make all)"
	local need=(kamailio python3 curl ss setsid)
	[ $OWN_REDIS = 1 ] && need+=(redis-server redis-cli)
	[ $OWN_REDIS = 0 ] && need+=(redis-cli)
	[ $OWN_RTP = 1 ] && need+=(rtpengine)
	for b in "${need[@]}"; do
		command -v "$b" >/dev/null || die "$b not found: run deploy/install-deps.sh (as root)"
	done

	# Ports must be free: a health check must never succeed against a
	# service that is not ours.
	[ $OWN_REDIS = 1 ] && port_busy tcp 127.0.0.1 "$REDIS_PORT" &&
		die "port $REDIS_PORT/tcp (redis) is in use: set FULCRUM_REDIS_PORT or FULCRUM_REDIS_URL"
	[ $OWN_RTP = 1 ] && port_busy udp 127.0.0.1 "${NG##*:}" &&
		die "port ${NG##*:}/udp (rtpengine ng) is in use: set FULCRUM_RTPENGINE_NG_PORT or FULCRUM_RTPENGINE_NG"
	{ port_busy udp "$SIP_ADDR" "$SIP_PORT" || port_busy tcp "$SIP_ADDR" "$SIP_PORT"; } &&
		die "port $SIP_PORT (SIP) is in use: set FULCRUM_SIP_PORT"
	port_busy tcp "$API_ADDR" "$API_PORT" && die "port $API_PORT/tcp (REST API) is in use: set FULCRUM_API_PORT"

	load_credentials
	mkdir -p "$LOGS" "$STATE/run"
	export FULCRUM_SIP_ADDR=$SIP_ADDR FULCRUM_SIP_PORT=$SIP_PORT
	export FULCRUM_API_ADDR=$API_ADDR FULCRUM_API_PORT=$API_PORT
	export FULCRUM_REDIS_URL=$REDIS_URL FULCRUM_RTPENGINE_NG=$NG
	export FULCRUM_ACCOUNT_SID=$ACCOUNT_SID FULCRUM_AUTH_TOKEN=$AUTH_TOKEN
	export FULCRUM_PUBLIC_URL=$PUBLIC_URL
	export FULCRUM_LOG_LEVEL=${FULCRUM_LOG_LEVEL:-info}
	export FULCRUM_RUN_DIR=${FULCRUM_RUN_DIR:-$STATE/run}
	export FULCRUM_MODULE=$MODULE
	export FULCRUM_TONES_DIR=${FULCRUM_TONES_DIR:-$top/build/tones}

	local deadline=$((SECONDS + HEALTH_TIMEOUT))
	if [ $OWN_REDIS = 1 ]; then
		mkdir -p "$STATE/redis"
		launch redis redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
			--dir "$STATE/redis" --appendonly yes --save "" \
			--daemonize no --logfile "" --protected-mode yes
	fi
	wait_healthy "$deadline" redis
	if [ $OWN_RTP = 1 ]; then
		launch rtpengine rtpengine --config-file="$top/rtp-config/rtpengine.conf" \
			--config-section=rtpengine --foreground --table=-1 \
			--listen-ng="$NG" --interface="$RTP_ADDR" \
			--port-min="$RTP_MIN" --port-max="$RTP_MAX"
	fi
	launch callctl "$CALLCTL_BIN"
	launch kamailio bash "$top/kamailio-module/run-kamailio.sh"
	wait_healthy "$deadline" rtpengine callctl kamailio
}

banner() {
	local api=http://$(probe_addr "$API_ADDR"):$API_PORT
	cat <<EOF

Fulcrum is running
  SIP address:   sip:$SIP_ADDR:$SIP_PORT (udp, tcp)
  REST base URL: $api/2010-04-01
  AccountSid:    $ACCOUNT_SID
  AuthToken:     $AUTH_TOKEN
  Redis:         $REDIS_URL$([ $OWN_REDIS = 1 ] && echo " (ours)")
  rtpengine ng:  $NG$([ $OWN_RTP = 1 ] && echo " (ours, RTP ports $RTP_MIN-$RTP_MAX)")
  Logs:          $LOGS/*.log
  Try:           curl -u $ACCOUNT_SID:$AUTH_TOKEN $api/2010-04-01/Accounts/$ACCOUNT_SID/IncomingPhoneNumbers.json -d PhoneNumber=+14155550100 -d VoiceUrl=http://127.0.0.1:9000/voice

EOF
}

case "$cmd" in
start)
	start_all
	banner
	say "started in the background; stop with: $0 stop"
	;;
run)
	trap 'echo; say "stopping"; stop_list "${STARTED[@]+"${STARTED[@]}"}"; rm -f "$PIDS"; exit 0' INT TERM
	start_all
	banner
	say "running in the foreground; Ctrl-C stops everything"
	# Watch: any component that exits takes the stack down.
	while :; do
		for l in "${STARTED[@]}"; do
			read -r name pid st <<<"$l"
			if ! ours "$pid" "$st"; then
				wait "$pid" 2>/dev/null && rc=0 || rc=$?
				fail_component "$name" "exited unexpectedly (status $rc)"
			fi
		done
		sleep 1 &
		wait $! 2>/dev/null || true
	done
	;;
stop)
	if [ ! -f "$PIDS" ]; then
		say "nothing to stop ($PIDS not found)"
		exit 0
	fi
	mapfile -t lines <"$PIDS"
	stop_list "${lines[@]}"
	rm -f "$PIDS"
	say "stopped"
	;;
status)
	if [ ! -f "$PIDS" ]; then
		say "not running ($PIDS not found)"
		exit 3
	fi
	bad=0
	while read -r name pid st; do
		if ! ours "$pid" "$st"; then
			printf '  %-10s pid %-8s not running\n' "$name" "$pid"
			bad=1
		elif check "$name"; then
			printf '  %-10s pid %-8s running, healthy\n' "$name" "$pid"
		else
			printf '  %-10s pid %-8s running, NOT answering its health check\n' "$name" "$pid"
			bad=1
		fi
	done <"$PIDS"
	[ $OWN_REDIS = 0 ] && { check redis && echo "  redis      $REDIS_URL (external) healthy" || { echo "  redis      $REDIS_URL (external) NOT answering"; bad=1; }; }
	exit $bad
	;;
esac
