# Case "scale" (issue 6 a): with N proxies and 2 callctl, calls through the
# edge spread over every proxy (the proxy named in each call's bus events)
# and every call completes: sipp exit 0, record "completed" over REST.
case_scale() {
	local ncalls=24 t0 sids spread nprox want rc bad s
	want=$(ids proxy | wc -l)
	t0=$(now)
	caller_run scale tests/compose/sipp/uac_talk.xml +14155550100 -m $ncalls -r 8 -l $ncalls -set call_ms 0
	rc=$?
	verdict $rc "$ncalls calls to <Hangup/> answered and hung up by Fulcrum (sipp exit $rc, BYEs received: $(caller_sip scale received BYE | grep -c .))"
	mapfile -t sids < <(hooks --since "$t0" path=/voice/hangup)
	spread=$(legproxy "${sids[@]}" | awk '{print $2}' | sort | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=", "}')
	nprox=$(legproxy "${sids[@]}" | awk '$2 != "-" {print $2}' | sort -u | wc -l)
	verdict $([ "${#sids[@]}" -eq $ncalls ] && [ "$nprox" -eq "$want" ]; echo $?) \
		"${#sids[@]} calls spread over $nprox of $want proxies ($spread)"
	s=$SECONDS
	wait_until 15 calls_final "${sids[@]}"
	bad=$(calls_status_is completed "${sids[@]}")
	verdict $([ -z "$bad" ] && [ "${#sids[@]}" -eq $ncalls ]; echo $?) \
		"Calls.json: ${#sids[@]} records, all completed${bad:+; not:$bad}"
}
