#!/usr/bin/env bash
# Entry point of the proxy image (deploy/Dockerfile.proxy): fills in what a
# container only knows at run time, then starts the proxy exactly as on a
# host, with kamailio-module/run-kamailio.sh.
#   FULCRUM_SIP_ADDR       [this container's address]  listen address
#   FULCRUM_SIP_ADVERTISE  [addr:port]  put in Contact/Record-Route; it is also
#                          the address the module publishes in fc:proxy:{id},
#                          which the edge dispatches to (deploy/docker/edge-discover.sh)
#   FULCRUM_PROXY_ID       [container hostname:port]  unique per container and
#                          kept across restarts of the same container
set -euo pipefail
me=${HOSTNAME:-$(cat /etc/hostname)}
ip=$(getent ahostsv4 "$me" | awk 'NR==1{print $1}')
export FULCRUM_SIP_ADDR=${FULCRUM_SIP_ADDR:-$ip}
export FULCRUM_SIP_PORT=${FULCRUM_SIP_PORT:-5060}
export FULCRUM_SIP_ADVERTISE=${FULCRUM_SIP_ADVERTISE:-$FULCRUM_SIP_ADDR:$FULCRUM_SIP_PORT}
export FULCRUM_PROXY_ID=${FULCRUM_PROXY_ID:-$me:$FULCRUM_SIP_PORT}
[ -n "$FULCRUM_SIP_ADDR" ] || { echo "proxy: cannot tell this container's address; set FULCRUM_SIP_ADDR" >&2; exit 1; }
echo "proxy: id $FULCRUM_PROXY_ID, SIP $FULCRUM_SIP_ADDR:$FULCRUM_SIP_PORT (advertised $FULCRUM_SIP_ADVERTISE), bus $FULCRUM_REDIS_URL"
exec bash /opt/fulcrum/kamailio-module/run-kamailio.sh "$@"
