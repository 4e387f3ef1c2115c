# Case "proxy_drain" (issue 6 d): `docker stop` (SIGTERM) of a proxy that
# carries a bridged call drains it (deploy/docker/proxy-entrypoint.sh):
#  1. the container keeps running; new out-of-dialog INVITEs and OPTIONS sent
#     straight to it get 503; it leaves fc:proxies and the edge's list; calls
#     created over REST go elsewhere although it is the least loaded proxy
#     (the others carry calls sent straight to them); new calls through the
#     edge all succeed on other proxies; its call goes on until the caller
#     hangs up; then the container exits (0) within seconds, long before the
#     stop grace period.
#  2. timeout: a call left up on a stopping proxy: the container exits after
#     about FULCRUM_DRAIN_TIMEOUT, the call's records end, nothing is left in
#     fc:live.
# The stopped proxies are started again at the end.
case_proxy_drain() {
	drain_part1
	drain_part2
	scale_up "$NPROXY" "$NCALLCTL"
	verdict $? "stopped proxies started again: $(ids proxy | wc -l) of $NPROXY running, on the edge's list"
}

# stop_bg CONTAINER NAME: docker stop in the background; the start and end
# times go to $logs/stop-NAME.time.
stop_bg() {
	(
		a=$EPOCHREALTIME
		docker stop "$1" >/dev/null 2>&1
		echo "$a $EPOCHREALTIME" >"$logs/stop-$2.time"
	) &
	STOP_PID=$!
}
stop_took() { awk '{printf "%.1f", $2 - $1}' "$logs/stop-$1.time" 2>/dev/null; }
not_in_fc_proxies() { [ -z "$(rc ZSCORE fc:proxies "$1")" ]; }
loaded() { # ID MIN: the proxy's heartbeat reports at least MIN legs
	local n
	n=$(proxy_legs "$1")
	[ -n "$n" ] && [ "$n" -ge "$2" ]
}

drain_part1() {
	local t0 ta s sa x xid xip p others=() grace rc st bad code sids=() rsids=() nload=0 took ex exitcode
	if ! bridged_edge dr 5071 300 drA +14155550171 150; then
		ko "drain: bridged call up (see $logs/drA-*.log)"
		return
	fi
	sa=$BR_SID xid=$BR_PROXY_ID x=$BR_PROXY
	xip=$(cip "$x")
	grace=$(docker inspect -f '{{.Config.StopTimeout}}' "$x")
	# Two calls straight to every other proxy: they carry more legs than x.
	for p in $(ids proxy); do
		[ "$p" = "$x" ] && continue
		others+=("$p")
		peer_uac_start "load-$p" $((5600 + ${#others[@]})) "$(cip "$p")" +14155550171 -m 2 -l 2 -r 10 -timeout 240s
		nload=$((nload + 2))
	done
	wait_until 20 uas_acked dr $((1 + nload))
	bad=""
	for p in "${others[@]}"; do
		wait_until 15 loaded "$(proxy_id "$p")" 4 || bad+=" $(cname "$p"):$(proxy_legs "$(proxy_id "$p")")legs,sipp-rc:$(peer_rc "load-$p")"
	done
	verdict $([ -z "$bad" ]; echo $?) "bridged call on $(cname "$x") ($xid); $nload calls sent straight to the ${#others[@]} other proxies${bad:+; legs not seen:$bad}"

	stop_bg "$x" drain
	ta=$(now)
	sleep 1.5
	st=$(cstate "$x")
	code=$(peer_check options "$xip" 5060)
	rc=$(peer_check invite "$xip" 5060 +14155550100)
	verdict $([ "$st" = running ] && [[ "$code" == "SIP/2.0 503"* ]] && [[ "$rc" == "SIP/2.0 503"* ]]; echo $?) \
		"draining proxy still running ($st); answers OPTIONS: $code; new INVITE: $rc"
	wait_until 10 not_in_fc_proxies "$xid"
	rc=$?
	timing "draining proxy out of fc:proxies after $(since "$ta") s"
	verdict $rc "draining proxy left fc:proxies ($(since "$ta") s after docker stop)"
	wait_until 15 edge_lacks "$xip"
	rc=$?
	timing "draining proxy off the edge's list after $(since "$ta") s"
	verdict $rc "edge dropped the draining proxy after $(since "$ta") s:$(edge_list)"

	# Calls created over REST while it drains (callee: another UAS).
	uas_start dr-rest 5074 -timeout 120s
	t0=$(now)
	bad=""
	for _ in 1 2 3; do
		code=$(rest_to "$logs/drain-create.json" POST Calls.json -d To=sip:callee@peer:5074 -d From=+14155550100 \
			-d Url=http://webhook:8000/voice/hangup)
		s=$(q get sid <"$logs/drain-create.json")
		[ "$code" = 201 ] && [ -n "$s" ] && rsids+=("$s") || bad+=" POST:$code"
	done
	wait_until 30 calls_final "${rsids[@]}"
	while read -r s p; do
		[ "$p" = "$xid" ] && bad+=" $s:on-the-draining-proxy"
		[ "$p" = - ] && bad+=" $s:never-placed"
	done < <(legproxy "${rsids[@]}")
	for s in "${rsids[@]}"; do
		st=$(call_status "$s")
		[ "$st" = completed ] || bad+=" $s:$st"
	done
	verdict $([ -z "$bad" ] && [ ${#rsids[@]} -eq 3 ]; echo $?) \
		"3 calls created over REST while draining: placed on other proxies ($(legproxy "${rsids[@]}" | awk '{print $2}' | sort | uniq -c | awk '{printf "%s×%s ", $2, $1}')), completed${bad:+; not:$bad}"
	uas_stop dr-rest

	# New calls through the edge.
	t0=$(now)
	caller_run drnew tests/compose/sipp/uac_talk.xml +14155550100 -m 8 -r 8 -l 8 -set call_ms 0
	rc=$?
	mapfile -t sids < <(hooks --since "$t0" path=/voice/hangup To=+14155550100)
	bad=$(legproxy "${sids[@]}" | awk -v x="$xid" '$2 == x || $2 == "-"')
	verdict $([ $rc -eq 0 ] && [ ${#sids[@]} -eq 8 ] && [ -z "$bad" ]; echo $?) \
		"8 new calls through the edge while draining: sipp exit $rc, ${#sids[@]} webhooks, none on the draining proxy${bad:+ (on it: $bad)}"

	# The call on the draining proxy goes on until its caller hangs up.
	st=$(call_status "$sa")
	verdict $([ "$st" = in-progress ] && [ "$(cstate "$x")" = running ] && [ "$(uas_count dr received BYE)" -eq 0 ]; echo $?) \
		"call on the draining proxy still up $(since "$ta") s after docker stop (record $st, container $(cstate "$x"))"
	t0=$(now)
	caller_hangup drA
	caller_wait drA 20
	rc=$?
	wait "$STOP_PID" 2>/dev/null
	took=$(stop_took drain)
	ex=$(finished_after "$x" "$t0")
	exitcode=$(docker inspect -f '{{.State.ExitCode}}' "$x")
	timing "drain: proxy exited $ex s after its last call ended; docker stop took $took s (grace ${grace:-?} s)"
	verdict $([ $rc -eq 0 ] && [ "$(cstate "$x")" = exited ] && [ "$exitcode" = 0 ] &&
		awk -v e="$ex" 'BEGIN{exit !(e < 10)}' && awk -v t="${took:-999}" -v g="${grace:-45}" 'BEGIN{exit !(t < g - 5)}'; echo $?) \
		"caller hung up (sipp exit $rc); proxy exited (code $exitcode) $ex s later; docker stop returned after $took s (grace ${grace:-?} s)"
	wait_until 15 calls_final "$sa"
	bad=$(calls_status_is completed "$sa")
	verdict $? "drained call's records: parent and child completed${bad:+; not:$bad}"

	local i=0
	for p in "${others[@]}"; do
		i=$((i + 1))
		peer_uac_hangup "load-$p" $((5600 + i)) # the port it was started with
	done
	for p in "${others[@]}"; do wait_until 15 peer_done "load-$p"; done
	uas_stop dr
}

drain_part2() {
	local t0 ts s y rc ex took limit=$FULCRUM_DRAIN_TIMEOUT bad left
	if ! bridged_edge dr2 5071 200 drB +14155550171 150; then
		ko "drain timeout: bridged call up"
		return
	fi
	s=$BR_SID y=$BR_PROXY
	stop_bg "$y" timeout
	ts=$(now)
	wait_until $((limit + 20)) cexited "$y"
	ex=$(finished_after "$y" "$ts")
	timing "drain timeout: proxy with a call up exited $ex s after docker stop (FULCRUM_DRAIN_TIMEOUT=$limit)"
	verdict $([ "$(cstate "$y")" = exited ] && [ "$(docker inspect -f '{{.State.ExitCode}}' "$y")" = 0 ] &&
		awk -v e="$ex" -v l="$limit" 'BEGIN{exit !(e >= l - 1 && e < l + 10)}'; echo $?) \
		"drain timeout: $(cname "$y") with a call up exited (code $(docker inspect -f '{{.State.ExitCode}}' "$y")) $ex s after docker stop (timeout $limit s)"
	t0=$(now)
	wait_until 45 calls_final "$s"
	rc=$?
	timing "drain timeout: call's records ended $(since "$t0") s after the proxy exited"
	left=$(rc EXISTS "fc:live:$s")
	verdict $([ $rc -eq 0 ] && [ "$left" = 0 ]; echo $?) \
		"call left on the timed-out proxy ended in the records: $(call_status "$s") (children: $(children "$s" | awk '{printf "%s ", $2}')), $(since "$t0") s after exit; fc:live left: $left"
	note "its caller got BYE: $([ -n "$(caller_sip drB received BYE)" ] && echo yes || echo no); its callee got BYE: $([ "$(uas_count dr2 received BYE)" -gt 0 ] && echo yes || echo no)"
	caller_wait drB 1
	uas_stop dr2
	wait "$STOP_PID" 2>/dev/null
}
