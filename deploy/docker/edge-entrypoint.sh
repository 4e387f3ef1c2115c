#!/usr/bin/env bash
# Entry point of the edge image (deploy/Dockerfile.edge): Kamailio with
# deploy/docker/edge.cfg (stateless dispatcher over the proxies) plus
# edge-discover.sh, which keeps its list of proxies. If either stops, the
# container stops (and compose restarts it).
#   FULCRUM_EDGE_ADVERTISE [$FULCRUM_PUBLISH_ADDR:$FULCRUM_SIP_PORT, i.e.
#                          127.0.0.1:5060]  the edge's address as clients see it
#                          (the published port); goes in Via/Record-Route
#   FULCRUM_SIP_PORT       [5060]  the SIP port, inside the container as published
#   FULCRUM_EDGE_INT_PORT  [5080]  port of the socket the proxies talk to
#   FULCRUM_EDGE_CHILDREN  [4]     SIP worker processes per socket
#   FULCRUM_REDIS_URL      [redis://redis:6379]  where proxies announce themselves
set -euo pipefail
me=${HOSTNAME:-$(cat /etc/hostname)}
ip=$(getent ahostsv4 "$me" | awk 'NR==1{print $1}')
[ -n "$ip" ] || { echo "edge: cannot tell this container's address" >&2; exit 1; }
ext=${FULCRUM_SIP_PORT:-5060}   # the published port, the same inside (docker-compose.yml)
int=${FULCRUM_EDGE_INT_PORT:-5080}
adv=${FULCRUM_EDGE_ADVERTISE:-${FULCRUM_PUBLISH_ADDR:-127.0.0.1}:${FULCRUM_SIP_PORT:-5060}}
run=${FULCRUM_RUN_DIR:-/run/fulcrum-edge}
mkdir -p "$run"
list=$run/dispatcher.list
ctl=unix:$run/kamailio_ctl
: >"$list"

# EXT first: it is the default socket (stateless replies leave from it). The
# INT sockets name their own address as advertised: kamailio 5.6 would
# otherwise carry the previous -l's advertised address over to them.
echo "edge: outside udp/tcp $ip:$ext advertised as $adv, proxies side $ip:$int, bus ${FULCRUM_REDIS_URL:-redis://redis:6379}"
kamailio -DD -E -f /etc/fulcrum/edge.cfg -m "${FULCRUM_EDGE_SHM:-64}" -M 8 \
	-n "${FULCRUM_EDGE_CHILDREN:-4}" -Y "$run" -P "$run/kamailio.pid" \
	-l "udp:$ip:$ext/$adv" -l "tcp:$ip:$ext/$adv" -l "udp:$ip:$int/$ip:$int" -l "tcp:$ip:$int/$ip:$int" \
	-A "SOCK_EXT_UDP=\"udp:$ip:$ext\"" -A "SOCK_EXT_TCP=\"tcp:$ip:$ext\"" \
	-A "SOCK_INT_UDP=\"udp:$ip:$int\"" -A "SOCK_INT_TCP=\"tcp:$ip:$int\"" \
	-A "INT_PORT=$int" -A "FULCRUM_DS_LIST=\"$list\"" -A "FULCRUM_CTL=\"$ctl\"" &
kam=$!
bash /usr/local/lib/fulcrum/edge-discover.sh "$list" "$ctl" &
disc=$!

stop() {
	kill -TERM "$kam" "$disc" 2>/dev/null || true
}
trap stop TERM INT
set +e
wait -n "$kam" "$disc"
rc=$?
# A signal interrupts wait with 128+n: wait again for the children to end.
stop
wait "$kam" 2>/dev/null
wait "$disc" 2>/dev/null
echo "edge: stopped (status $rc)"
exit "$rc"
