# Case "add_proxy" (issue 6 b): `up -d --scale proxy=N+1 --no-recreate` adds
# a proxy to a running stack: the edge lists it within seconds ("proxies
# now:" in its log), it takes calls, and no other container was restarted.
case_add_proxy() {
	local before after c new t0 ip rc sids mine n others_ok=0 changed=""
	declare -A start
	for c in $(docker ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
		start[$c]=$(started_at "$c")
	done
	before=$(ids proxy | sort)
	NPROXY=$((NPROXY + 1))
	t0=$(now)
	if ! dc up -d --no-recreate --scale proxy="$NPROXY" --scale callctl="$NCALLCTL" >>"$logs/up.log" 2>&1; then
		ko "up --scale proxy=$NPROXY --no-recreate (see $logs/up.log)"
		return
	fi
	after=$(ids proxy | sort)
	new=$(comm -13 <(echo "$before") <(echo "$after") | head -n 1)
	if [ -z "$new" ]; then
		ko "up --scale proxy=$NPROXY: no new proxy container"
		return
	fi
	ip=$(cip "$new")
	wait_until 30 edge_has "$ip"
	rc=$?
	timing "new proxy on the edge's list after $(since "$t0") s"
	verdict $rc "edge lists the added proxy $(cname "$new") ($ip) $(since "$t0") s after up:$(edge_list)"

	for c in "${!start[@]}"; do
		[ "$(started_at "$c")" = "${start[$c]}" ] || changed+=" $(cname "$c")"
		[ "$(cstate "$c")" = running ] || changed+=" $(cname "$c"):$(cstate "$c")"
	done
	verdict $([ -z "$changed" ]; echo $?) "no other container restarted (${#start[@]} checked${changed:+; restarted:$changed})"

	t0=$(now)
	caller_run addproxy tests/compose/sipp/uac_talk.xml +14155550100 -m 24 -r 8 -l 24 -set call_ms 0
	rc=$?
	mapfile -t sids < <(hooks --since "$t0" path=/voice/hangup)
	n=$(legproxy "${sids[@]}" | awk -v p="$(proxy_id "$new")" '$2 == p' | wc -l)
	verdict $([ $rc -eq 0 ] && [ "$n" -gt 0 ]; echo $?) \
		"the added proxy takes calls: $n of ${#sids[@]} (sipp exit $rc)"
}
