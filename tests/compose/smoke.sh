#!/usr/bin/env bash
# Compose smoke test (the first slice of `make test-compose`): builds the
# images, starts the stack with 2 proxies and 2 callctl instances under its
# own project name and ports, and checks, from the host over loopback only:
#   - every container becomes healthy; the edge lists both proxies
#   - REST /health and an authenticated request through the api service
#   - SIP OPTIONS through the edge, answered by a proxy
#   - an INVITE to an unknown number: 404 decided by callctl (edge → proxy →
#     bus → callctl → command back to that proxy → edge)
#   - calls to a number whose TwiML app (tests/compose/webhook.py) says
#     <Hangup/>: answered, then BYE from Fulcrum; spread over both proxies;
#     records completed in Calls.json
# Then tears everything down (containers, network, volumes).
#
# Environment: BASE_IMAGE [fulcrum-base:bookworm, built by
# deploy/docker/base-image.sh when missing], FULCRUM_SMOKE_SIP_PORT [15060],
# FULCRUM_SMOKE_API_PORT [18080], FULCRUM_SMOKE_KEEP=1 (leave it running).
# Logs: build/compose-smoke/. Last line: "N passed, N failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
logs=$top/build/compose-smoke
mkdir -p "$logs"
rm -f "$logs"/*.log

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
finish() {
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit $?
}
t() { # name seconds → prints timing line
	echo "time: $1 $2 s"
}

engine_out=$(bash deploy/docker/engine.sh) || {
	echo "$engine_out"
	ko "docker engine"
	finish
}
compose=$(sed -n 's/^compose: //p' <<<"$engine_out")
export BASE_IMAGE=${BASE_IMAGE:-fulcrum-base:bookworm}
if [ "$BASE_IMAGE" = fulcrum-base:bookworm ]; then
	s=$SECONDS
	bash deploy/docker/base-image.sh || {
		ko "base image"
		finish
	}
	t base-image $((SECONDS - s))
fi

export COMPOSE_PROJECT_NAME=fulcrum-smoke
export FULCRUM_SIP_PORT=${FULCRUM_SMOKE_SIP_PORT:-15060}
export FULCRUM_API_PORT=${FULCRUM_SMOKE_API_PORT:-18080}
export FULCRUM_PUBLISH_ADDR=127.0.0.1
dc() { $compose -f docker-compose.yml -f tests/compose/compose.smoke.yml "$@"; }

teardown() {
	dc ps >"$logs/ps.log" 2>&1
	dc logs --no-color >"$logs/compose.log" 2>&1
	if [ "${FULCRUM_SMOKE_KEEP:-0}" = 1 ]; then
		echo "left running (project $COMPOSE_PROJECT_NAME); stop with: $compose -f docker-compose.yml -f tests/compose/compose.smoke.yml -p $COMPOSE_PROJECT_NAME down -v"
	else
		dc down -v --remove-orphans >"$logs/down.log" 2>&1 || echo "down failed (see $logs/down.log)"
	fi
}

s=$SECONDS
if dc build >"$logs/build.log" 2>&1; then
	ok "images built"
else
	tail -n 30 "$logs/build.log"
	ko "images built (see $logs/build.log)"
	finish
fi
t build $((SECONDS - s))

trap teardown EXIT
s=$SECONDS
if ! dc up -d --scale proxy=2 --scale callctl=2 >"$logs/up.log" 2>&1; then
	cat "$logs/up.log"
	ko "stack up"
	finish
fi

# ---- health: every container healthy within 90 s
deadline=$((SECONDS + 90))
while :; do
	bad=()
	for c in $(dc ps -q); do
		st=$(docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' "$c")
		read -r name state health <<<"$st"
		[ "$state" = running ] && { [ "$health" = healthy ] || [ "$health" = none ]; } || bad+=("$name:$state/$health")
	done
	[ ${#bad[@]} -eq 0 ] && break
	if [ $SECONDS -ge $deadline ]; then
		break
	fi
	sleep 2
done
n=$(dc ps -q | wc -l)
# redis, rtpengine, 2 proxies, 2 callctl, edge, api, webhook
if [ ${#bad[@]} -eq 0 ] && [ "$n" -eq 9 ]; then
	ok "all $n containers running and healthy ($((SECONDS - s)) s)"
else
	ko "containers healthy: $n containers, not healthy: ${bad[*]}"
fi

# ---- the edge knows both proxies (heartbeats every 5 s, discovery every 2 s)
deadline=$((SECONDS + 30))
while :; do
	line=$(dc logs --no-color edge 2>/dev/null | grep 'proxies now:' | tail -n 1)
	np=$(sed 's/.*proxies now://' <<<"$line" | wc -w)
	[ "$np" -eq 2 ] && break
	[ $SECONDS -ge $deadline ] && break
	sleep 1
done
if [ "$np" -eq 2 ]; then ok "edge dispatches to 2 proxies:${line#*proxies now:}"; else ko "edge proxies: '$line'"; fi

# ---- REST through the api service
api=http://127.0.0.1:$FULCRUM_API_PORT
creds=$(dc exec -T callctl cat /var/lib/fulcrum/credentials 2>/dev/null)
sid=$(sed -n 's/^FULCRUM_ACCOUNT_SID=//p' <<<"$creds" | tr -d '\r')
tok=$(sed -n 's/^FULCRUM_AUTH_TOKEN=//p' <<<"$creds" | tr -d '\r')
code=$(curl -s -o "$logs/health.out" -w '%{http_code}' -m 5 "$api/health")
[ "$code" = 200 ] && ok "GET /health via api: 200" || ko "GET /health via api: $code"
code=$(curl -s -o "$logs/number.json" -w '%{http_code}' -m 5 -u "$sid:$tok" \
	"$api/2010-04-01/Accounts/$sid/IncomingPhoneNumbers.json" \
	-d PhoneNumber=+14155550100 -d VoiceUrl=http://webhook:8000/voice)
[ "$code" = 201 ] && ok "POST IncomingPhoneNumbers: 201" || ko "POST IncomingPhoneNumbers: $code $(head -c 300 "$logs/number.json")"
# Both callctl instances answer behind the one port.
for _ in 1 2 3 4; do
	curl -s -o /dev/null -m 5 -u "$sid:$tok" "$api/2010-04-01/Accounts/$sid/Calls.json"
done

# ---- SIP from the host through the published edge port
edge=127.0.0.1:$FULCRUM_SIP_PORT
free_udp_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
sipp_run() { # name scenario ruri_user [sipp args...]
	local name=$1 sc=$2 user=$3
	shift 3
	(cd "$logs" && timeout 60 sipp -sf "$top/$sc" "$edge" -nostdin -t u1 -i 127.0.0.1 -p "$(free_udp_port)" -mp "$(free_udp_port)" \
		-trace_msg -message_file "$logs/$name-messages.log" -trace_err -error_file "$logs/$name-errors.log" \
		-timeout 30s -timeout_error -max_recv_loops 1000 \
		-key ruri_user "$user" -key ruri_host "$edge" -key from_user alice -key from_disp Alice -key hdrs "" \
		"$@" >"$logs/$name-out.log" 2>&1)
}
if sipp_run options tests/compose/sipp/options.xml smoke -m 1; then
	srv=$(grep -m1 -i '^Server:' "$logs/options-messages.log" | tr -d '\r')
	ok "OPTIONS via edge: 200 ($srv)"
else
	ko "OPTIONS via edge (see $logs/options-*.log)"
fi

sipp_run unknown tests/e2e/sipp/uac_invite.xml +14155550199 -m 1 -d 200
final=$(grep -E '^SIP/2.0 [2-6][0-9][0-9]' "$logs/unknown-messages.log" | grep -v ' 100 ' | head -n1 | tr -d '\r')
[[ "$final" == "SIP/2.0 404"* ]] && ok "INVITE to an unknown number: $final" || ko "INVITE to an unknown number: '${final:-no final answer}'"

ncalls=10
sipp_run calls tests/e2e/sipp/uac_call.xml +14155550100 -m $ncalls -r 5 -l 10 -aa -set call_ms 0 -key rtp_port 9
rc=$?
byes=$(grep -c '^BYE ' "$logs/calls-messages.log" 2>/dev/null)
[ $rc -eq 0 ] && ok "$ncalls calls answered and hung up by Fulcrum (sipp exit 0; BYEs seen: $byes)" ||
	ko "$ncalls calls: sipp exit $rc (see $logs/calls-*.log)"

# Spread: which proxy took each call (the proxy member of call.incoming events).
dc exec -T redis redis-cli --raw XRANGE fc:events - + >"$logs/events.log" 2>&1
spread=$(grep '"call.incoming"' "$logs/events.log" | grep -o '"proxy":"[^"]*"' | sort | uniq -c | awk '{printf "%s%s", sep, $0; sep=", "}')
nprox=$(grep '"call.incoming"' "$logs/events.log" | grep -o '"proxy":"[^"]*"' | sort -u | wc -l)
[ "$nprox" -ge 2 ] && ok "calls spread over $nprox proxies ($spread)" || ko "calls spread: $nprox proxies ($spread)"

curl -s -m 5 -u "$sid:$tok" "$api/2010-04-01/Accounts/$sid/Calls.json?PageSize=100" >"$logs/calls.json"
ncomp=$(grep -o '"status": *"completed"' "$logs/calls.json" | wc -l)
[ "$ncomp" -ge $ncalls ] && ok "Calls.json: $ncomp completed calls" || ko "Calls.json: $ncomp completed (want $ncalls)"

finish
