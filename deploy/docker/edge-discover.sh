#!/usr/bin/env bash
# Keeps the edge's dispatcher list equal to the proxies alive on the bus and
# reloads it into Kamailio when it changes. Run by edge-entrypoint.sh:
#   edge-discover.sh <list file> <ctl socket>
#
# How proxies are discovered (no file is edited when one is added or
# removed): every Fulcrum proxy's module announces itself on the bus every
# 5 s (bus-protocol.md §1): ZADD fc:proxies <now ms> <id> and
# SET fc:proxy:<id> {"sip":"<advertised host:port>",...} EX 15. The proxies
# whose heartbeat is younger than FULCRUM_EDGE_STALE_MS (15 s) and whose
# fc:proxy key still exists are the list, each at the address it advertises.
# A proxy that dies drops out within 15 s here, and within one or two probe
# intervals (2 s) from the dispatcher's OPTIONS probing before that.
#
# Why the bus rather than Docker's DNS for the `proxy` service: the bus is
# what callctl already uses to pick proxies (§13), so both agree; the
# advertised address is exactly what the proxy puts in its Contact; it works
# without compose (several hosts, another orchestrator); and a proxy appears
# only once its module is connected to Redis, i.e. able to take calls.
# When Redis cannot be read the current list is kept.
set -uo pipefail
list=$1
ctl=$2
url=${FULCRUM_REDIS_URL:-redis://redis:6379}
every=${FULCRUM_EDGE_DISCOVERY_INTERVAL:-2}
stale=${FULCRUM_EDGE_STALE_MS:-15000}

log() { echo "edge-discover: $*"; }
rc() { redis-cli -u "$url" --raw "$@"; }

applied=""    # the list Kamailio has loaded
redis_ok=1
while :; do
	now=$(date +%s%3N)
	if ids=$(rc ZRANGEBYSCORE fc:proxies $((now - stale)) +inf 2>&1) && [[ "$ids" != *ERR* ]] && [[ "$ids" != *"Could not connect"* ]]; then
		[ $redis_ok = 1 ] || log "bus reachable again"
		redis_ok=1
		want=""
		if [ -n "$ids" ]; then
			mapfile -t idv <<<"$ids"
			mapfile -t vals < <(rc MGET "${idv[@]/#/fc:proxy:}" 2>/dev/null)
			for i in "${!idv[@]}"; do
				v=${vals[$i]:-}
				sip=$(sed -n 's/.*"sip":"\([^"]*\)".*/\1/p' <<<"$v")
				sip=${sip#udp:}
				sip=${sip#tcp:}
				[ -n "$sip" ] || continue
				want+="1 sip:$sip 0 0 duid=${idv[$i]}"$'\n'
			done
		fi
		want=$(printf '%s' "$want" | sort -u)
		if [ "$want" != "$applied" ]; then
			printf '%s\n' "$want" >"$list.tmp" && mv -f "$list.tmp" "$list"
			if out=$(kamcmd -s "$ctl" dispatcher.reload 2>&1); then
				applied=$want
				log "proxies now: $(awk '{printf "%s%s", sep, $2; sep=" "}' <<<"$want")"
			else
				log "dispatcher.reload failed (will retry): $out"
			fi
		fi
	else
		[ $redis_ok = 0 ] || log "cannot read the bus at $url: $ids (keeping the current list)"
		redis_ok=0
	fi
	sleep "$every"
done
