#!/usr/bin/env bash
# Makes sure a Docker engine and a compose tool are usable on this machine
# (Debian 12): installs Debian's docker.io, docker-compose (1.29) and
# debootstrap when missing, and starts dockerd when it does not answer.
# Idempotent and quick when everything is there (no apt-get at all).
#
#   deploy/docker/engine.sh          install/start as needed
#   deploy/docker/engine.sh --check  only report: exit 0 when usable, 1 if not
#
# Prints the compose command to use on its last line ("compose: <cmd>"):
# `docker compose` (v2) when the docker CLI has it, else `docker-compose`.
# Needs root for the install and for starting dockerd.
set -euo pipefail

say() { echo "engine: $*"; }
die() {
	echo "engine: $*" >&2
	exit 1
}

check_only=0
[ "${1:-}" = --check ] && check_only=1

engine_up() { docker info >/dev/null 2>&1; }

compose_cmd() {
	if docker compose version >/dev/null 2>&1; then
		echo "docker compose"
	elif command -v docker-compose >/dev/null; then
		echo "docker-compose"
	fi
}

if [ $check_only = 1 ]; then
	engine_up && [ -n "$(compose_cmd)" ] && command -v debootstrap >/dev/null
	exit $?
fi

# ---- packages (only those missing). Another Docker installation (docker-ce,
# a compose plugin) counts as present: it is used, never replaced.
have_cmd() {
	case "$1" in
	docker.io) command -v dockerd >/dev/null ;;
	docker-compose) command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 ;;
	*) command -v "$1" >/dev/null ;;
	esac
}
missing=()
for p in docker.io docker-compose debootstrap; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || have_cmd "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}; run as root or: apt-get install --no-install-recommends ${missing[*]}"
	say "installing ${missing[*]}"
	# No service starts during the install (dockerd is started below, on
	# our terms); an existing policy-rc.d (e.g. inside a container) is kept.
	policy=/usr/sbin/policy-rc.d
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# temporary, from fulcrum deploy/docker/engine.sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q || die "apt-get update failed"
	apt-get install -y -q --no-install-recommends "${missing[@]}" || die "apt-get install failed"
fi

# ---- the engine
if ! engine_up; then
	[ "$(id -u)" -eq 0 ] || die "dockerd is not running and starting it needs root"
	say "starting dockerd"
	started=0
	if [ -d /run/systemd/system ]; then
		systemctl start docker && started=1
	elif [ -x /etc/init.d/docker ]; then
		# Debian's init script: mounts cgroups if needed, logs to
		# /var/log/docker.log. It fails where raising ulimits is not
		# allowed (some sandboxes): then dockerd is started directly below.
		/etc/init.d/docker start >/dev/null 2>&1 && started=1
	fi
	if [ $started = 1 ]; then
		for _ in $(seq 1 60); do
			engine_up && break
			sleep 1
		done
	fi
	if ! engine_up; then
		# Last resort: run it ourselves (pid in /run/fulcrum-dockerd.pid).
		say "starting dockerd directly (log /var/log/fulcrum-dockerd.log)"
		setsid dockerd >>/var/log/fulcrum-dockerd.log 2>&1 </dev/null &
		echo $! >/run/fulcrum-dockerd.pid
		for _ in $(seq 1 60); do
			engine_up && break
			sleep 1
		done
	fi
	engine_up || die "dockerd did not come up (see /var/log/docker.log, /var/log/fulcrum-dockerd.log)"
fi
say "docker engine $(docker version -f '{{.Server.Version}}' 2>/dev/null) is up"
c=$(compose_cmd)
[ -n "$c" ] || die "no compose tool (docker compose / docker-compose)"
echo "compose: $c"
