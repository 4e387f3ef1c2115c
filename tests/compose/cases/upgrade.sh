# Case "upgrade": the rolling upgrade of the README ("Deploying with Docker
# Compose"), with a bridged call up through it: new callctl instances, then
# new proxies are started next to the old ones (`up -d --no-deps
# --no-recreate --scale`), the old ones stopped (proxies drain) and removed.
# Calls made meanwhile succeed; the bridged call, now owned by no running
# callctl, hangs up properly (BYE to the callee, records completed,
# callbacks once); its old proxy exits once it has ended; `up` with the
# usual scales afterwards keeps the new containers.
case_upgrade() {
	local t0 s rc bad st oldp oldc newp n x stop_pid c
	if ! bridged_edge up 5075 150 up +14155550175 120; then
		ko "upgrade: bridged call up (see $logs/up-*.log)"
		return
	fi
	s=$BR_SID x=$BR_PROXY
	oldp=$(ids proxy | sort)
	oldc=$(ids callctl | sort)

	# New callctl instances, then the old ones stopped and removed.
	dc up -d --no-deps --no-recreate --scale callctl=$((2 * NCALLCTL)) callctl >>"$logs/up.log" 2>&1
	wait_until 60 all_healthy
	t0=$(now)
	docker stop $oldc >/dev/null 2>&1
	timing "upgrade: docker stop of the old callctl instances took $(since "$t0") s"
	bad=""
	for c in $oldc; do
		n=$(docker inspect -f '{{.State.ExitCode}}' "$c")
		[ "$n" = 0 ] || bad+=" $(cname "$c"):exit-$n"
	done
	verdict $([ -z "$bad" ]; echo $?) "upgrade: old callctl instances stopped by SIGTERM within the stop timeout (exit 0)${bad:+; not:$bad (137: killed after the timeout)}"
	remove $oldc
	wait_until 30 rest_ok
	rc=$?
	caller_run up-cc tests/compose/sipp/uac_talk.xml +14155550100 -m 2 -r 5 -l 2 -set call_ms 0
	n=$?
	verdict $([ $rc -eq 0 ] && [ $n -eq 0 ]; echo $?) "upgrade: old callctl instances replaced ($(ids callctl | wc -l) running); REST and new calls work (sipp exit $n)"

	# New proxies next to the old ones, then the old ones stopped.
	t0=$(now)
	dc up -d --no-deps --no-recreate --scale proxy=$((2 * NPROXY)) proxy >>"$logs/up.log" 2>&1
	newp=$(comm -13 <(echo "$oldp") <(ids proxy | sort))
	wait_until 30 edge_count_is $((2 * NPROXY))
	verdict $? "upgrade: $(echo "$newp" | grep -c .) new proxies next to the $NPROXY old ones, all on the edge's list after $(since "$t0") s"
	(docker stop $oldp >/dev/null 2>&1) &
	stop_pid=$!
	wait_until 15 edge_lists_only "$newp"
	verdict $? "upgrade: old proxies off the edge's list after $(since "$t0") s:$(edge_list)"
	caller_run up-mid tests/compose/sipp/uac_talk.xml +14155550100 -m 6 -r 6 -l 6 -set call_ms 0
	verdict $? "upgrade: 6 calls while the old proxies drain answered and ended"

	st=$(call_status "$s")
	verdict $([ "$st" = in-progress ] && [ "$(uas_count up received BYE)" -eq 0 ] && [ "$(cstate "$x")" = running ]; echo $?) \
		"upgrade: the bridged call is still up on its draining proxy (record $st, proxy $(cstate "$x"))"

	# The caller hangs up.
	t0=$(now)
	caller_hangup up
	caller_wait up 20
	rc=$?
	wait_until 10 uas_byes up 1
	wait "$stop_pid" 2>/dev/null
	verdict $([ $rc -eq 0 ] && [ "$(uas_count up received BYE)" -eq 1 ] && [ "$(cstate "$x")" = exited ]; echo $?) \
		"upgrade: caller hung up (sipp exit $rc): BYE reached the callee; its old proxy exited $(finished_after "$x" "$t0") s later"
	wait_until 15 calls_final "$s"
	bad=$(calls_status_is completed "$s")
	verdict $? "upgrade: the call's records completed${bad:+; not:$bad}"
	wait_until 10 callbacks_once "$s" >/dev/null
	bad=$(callbacks_once "$s")
	verdict $? "upgrade: its status callbacks exactly once${bad:+:$bad}"
	uas_stop up
	remove $oldp
	n=$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | wc -l)
	scale_up "$NPROXY" "$NCALLCTL"
	rc=$?
	bad=""
	for c in $(ids proxy); do echo "$newp" | grep -qx "$c" || bad+=" $(cname "$c")"; done
	verdict $([ $rc -eq 0 ] && [ -z "$bad" ] && [ "$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | wc -l)" -eq "$n" ]; echo $?) \
		"upgrade: up --scale proxy=$NPROXY --scale callctl=$NCALLCTL afterwards keeps the new containers${bad:+ (not new:$bad)}"
}
edge_count_is() { [ "$(edge_count)" -eq "$1" ]; }
# edge_lists_only IDS: the edge lists exactly these proxy containers.
edge_lists_only() {
	local c n=0
	for c in $1; do
		edge_has "$(cip "$c")" || return 1
		n=$((n + 1))
	done
	[ "$(edge_count)" -eq "$n" ]
}
rest_ok() { [ "$(rest_to /dev/null GET Calls.json)" = 200 ]; }
