# Case "callctl_kill" (issue 6 c): `docker kill` of a callctl instance.
#  1. Bridged <Dial> calls are up; the instance owning most of them
#     (fc:live:{CallSid} owner = hostname-pid-rand, hostname = container id)
#     is killed. The calls stay up; a new call right after the kill works;
#     when the callers hang up, BYE reaches every callee, parent and child
#     records end "completed", and every status callback arrived exactly once.
#  2. A call whose voice webhook is still being answered (4 s) when its
#     instance is killed: the other instance claims the pending event and
#     runs the call from its VoiceUrl again; the call completes.
# Each killed instance is started again afterwards.
case_callctl_kill() {
	local n=4 t0 tk s o h victim rc bad byes cbyes st k sids=() vsids=() cc
	declare -A count
	cc=$(ids callctl | wc -l)
	uas_start ck 5070 -timeout 170s
	t0=$(now)
	caller_start ck +14155550170 170 -m $n -r 10 -l $n
	if ! wait_until 20 uas_acked ck $n; then
		ko "callctl kill: $n bridged calls up (callee got $(uas_count ck received ACK) ACKs; see $logs/ck-*.log)"
		caller_hangup ck
		caller_wait ck 10
		uas_stop ck
		return
	fi
	mapfile -t sids < <(hooks --since "$t0" path=/voice/dial/5070)
	for s in "${sids[@]}"; do
		o=$(rc HGET "fc:live:$s" owner)
		h=${o%%-*}
		count[$h]=$((${count[$h]:-0} + 1))
	done
	victim=""
	for h in "${!count[@]}"; do
		[ -n "$victim" ] && [ "${count[$h]}" -le "${count[$victim]}" ] && continue
		victim=$h
	done
	for s in "${sids[@]}"; do
		o=$(rc HGET "fc:live:$s" owner)
		[ "${o%%-*}" = "$victim" ] && vsids+=("$s")
	done
	if [ -z "$victim" ] || ! ids callctl | grep -qx "$victim"; then
		ko "callctl kill: owner of the calls is no callctl container (owners: ${!count[*]})"
		caller_hangup ck
		caller_wait ck 10
		uas_stop ck
		return
	fi
	ok "$n bridged calls up; $(cname "$victim") owns ${#vsids[@]} of them (owners: $(for h in "${!count[@]}"; do printf '%s×%s ' "$h" "${count[$h]}"; done))"
	docker kill "$victim" >/dev/null
	tk=$(now)

	# A new call right after the kill.
	caller_run ck-new tests/compose/sipp/uac_talk.xml +14155550100 -m 2 -r 5 -l 2 -set call_ms 0
	rc=$?
	timing "first call after the callctl kill done $(since "$tk") s after the kill"
	verdict $rc "new calls right after the kill answered and ended (sipp exit $rc)"

	# The calls in progress stay up: nothing hung up, records still in-progress.
	wait_until 30 elapsed_ge "$tk" 8
	byes=$(uas_count ck received BYE)
	cbyes=$(caller_sip ck received BYE | grep -c .)
	bad=""
	for s in "${sids[@]}"; do
		st=$(call_status "$s")
		[ "$st" = in-progress ] || bad+=" $s:$st"
	done
	verdict $([ "$byes" -eq 0 ] && [ "$cbyes" -eq 0 ] && [ -z "$bad" ]; echo $?) \
		"calls still up $(since "$tk") s after the kill (BYEs to callees: $byes, to callers: $cbyes${bad:+; records:$bad})"
	for s in "${vsids[@]}"; do
		o=$(rc HGET "fc:live:$s" owner)
		note "call $s (owned by the killed instance) now owned by: ${o:-nobody}"
	done

	# The callers hang up.
	t0=$(now)
	caller_hangup ck
	caller_wait ck 30
	rc=$?
	wait_until 10 uas_byes ck $n
	byes=$(uas_count ck received BYE)
	cbyes=$(caller_sip ck sent BYE | grep -c .)
	verdict $([ $rc -eq 0 ] && [ "$cbyes" -eq $n ] && [ "$byes" -eq $n ]; echo $?) \
		"callers hung up (sipp exit $rc, $cbyes BYEs sent): BYE reached $byes of $n callees"
	wait_until 20 calls_final "${sids[@]}"
	bad=$(calls_status_is completed "${sids[@]}")
	verdict $? "records after the hangup: parents and children completed${bad:+; not:$bad}"
	wait_until 15 callbacks_once "${sids[@]}" >/dev/null
	sleep 5 # late duplicates
	bad=$(callbacks_once "${sids[@]}")
	verdict $? "status callbacks exactly once (parent completed; child initiated, ringing, answered, completed)${bad:+:$bad}"
	uas_stop ck
	docker start "$victim" >/dev/null
	wait_until 60 all_healthy

	# 2. Killed while it waits for the voice webhook.
	t0=$(now)
	caller_start ck-slow +14155550101 60 -m 1
	if ! wait_until 10 hooks_seen --since "$t0" To=+14155550101; then
		ko "slow webhook call: no webhook request"
		caller_wait ck-slow 5
		return
	fi
	s=$(hooks --since "$t0" To=+14155550101 | head -n 1)
	o=$(rc HGET "fc:live:$s" owner)
	victim=${o%%-*}
	if [ -z "$victim" ] || ! ids callctl | grep -qx "$victim"; then
		ko "slow webhook call: owner '$o' is no running callctl container"
		caller_wait ck-slow 30
		return
	fi
	docker kill "$victim" >/dev/null
	tk=$(now)
	wait_until 30 hooks_seen --since "$tk" CallSid="$s"
	rc=$?
	timing "takeover: the call's webhook requested again $(since "$tk") s after its callctl was killed"
	verdict $rc "call at its first webhook taken over by another instance (webhook requested again after $(since "$tk") s)"
	caller_wait ck-slow 30
	rc=$?
	wait_until 10 calls_final "$s"
	st=$(call_status "$s")
	verdict $([ $rc -eq 0 ] && [ "$st" = completed ]; echo $?) "taken-over call answered and ended: sipp exit $rc, record $st"
	docker start "$victim" >/dev/null
	wait_until 60 all_healthy
	[ "$(ids callctl | wc -l)" -eq "$cc" ] || ko "callctl instances running again: $(ids callctl | wc -l) of $cc"
}
