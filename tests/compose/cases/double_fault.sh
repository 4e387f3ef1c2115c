# Case "double_fault": a bridged call loses both its callctl (owner, docker
# kill) and its proxy (docker kill). No event can come for it any more; its
# records must still end (completed) within a bounded time and no fc:live
# state may stay behind. Both are started again afterwards.
case_double_fault() {
	local t0 tk s o victim x xip rc st left
	uas_start df 5070 -timeout 150s
	x=$(for c in $(ids proxy); do echo "$(started_at "$c") $c"; done | sort | head -n 1 | awk '{print $2}')
	xip=$(cip "$x")
	t0=$(now)
	peer_uac_start df-call 5650 "$xip" +14155550170 -m 1 -timeout 120s
	if ! wait_until 20 uas_acked df 1; then
		ko "double fault: bridged call up"
		uas_stop df-call
		uas_stop df
		return
	fi
	s=$(hooks --since "$t0" path=/voice/dial/5070 | head -n 1)
	o=$(rc HGET "fc:live:$s" owner)
	victim=${o%%-*}
	if [ -z "$victim" ] || ! ids callctl | grep -qx "$victim"; then
		ko "double fault: owner '$o' of $s is no running callctl"
		uas_stop df-call
		uas_stop df
		return
	fi
	docker kill "$victim" "$x" >/dev/null
	tk=$(now)
	wait_until 45 calls_final "$s"
	rc=$?
	timing "double fault: records ended $(since "$tk") s after the owner and the proxy were killed"
	st="$(call_status "$s") (dialled: $(children "$s" | awk '{printf "%s ", $2}'))"
	left=$(rc EXISTS "fc:live:$s")
	verdict $([ $rc -eq 0 ] && [ "$left" = 0 ]; echo $?) \
		"owner callctl and proxy of a bridged call both killed: records $st after $(since "$tk") s; fc:live left: $left"
	uas_stop df-call
	uas_stop df
	scale_up "$NPROXY" "$NCALLCTL"
	verdict $? "killed callctl and proxy started again"
}
