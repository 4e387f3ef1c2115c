#!/usr/bin/env bash
# Starts one Fulcrum proxy (Kamailio + fulcrum.so) in the foreground.
# Environment (defaults in brackets):
#   FULCRUM_SIP_ADDR [127.0.0.1]  FULCRUM_SIP_PORT [5060]  SIP listen address (UDP and TCP)
#   FULCRUM_SIP_ADVERTISE [addr:port]  host:port put in Contact/Record-Route
#   FULCRUM_REDIS_URL [redis://127.0.0.1:6379]  the bus
#   FULCRUM_PROXY_ID [hostname:port]  this proxy's id on the bus
#   FULCRUM_RUN_DIR [./.fulcrum/run]  pid file and runtime files
#   FULCRUM_MODULE [build/modules/fulcrum.so]  the module to load
#   FULCRUM_SIP_CHILDREN [4]  SIP worker processes per socket
#   FULCRUM_KAMAILIO_SHM [128]  shared memory in MB
#   FULCRUM_CTL_SOCKET [$FULCRUM_RUN_DIR/kamailio_ctl]  ctl socket for kamcmd:
#     kamcmd -s unix:<socket> fulcrum.status   (or fulcrum.drain, README "Draining")
#     (a path too long for a Unix socket moves to /tmp/fulcrum-ctl-<port>-<pid>)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
addr=${FULCRUM_SIP_ADDR:-127.0.0.1}
port=${FULCRUM_SIP_PORT:-5060}
run=${FULCRUM_RUN_DIR:-$top/.fulcrum/run}
mod=${FULCRUM_MODULE:-$top/build/modules/fulcrum.so}
children=${FULCRUM_SIP_CHILDREN:-4}
shm=${FULCRUM_KAMAILIO_SHM:-128}
mkdir -p "$run"
ctl=${FULCRUM_CTL_SOCKET:-$run/kamailio_ctl}
[ ${#ctl} -lt 100 ] || ctl=/tmp/fulcrum-ctl-$port-$$
[ -f "$mod" ] || { echo "run-kamailio: $mod not found (run make module)" >&2; exit 1; }
export FULCRUM_PROXY_ID=${FULCRUM_PROXY_ID:-$(hostname):$port}
export FULCRUM_SIP_ADVERTISE=${FULCRUM_SIP_ADVERTISE:-$addr:$port}
export FULCRUM_REDIS_URL=${FULCRUM_REDIS_URL:-redis://127.0.0.1:6379}
exec kamailio -DD -E -f "$here/kamailio.cfg" -m "$shm" -M 16 -n "$children" \
	-Y "$run" -P "$run/kamailio.pid" \
	-l "udp:$addr:$port" -l "tcp:$addr:$port" \
	-A "FULCRUM_MODULE=\"$mod\"" -A "FULCRUM_ADVERTISE=\"$FULCRUM_SIP_ADVERTISE\"" \
	-A "FULCRUM_CTL=\"unix:$ctl\""
