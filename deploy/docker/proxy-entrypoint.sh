#!/usr/bin/env bash
# Entry point of the proxy image (deploy/Dockerfile.proxy): fills in what a
# container only knows at run time, starts the proxy exactly as on a host
# (kamailio-module/run-kamailio.sh), and drains it on SIGTERM (docker stop).
#   FULCRUM_SIP_ADDR       [this container's address]  listen address
#   FULCRUM_SIP_ADVERTISE  [addr:port]  put in Contact/Record-Route; it is also
#                          the address the module publishes in fc:proxy:{id},
#                          which the edge dispatches to (deploy/docker/edge-discover.sh)
#   FULCRUM_PROXY_ID       [container hostname:port]  unique per container and
#                          kept across restarts of the same container
#   FULCRUM_DRAIN_TIMEOUT  [600]  seconds a stopping proxy waits for its calls
#
# Draining (README "Draining a proxy"): on SIGTERM the proxy is told
# `fulcrum.drain` over its ctl socket: new INVITEs and OPTIONS probes get
# 503, it leaves fc:proxies (the edge and callctl stop choosing it within
# about 2 s), and its calls go on. Kamailio is stopped once no leg is left
# (plus 2 s for the last events to reach the bus) or when the drain timeout
# passes: the legs still up are then hung up (`fulcrum.hangup_all`: BYE,
# CANCEL, 503), so phones are told and callctl ends the calls in the records
# as usual; whatever is left then ends when callctl sees the proxy's
# heartbeat expire (bus-protocol.md §9). Compose's stop_grace_period
# must be longer than the timeout. A second SIGTERM stops at once.
set -euo pipefail
me=${HOSTNAME:-$(cat /etc/hostname)}
ip=$(getent ahostsv4 "$me" | awk 'NR==1{print $1}')
export FULCRUM_SIP_ADDR=${FULCRUM_SIP_ADDR:-$ip}
export FULCRUM_SIP_PORT=${FULCRUM_SIP_PORT:-5060}
export FULCRUM_SIP_ADVERTISE=${FULCRUM_SIP_ADVERTISE:-$FULCRUM_SIP_ADDR:$FULCRUM_SIP_PORT}
export FULCRUM_PROXY_ID=${FULCRUM_PROXY_ID:-$me:$FULCRUM_SIP_PORT}
export FULCRUM_CTL_SOCKET=${FULCRUM_CTL_SOCKET:-${FULCRUM_RUN_DIR:-/run/fulcrum}/kamailio_ctl}
drain_timeout=${FULCRUM_DRAIN_TIMEOUT:-600}
[ -n "$FULCRUM_SIP_ADDR" ] || { echo "proxy: cannot tell this container's address; set FULCRUM_SIP_ADDR" >&2; exit 1; }
echo "proxy: id $FULCRUM_PROXY_ID, SIP $FULCRUM_SIP_ADDR:$FULCRUM_SIP_PORT (advertised $FULCRUM_SIP_ADVERTISE), bus $FULCRUM_REDIS_URL"

ctl() { kamcmd -s "unix:$FULCRUM_CTL_SOCKET" "$@" 2>&1; }
legs() { ctl fulcrum.status | awk '$1 == "legs:" {print $2}'; }

bash /opt/fulcrum/kamailio-module/run-kamailio.sh "$@" &
kpid=$!
draining=0

drain() {
	if [ $draining = 1 ]; then
		echo "proxy: second stop signal: stopping now"
		kill -TERM $kpid 2>/dev/null
		return
	fi
	draining=1
	trap 'drain' TERM INT
	local t0=$SECONDS n
	if ! out=$(ctl fulcrum.drain); then
		echo "proxy: cannot drain ($out): stopping now"
		kill -TERM $kpid 2>/dev/null
		return
	fi
	echo "proxy: draining: no new calls; waiting up to ${drain_timeout}s for $(legs) leg(s)"
	while kill -0 $kpid 2>/dev/null; do
		n=$(legs)
		if [ "$n" = 0 ]; then
			sleep 2 # the last call.ended events leave for the bus
			echo "proxy: drained in $((SECONDS - t0))s: stopping"
			break
		fi
		if [ $((SECONDS - t0)) -ge "$drain_timeout" ]; then
			echo "proxy: drain timeout (${drain_timeout}s) with ${n:-?} leg(s) up: hanging them up"
			ctl fulcrum.hangup_all >/dev/null
			for _ in 1 2 3 4 5; do
				[ "$(legs)" = 0 ] && break
				sleep 1
			done
			sleep 2 # their call.ended events leave for the bus
			echo "proxy: stopping"
			break
		fi
		sleep 1
	done
	kill -TERM $kpid 2>/dev/null
}
trap 'drain' TERM INT

# wait returns early when a trapped signal arrives: wait again until Kamailio is gone.
rc=0
while kill -0 $kpid 2>/dev/null; do
	wait $kpid && rc=0 || rc=$?
done
[ $draining = 1 ] && [ $rc -ge 128 ] && rc=0 # stopped by us
exit $rc
