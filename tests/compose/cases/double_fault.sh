# Case "double_fault": a bridged call loses both its callctl (owner, docker
# kill) and its proxy (docker kill). No event can come for it any more; its
# records must still end (completed) within a bounded time and no fc:live
# state may stay behind. Both are started again afterwards.
case_double_fault() {
	local tk s o victim x rc st left
	x=$(oldest_proxy)
	if ! bridged_peer df 5070 150 df-call 5650 "$x" +14155550170 120; then
		ko "double fault: bridged call up"
		return
	fi
	s=$BR_SID
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
