# Sourced by tests/compose/run.sh. Owns the helpers every case uses:
# PASS/FAIL counting, bounded waits, the compose project and its containers,
# Redis, REST, the webhook log, sipp callers on the host (through the
# published edge port) and sipp callees in the peer container.
# Expects: $top (repo), $logs (log dir), $compose (compose command),
# COMPOSE_PROJECT_NAME, FULCRUM_SIP_PORT, FULCRUM_API_PORT,
# FULCRUM_TEST_WEBHOOK_PORT exported.

passed=0
failed=0
ok() {
	echo "PASS $*"
	passed=$((passed + 1))
}
ko() {
	echo "FAIL $*"
	failed=$((failed + 1))
}
# verdict CONDITION-STATUS description: PASS when the status is 0.
verdict() {
	local st=$1
	shift
	if [ "$st" -eq 0 ]; then ok "$*"; else ko "$*"; fi
}
timing() { echo "time: $*"; }
note() { echo "  .. $*"; }

# Wall clock with microseconds, and seconds elapsed since such a value.
now() { printf '%s\n' "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b - a}'; }

# wait_until SECONDS COMMAND...: polls every 0.5 s; 0 as soon as COMMAND succeeds.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		[ $SECONDS -ge $end ] && return 1
		sleep 0.5
	done
}

q() { python3 "$top/tests/compose/q.py" "$@"; }

# ---------------------------------------------------------------- compose, docker
dc() { $compose -f "$top/docker-compose.yml" -f "$top/tests/compose/compose.test.yml" "$@"; }

# ids SERVICE [-a]: short ids (= hostnames) of the service's containers (running; -a: all).
ids() {
	docker ps -q ${2:+-a} --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" \
		--filter "label=com.docker.compose.service=$1"
}
one() { ids "$1" | head -n 1; }
cstate() { docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null; }
cip() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1" 2>/dev/null; }
started_at() { docker inspect -f '{{.State.StartedAt}}' "$1" 2>/dev/null; }
cexited() { [ "$(cstate "$1")" = exited ]; }
# finished_after CONTAINER EPOCH: seconds from EPOCH to the container's FinishedAt.
finished_after() {
	local fin
	fin=$(docker inspect -f '{{.State.FinishedAt}}' "$1")
	python3 - "$fin" "$2" <<'PY'
import sys, datetime
s = sys.argv[1].rstrip("Z")
whole, _, frac = s.partition(".")
t = datetime.datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc).timestamp()
t += float("0." + (frac or "0"))
print("%.1f" % (t - float(sys.argv[2])))
PY
}
# remove CONTAINER...: docker rm, keeping each one's log in $logs/removed-NAME.log.
remove() {
	local c
	for c in "$@"; do
		docker logs --timestamps "$c" >"$logs/removed-$(cname "$c").log" 2>&1
		docker rm "$c" >/dev/null 2>&1
	done
}
cname() { docker inspect -f '{{.Name}}' "$1" 2>/dev/null | sed 's,^/,,'; }

# Every running container of the project healthy (or without a health check).
all_healthy() {
	local c st
	for c in $(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
		st=$(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c")
		case "$st" in running/healthy | running/none) ;; *) return 1 ;; esac
	done
}
unhealthy_list() {
	local c
	for c in $(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
		docker inspect -f '{{.Name}}:{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c"
	done | grep -v -E ':running/(healthy|none)$' | sed 's,^/,,' | tr '\n' ' '
}

# rc ARGS...: redis-cli in the redis container (raw output).
rc() { docker exec -i "$(one redis)" redis-cli --raw "$@"; }

# The proxies on the edge's list: the addresses of its last "proxies now:" log line.
edge_list() { docker logs "$(one edge)" 2>&1 | grep 'proxies now:' | tail -n 1 | sed 's/.*proxies now://'; }
edge_has() { [[ " $(edge_list) " == *" sip:$1:5060 "* ]]; }   # ADDR
edge_count() { edge_list | wc -w; }
edge_lacks() { ! edge_has "$1"; }

# Proxy id of a running proxy container (hostname:port) and back.
proxy_id() { echo "$1:5060"; }
proxy_cid() { echo "${1%%:*}"; }

# proxy_legs ID: legs the proxy reports in its heartbeat (fc:proxy:{id}).
proxy_legs() { rc GET "fc:proxy:$1" | q get legs; }
# legproxy SID...: "sid proxy" from the first bus event of each leg.
legproxy() { rc XRANGE fc:events - + | q legproxy "$@"; }

# ---------------------------------------------------------------- REST
api=""
creds_load() {
	local c
	c=$(docker exec "$(one callctl)" cat /var/lib/fulcrum/credentials 2>/dev/null)
	ACCOUNT_SID=$(sed -n 's/^FULCRUM_ACCOUNT_SID=//p' <<<"$c" | tr -d '\r')
	AUTH_TOKEN=$(sed -n 's/^FULCRUM_AUTH_TOKEN=//p' <<<"$c" | tr -d '\r')
	api=http://127.0.0.1:$FULCRUM_API_PORT/2010-04-01/Accounts/$ACCOUNT_SID
	[ -n "$ACCOUNT_SID" ] && [ -n "$AUTH_TOKEN" ]
}
# rest_to FILE METHOD PATH [curl args]: body into FILE, prints the HTTP code.
rest_to() {
	local f=$1 m=$2 p=$3
	shift 3
	curl -s -m 5 -o "$f" -w '%{http_code}' -X "$m" -u "$ACCOUNT_SID:$AUTH_TOKEN" "$api/$p" "$@"
}
# rest METHOD PATH [curl args]: body on stdout.
rest() {
	local m=$1 p=$2
	shift 2
	curl -s -m 5 -X "$m" -u "$ACCOUNT_SID:$AUTH_TOKEN" "$api/$p" "$@"
}
call_status() { rest GET "Calls/$1.json" | q get status; }
# children SID: "sid status parent" of the legs dialled from SID.
children() { rest GET "Calls.json?ParentCallSid=$1&PageSize=50" | q calls; }
# final STATUS: a call status that is final.
is_final() { case "$1" in completed | failed | busy | no-answer | canceled) return 0 ;; esac; return 1; }
# calls_final SID...: every call (and each of its dialled legs) has a final status.
calls_final() {
	local s st line
	for s in "$@"; do
		st=$(call_status "$s")
		is_final "$st" || return 1
		while read -r _ st _; do
			[ -z "$st" ] || is_final "$st" || return 1
		done < <(children "$s")
	done
}
# calls_status_is STATUS SID...: each call and each of its dialled legs has STATUS;
# prints what differs.
calls_status_is() {
	local want=$1 s st bad=""
	shift
	for s in "$@"; do
		st=$(call_status "$s")
		[ "$st" = "$want" ] || bad+=" $s:${st:-?}"
		while read -r k st _; do
			[ -z "$k" ] || [ "$st" = "$want" ] || bad+=" $k(child):${st:-?}"
		done < <(children "$s")
	done
	[ -z "$bad" ] || echo "$bad"
	[ -z "$bad" ]
}

create_number() { # NUMBER VOICE_PATH [curl args]: prints the HTTP code
	local n=$1 p=$2
	shift 2
	rest_to "$logs/number-$n.json" POST IncomingPhoneNumbers.json \
		--data-urlencode "PhoneNumber=$n" -d "VoiceUrl=http://webhook:8000$p" "$@"
}

# ---------------------------------------------------------------- webhook log
hooks_json() { curl -s -m 5 "http://127.0.0.1:$FULCRUM_TEST_WEBHOOK_PORT/log"; }
# hooks [--since T] [--field F] KEY=VALUE...: matching requests' field, one per line.
hooks() { hooks_json | q hooks "$@"; }
hooks_count() { hooks "$@" | grep -c .; }

# callbacks_once PARENT_SID...: the number's StatusCallback got "completed" once
# per call; each dialled leg's noun callback got initiated, ringing, answered
# (in-progress) and completed once each. Prints what differs.
callbacks_once() {
	local s k n st bad="" j
	j=$(hooks_json)
	for s in "$@"; do
		n=$(q hooks path=/status/parent CallSid="$s" CallStatus=completed <<<"$j" | grep -c .)
		[ "$n" -eq 1 ] || bad+=" $s:parent-completed×$n"
		for k in $(q hooks path=/status/child ParentCallSid="$s" <<<"$j" | sort -u); do
			for st in initiated ringing in-progress completed; do
				n=$(q hooks path=/status/child CallSid="$k" CallStatus=$st <<<"$j" | grep -c .)
				[ "$n" -eq 1 ] || bad+=" $k:$st×$n"
			done
		done
		[ -n "$(q hooks path=/status/child ParentCallSid="$s" <<<"$j")" ] || bad+=" $s:no-child-callbacks"
	done
	[ -z "$bad" ] || echo "$bad"
	[ -z "$bad" ]
}

# ---------------------------------------------------------------- SIP callers (host)
edge=127.0.0.1:$FULCRUM_SIP_PORT
declare -A CALLER_PID CALLER_PORT
free_udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# sipp_argv NAME SCENARIO USER PORT: the common sipp command line, in SIPP.
sipp_argv() {
	SIPP=(sipp -sf "$top/$2" "$edge" -nostdin -t u1 -i 127.0.0.1 -p "$4" -mp "$(free_udp_port)"
		-trace_msg -message_file "$logs/$1-messages.log" -trace_err -error_file "$logs/$1-errors.log"
		-timeout_error -max_recv_loops 1000 -key ruri_user "$3" -key ruri_host "$edge"
		-key from_user alice -key from_disp Alice -key hdrs "" -key rtp_port 9)
}
# caller_run NAME SCENARIO USER [sipp args]: in the foreground (at most 60 s); sipp's status.
caller_run() {
	local name=$1 sc=$2 user=$3
	shift 3
	sipp_argv "$name" "$sc" "$user" "$(free_udp_port)"
	(cd "$logs" && timeout -k 5 60 "${SIPP[@]}" -timeout 50s "$@" >"$logs/$name-out.log" 2>&1)
}
# caller_start NAME USER SECONDS [sipp args]: sipp/uac_talk.xml in the background, for
# SECONDS at most; it hangs up on caller_hangup, or when Fulcrum sends BYE.
caller_start() {
	local name=$1 user=$2 limit=$3 port
	shift 3
	port=$(free_udp_port)
	sipp_argv "$name" tests/compose/sipp/uac_talk.xml "$user" "$port"
	(cd "$logs" && exec timeout -k 5 "$limit" "${SIPP[@]}" -timeout "$((limit - 2))s" -set call_ms 0 "$@" \
		>"$logs/$name-out.log" 2>&1) &
	CALLER_PID[$name]=$!
	CALLER_PORT[$name]=$port
}
# caller_callids NAME: Call-IDs of the INVITEs it sent.
caller_callids() { q callids "$logs/$1-messages.log"; }
# caller_hangup NAME [CALLID...]: makes the caller send BYE in those calls (all by default).
caller_hangup() {
	local name=$1 c
	shift
	local cids=("$@")
	[ ${#cids[@]} -gt 0 ] || mapfile -t cids < <(caller_callids "$name")
	for c in "${cids[@]}"; do
		[ -n "$c" ] && python3 "$top/tests/compose/sipcheck.py" poke 127.0.0.1 "${CALLER_PORT[$name]}" "$c"
	done
}
# caller_wait NAME SECONDS: sipp's exit status (124 and killed when still running).
caller_wait() {
	local name=$1 pid=${CALLER_PID[$1]:-}
	[ -n "$pid" ] || return 127
	if ! wait_until "$2" not_running "$pid"; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		unset "CALLER_PID[$name]"
		return 124
	fi
	wait "$pid"
	local st=$?
	unset "CALLER_PID[$name]"
	return $st
}
not_running() { ! kill -0 "$1" 2>/dev/null; }
callers_kill() { # every caller still running (teardown)
	local n
	for n in "${!CALLER_PID[@]}"; do
		kill "${CALLER_PID[$n]}" 2>/dev/null
	done
}
# caller_sip NAME sent|received WHAT: Call-IDs with such a message in its trace.
caller_sip() { q sip "$logs/$1-messages.log" "$2" "$3"; }

# ---------------------------------------------------------------- SIP callees (peer container)
peer() { one peer; }
# uas_start NAME PORT [sipp args]: sipp UAS (answers, waits for BYE) on peer:PORT.
uas_start() { docker exec -d "$(peer)" bash /app/peer-uas.sh "$@"; }
uas_stop() { docker exec "$(peer)" sh -c "kill \$(cat /tmp/peer/$1.pid) 2>/dev/null" || true; }
uas_fetch() { docker exec "$(peer)" cat "/tmp/peer/$1-messages.log" >"$logs/peer-$1-messages.log" 2>/dev/null; }
# uas_sip NAME sent|received WHAT: Call-IDs with such a message in the callee's trace.
uas_sip() {
	uas_fetch "$1"
	q sip "$logs/peer-$1-messages.log" "$2" "$3"
}
uas_count() { uas_sip "$@" | grep -c .; }
# peer_uac_start NAME PORT ADDR USER [sipp args]: callers in the peer container
# sent straight to the proxy at ADDR:5060 (peer-uac.sh, sipp/uac_talk.xml).
peer_uac_start() { docker exec -d "$(peer)" bash /app/peer-uac.sh "$1" "$2" "$3:5060" "${@:4}"; }
# peer_uac_hangup NAME PORT: each of its calls hangs up.
peer_uac_hangup() {
	local c p
	p=$(peer)
	uas_fetch "$1"
	for c in $(q callids "$logs/peer-$1-messages.log"); do
		docker exec "$p" python3 /app/sipcheck.py poke "$(cip "$p")" "$2" "$c"
	done
}
# peer_rc NAME: exit status of a peer sipp that has ended ("" while it runs).
peer_rc() { docker exec "$(peer)" cat "/tmp/peer/$1.rc" 2>/dev/null; }
peer_done() { [ -n "$(peer_rc "$1")" ]; }
# peer_check ARGS: tests/compose/sipcheck.py inside the peer container.
peer_check() { docker exec "$(peer)" python3 /app/sipcheck.py "$@"; }

# ---------------------------------------------------------------- one bridged call
# oldest_proxy: the proxy container up longest (not one an earlier case restarted).
oldest_proxy() {
	local c
	for c in $(ids proxy); do echo "$(started_at "$c") $c"; done | sort | head -n 1 | awk '{print $2}'
}
# bridged_edge UAS PORT UAS_SECS CALLER USER CALLER_SECS: the callee UAS in the
# peer container on PORT (for UAS_SECS at most) and one call to USER from a
# host caller through the edge (caller_start, CALLER_SECS). Status 0 once the
# callee got its ACK, with BR_T0 (when the call started), BR_SID (the caller's
# CallSid), BR_PROXY_ID (the proxy it runs on) and BR_PROXY (its container);
# else 1 with both ends stopped.
bridged_edge() {
	uas_start "$1" "$2" -timeout "$3s"
	BR_T0=$(now)
	caller_start "$4" "$5" "$6" -m 1
	if ! wait_until 20 uas_acked "$1" 1; then
		caller_wait "$4" 1
		uas_stop "$1"
		return 1
	fi
	BR_SID=$(hooks --since "$BR_T0" path=/voice/dial/"$2" | head -n 1)
	BR_PROXY_ID=$(legproxy "$BR_SID" | awk '{print $2}')
	BR_PROXY=$(proxy_cid "$BR_PROXY_ID")
}
# bridged_peer UAS PORT UAS_SECS CALLER CPORT PROXY USER CALLER_SECS: the same
# with the caller in the peer container (peer_uac_start, its port CPORT) sent
# straight to the proxy container PROXY; sets BR_T0 and BR_SID.
bridged_peer() {
	uas_start "$1" "$2" -timeout "$3s"
	BR_T0=$(now)
	peer_uac_start "$4" "$5" "$(cip "$6")" "$7" -m 1 -timeout "$8s"
	if ! wait_until 20 uas_acked "$1" 1; then
		uas_stop "$4"
		uas_stop "$1"
		return 1
	fi
	BR_SID=$(hooks --since "$BR_T0" path=/voice/dial/"$2" | head -n 1)
}

# ---------------------------------------------------------------- the stack
# scale_up PROXIES CALLCTL: (re)starts what is missing without touching the
# rest, then waits until everything is healthy and the edge lists every
# running proxy. Status 0 when it got there within 90 s.
scale_up() {
	dc up -d --no-recreate --scale proxy="$1" --scale callctl="$2" >>"$logs/up.log" 2>&1 || return 1
	wait_until 90 all_healthy || return 1
	wait_until 30 edge_lists_all
}
edge_lists_all() {
	local c
	[ "$(edge_count)" -eq "$(ids proxy | wc -l)" ] || return 1
	for c in $(ids proxy); do edge_has "$(cip "$c")" || return 1; done
}

# ---------------------------------------------------------------- small predicates for wait_until
elapsed_ge() { awk -v a="$1" -v b="$EPOCHREALTIME" -v n="$2" 'BEGIN{exit !(b - a >= n)}'; }
uas_acked() { [ "$(uas_count "$1" received ACK)" -ge "$2" ]; }
uas_byes() { [ "$(uas_count "$1" received BYE)" -ge "$2" ]; }
hooks_seen() { [ -n "$(hooks "$@")" ]; }
elapsed_lt() { awk -v a="$1" -v b="$EPOCHREALTIME" -v n="$2" 'BEGIN{exit !(b - a < n)}'; }
