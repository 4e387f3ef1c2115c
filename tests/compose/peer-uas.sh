#!/usr/bin/env bash
# Runs in the peer container (tests/compose/Dockerfile.peer): one sipp UAS,
# the callee of <Dial><Sip>sip:callee@peer:PORT</Sip></Dial>, answering every
# INVITE at once (tests/e2e/sipp/uas_answer.xml, ring_ms 0) and waiting for
# the BYE. Started by the tests with `docker exec -d`:
#   peer-uas.sh NAME PORT [sipp args, e.g. -m 4]
# Media ports: 20000 + 4 × (PORT mod 5000), 2 each, never shared.
# Files in /tmp/peer/: NAME.pid (sipp's pid), NAME-messages.log (every SIP
# message), NAME.out, NAME.rc (sipp's exit status, written when it ends).
set -u
name=$1
port=$2
shift 2
d=/tmp/peer
mkdir -p "$d"
rm -f "$d/$name".* "$d/$name"-*
ip=$(getent ahostsv4 "${HOSTNAME:-$(cat /etc/hostname)}" | awk 'NR==1{print $1}')
cd "$d" || exit 1
sipp -sf /app/sipp/uas_answer.xml -i "$ip" -p "$port" -mp $((20000 + (port % 5000) * 4)) -t u1 -nostdin \
	-key user callee -key rtp_port 9 -key hdrs "" -set ring_ms 0 -set bye_ms 0 -set early 0 \
	-trace_msg -message_file "$d/$name-messages.log" -trace_err -error_file "$d/$name-errors.log" \
	-max_recv_loops 1000 "$@" >"$d/$name.out" 2>&1 &
echo $! >"$d/$name.pid"
wait $!
echo $? >"$d/$name.rc"
