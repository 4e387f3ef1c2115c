#!/usr/bin/env bash
# fulcrum-health: the containers' health checks, with nothing but bash and
# coreutils (the images carry no curl, no python for this).
#   fulcrum-health sip  [host] [port]         SIP OPTIONS over UDP answered 200
#                                             (port: $FULCRUM_SIP_PORT, else 5060)
#   fulcrum-health ng   [host] [port]         rtpengine ng "ping" answered "pong"
#   fulcrum-health http [host] [port] [path]  HTTP GET answered 200
# host defaults to this container's address (its hostname in /etc/hosts).
set -u
kind=${1:-}
host=${2:-}
port=${3:-}
[ -n "$host" ] || host=$(getent ahostsv4 "${HOSTNAME:-$(cat /etc/hostname)}" | awk 'NR==1{print $1}')
[ -n "$host" ] || exit 1
tag=$(printf '%04x%04x%04x' $RANDOM $RANDOM $RANDOM)

# One UDP datagram out, one in. bash's own output is line-buffered (a SIP
# message would leave as one datagram per line) and its read builtin takes a
# socket byte by byte (the rest of a datagram would be lost): dd does both,
# one write of the whole message (fullblock) and one read of the whole answer.
udp_ask() { # host port message → the answer on stdout
	exec 3<>"/dev/udp/$1/$2" || return 1
	dd bs=65535 count=1 iflag=fullblock status=none < <(printf '%s' "$3") >&3 || return 1
	timeout 3 dd bs=65535 count=1 status=none <&3
	local rc=$?
	exec 3>&-
	return $rc
}

case "$kind" in
sip)
	port=${port:-${FULCRUM_SIP_PORT:-5060}}
	# rport: the answer goes back to this socket whatever the Via says.
	msg="OPTIONS sip:$host:$port SIP/2.0"$'\r\n'
	msg+="Via: SIP/2.0/UDP $host:9;branch=z9hG4bK-hc$tag;rport"$'\r\n'
	msg+="Max-Forwards: 70"$'\r\n'
	msg+="From: <sip:health@$host>;tag=$tag"$'\r\n'
	msg+="To: <sip:$host:$port>"$'\r\n'
	msg+="Call-ID: health-$tag@$host"$'\r\n'
	msg+="CSeq: 1 OPTIONS"$'\r\n'
	msg+="Content-Length: 0"$'\r\n\r\n'
	ans=$(udp_ask "$host" "$port" "$msg") || exit 1
	[[ "$ans" == "SIP/2.0 200"* ]]
	;;
ng)
	port=${port:-2223}
	ans=$(udp_ask "$host" "$port" "hc$tag d7:command4:pinge") || exit 1
	[[ "$ans" == "hc$tag "*"4:pong"* ]]
	;;
http)
	port=${port:-8080}
	path=${4:-/health}
	exec 3<>"/dev/tcp/$host/$port" || exit 1
	printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$path" "$host" "$port" >&3
	IFS= read -r -t 3 line <&3 || exit 1
	[[ "$line" == "HTTP/1."?" 200"* ]]
	;;
*)
	echo "usage: fulcrum-health sip|ng|http [host] [port] [path]" >&2
	exit 2
	;;
esac
