# Case "proxy_kill" (issue 6 e): `docker kill` of a proxy with a bridged call
# up. callctl sees the heartbeat expire (TTL 15 s, checked every 5 s) and ends
# the call in the records (completed/failed) within a bounded time; no
# fc:live state is left; the edge drops the proxy. Started again afterwards
# (same container, so same proxy id, new process), it keeps the calls it
# takes from then on.
case_proxy_kill() {
	local t0 tk s k x xid xip rc st bad left ks=()
	# The proxy up longest, called straight from the peer container (a proxy
	# restarted by an earlier case is the subject of the last check here).
	x=$(oldest_proxy)
	xid=$(proxy_id "$x")
	if ! bridged_peer pk 5072 150 pk-call 5640 "$x" +14155550172 110; then
		ko "proxy kill: bridged call up (see $logs/peer/pk*)"
		return
	fi
	s=$BR_SID
	xip=$(cip "$x")
	mapfile -t ks < <(children "$s" | awk '{print $1}')
	st=$(call_status "$s")
	if [ "$st" != in-progress ]; then
		ko "proxy kill: the call on $(cname "$x") ended before the kill (record $st)"
	fi
	docker kill "$x" >/dev/null
	tk=$(now)
	wait_until 60 calls_final "$s"
	rc=$?
	timing "proxy kill: records ended $(since "$tk") s after the kill"
	st="$(call_status "$s") (dialled: $(children "$s" | awk '{printf "%s ", $2}'))"
	verdict $([ $rc -eq 0 ] && elapsed_lt "$tk" 40; echo $?) \
		"killed $(cname "$x") with a call up: records ended after $(since "$tk") s: $st"
	left=""
	for k in "$s" "${ks[@]}"; do
		[ "$(rc EXISTS "fc:live:$k")" = 0 ] || left+=" fc:live:$k"
	done
	verdict $([ -z "$left" ]; echo $?) "no live state left for the call (fc:live of ${#ks[@]}+1 legs)${left:+: left$left}"
	wait_until 30 edge_lacks "$xip"
	verdict $? "edge dropped the killed proxy after $(since "$tk") s:$(edge_list)"
	wait_until 10 callbacks_once "$s" >/dev/null
	bad=$(callbacks_once "$s")
	verdict $? "status callbacks of the killed proxy's call exactly once${bad:+:$bad}"
	uas_stop pk-call
	uas_stop pk
	scale_up "$NPROXY" "$NCALLCTL"
	verdict $? "killed proxy started again: $(ids proxy | wc -l) of $NPROXY running, on the edge's list"

	# The restarted proxy (same id, new process, maybe a new address) keeps
	# the calls it takes now.
	if ! bridged_peer pk2 5072 90 pk-re 5620 "$x" +14155550172 80; then
		ko "call on the restarted proxy: not answered"
		return
	fi
	s=$BR_SID t0=$BR_T0
	wait_until 15 elapsed_ge "$t0" 10
	st=$(call_status "$s")
	verdict $([ "$st" = in-progress ] && [ "$(uas_count pk2 received BYE)" -eq 0 ] &&
		[ "$(legproxy "$s" | awk '{print $2}')" = "$xid" ]; echo $?) \
		"a call on the restarted proxy $(cname "$x") is still up after $(since "$t0") s (record $st)"
	peer_uac_hangup pk-re 5620
	wait_until 15 peer_done pk-re
	wait_until 15 calls_final "$s"
	bad=$(calls_status_is completed "$s")
	verdict $([ "$(peer_rc pk-re)" = 0 ] && [ -z "$bad" ]; echo $?) \
		"its caller hung up (sipp exit $(peer_rc pk-re)): records completed${bad:+; not:$bad}"
	uas_stop pk2
}
