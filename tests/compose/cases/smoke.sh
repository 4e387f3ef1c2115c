# Case "smoke" (was tests/compose/smoke.sh): the stack comes up healthy, the
# edge lists every proxy, REST answers through the api service, SIP OPTIONS
# and an INVITE to an unknown number go edge → proxy → bus → callctl and back;
# a stray response is relayed by neither the edge nor a proxy.
# Also creates the numbers the other cases call:
#   +14155550100 → <Hangup/>   +14155550101 → <Hangup/> answered 4 s late
#   +1415555017N (N = 0-3, 5) → <Dial> to sip:callee@peer:507N, StatusCallback
#   /status/parent
case_smoke() {
	local s=$SECONDS n c bad final code
	wait_until 120 all_healthy
	n=$(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | wc -l)
	bad=$(unhealthy_list)
	# redis, rtpengine, N proxies, M callctl, edge, api, webhook, peer
	verdict $([ -z "$bad" ] && [ "$n" -eq $((NPROXY + NCALLCTL + 6)) ]; echo $?) \
		"all $n containers running and healthy after $((SECONDS - s)) s${bad:+ (not healthy: $bad)}"
	timing "healthy $((SECONDS - s)) s"

	wait_until 30 edge_lists_all
	verdict $? "edge dispatches to the $(ids proxy | wc -l) running proxies:$(edge_list)"

	creds_load
	verdict $? "credentials from the callctl volume (AccountSid ${ACCOUNT_SID:-none})"
	code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$FULCRUM_API_PORT/health")
	verdict $([ "$code" = 200 ]; echo $?) "GET /health via api: $code"
	code=$(create_number +14155550100 /voice/hangup)
	bad=""
	c=$(create_number +14155550101 "/voice/hangup?sleep=4")
	[ "$c" = 201 ] || bad+=" +14155550101:$c"
	for n in 0 1 2 3 5; do
		c=$(create_number "+1415555017$n" "/voice/dial/507$n" -d StatusCallback=http://webhook:8000/status/parent)
		[ "$c" = 201 ] || bad+=" +1415555017$n:$c"
	done
	verdict $([ "$code" = 201 ] && [ -z "$bad" ]; echo $?) "POST IncomingPhoneNumbers: $code$bad"
	# Every callctl answers behind the one port (HAProxy round robin).
	bad=""
	for n in 1 2 3 4; do
		code=$(rest_to "$logs/calls-list.json" GET Calls.json)
		[ "$code" = 200 ] || bad+=" $code"
	done
	verdict $([ -z "$bad" ]; echo $?) "GET Calls.json ×4 through api: ${bad:-all 200}"

	if caller_run options tests/compose/sipp/options.xml smoke -m 1; then
		ok "OPTIONS via edge: 200 ($(grep -m1 -i '^Server:' "$logs/options-messages.log" | tr -d '\r'))"
	else
		ko "OPTIONS via edge (see $logs/options-*.log)"
	fi
	# A response that matches no transaction is dropped by the edge (both
	# sides) and by a proxy, never relayed along its Via (reflection).
	local e p1 out
	bad=""
	e=$(one edge)
	p1=$(one proxy)
	for target in "$(cip "$e") $FULCRUM_SIP_PORT" "$(cip "$e") ${FULCRUM_EDGE_INT_PORT:-5080}" "$(cip "$p1") 5060"; do
		# shellcheck disable=SC2086
		out=$(peer_check stray $target)
		[ "$out" = dropped ] || bad+=" [$target: $out]"
	done
	verdict $([ -z "$bad" ]; echo $?) "stray responses to the edge (EXT, INT) and a proxy dropped${bad:+:$bad}"
	caller_run unknown tests/e2e/sipp/uac_invite.xml +14155550199 -m 1 -d 200
	final=$(grep -E '^SIP/2.0 [2-6][0-9][0-9]' "$logs/unknown-messages.log" | grep -v ' 100 ' | head -n1 | tr -d '\r')
	verdict $([[ "$final" == "SIP/2.0 404"* ]]; echo $?) "INVITE to an unknown number: ${final:-no final answer}"
}
