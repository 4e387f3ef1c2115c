#!/usr/bin/env bash
# Entry point of the rtpengine image (deploy/Dockerfile.rtpengine): userspace
# forwarding with rtp-config/rtpengine.conf and the per-instance settings on
# the command line, as deploy/stack.sh starts it on a host.
#   FULCRUM_RTP_ADDR       [this container's address]  media address
#   FULCRUM_RTP_ADVERTISE  [unset]  address put in SDP instead (e.g. the host's
#                          public address when the RTP range is published)
#   FULCRUM_RTPENGINE_NG_LISTEN [this container's address:2223]  ng control socket
#   FULCRUM_RTP_PORT_MIN / _MAX [30000 / 30999]
set -euo pipefail
me=${HOSTNAME:-$(cat /etc/hostname)}
ip=$(getent ahostsv4 "$me" | awk 'NR==1{print $1}')
addr=${FULCRUM_RTP_ADDR:-$ip}
[ -n "$addr" ] || { echo "rtpengine: cannot tell this container's address; set FULCRUM_RTP_ADDR" >&2; exit 1; }
iface=$addr
[ -n "${FULCRUM_RTP_ADVERTISE:-}" ] && iface="$addr!$FULCRUM_RTP_ADVERTISE"
ng=${FULCRUM_RTPENGINE_NG_LISTEN:-$ip:2223}
echo "rtpengine: ng $ng, media $iface, ports ${FULCRUM_RTP_PORT_MIN:-30000}-${FULCRUM_RTP_PORT_MAX:-30999}"
exec rtpengine --config-file=/etc/fulcrum/rtpengine.conf --config-section=rtpengine \
	--foreground --table=-1 --listen-ng="$ng" --interface="$iface" \
	--port-min="${FULCRUM_RTP_PORT_MIN:-30000}" --port-max="${FULCRUM_RTP_PORT_MAX:-30999}" "$@"
