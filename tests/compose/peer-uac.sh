#!/usr/bin/env bash
# Runs in the peer container (tests/compose/Dockerfile.peer): sipp callers
# (sipp/uac_talk.xml) sent straight to one proxy, bypassing the edge, so that
# a test can put calls on a proxy of its choice. Started with `docker exec -d`:
#   peer-uac.sh NAME PORT HOST:PORT USER [sipp args, e.g. -m 2]
# They hang up on `sipcheck.py poke <this container's address> PORT <Call-ID>`.
# Files in /tmp/peer/: NAME.pid, NAME-messages.log, NAME.out, NAME.rc.
set -u
name=$1
port=$2
target=$3
user=$4
shift 4
d=/tmp/peer
mkdir -p "$d"
rm -f "$d/$name".* "$d/$name"-*
ip=$(getent ahostsv4 "${HOSTNAME:-$(cat /etc/hostname)}" | awk 'NR==1{print $1}')
cd "$d" || exit 1
sipp -sf /app/sipp/uac_talk.xml "$target" -i "$ip" -p "$port" -mp $((20000 + (port % 5000) * 4)) -t u1 -nostdin \
	-key ruri_user "$user" -key ruri_host "$target" -key from_user loader -key from_disp Loader \
	-key hdrs "" -key rtp_port 9 -set call_ms 0 \
	-trace_msg -message_file "$d/$name-messages.log" -trace_err -error_file "$d/$name-errors.log" \
	-max_recv_loops 1000 "$@" >"$d/$name.out" 2>&1 &
echo $! >"$d/$name.pid"
wait $!
echo $? >"$d/$name.rc"
