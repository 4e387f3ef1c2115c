#!/usr/bin/env bash
# Installs the Debian 12 packages Fulcrum needs to build, run and test, and
# only those that are missing. Idempotent and quick when everything is there
# (one dpkg-query per package, no apt-get at all). Needs root only when
# something is missing.
#
# Services: installing redis-server, rtpengine-daemon or kamailio would start
# their system services and take the ports Fulcrum uses. While installing, a
# temporary /usr/sbin/policy-rc.d forbids service starts (unless the machine
# already has one, e.g. in Docker, which does the same). Afterwards, for the
# packages installed by this run only, their services are stopped if this
# install started them, and disabled. Services that were already installed or
# running before are never touched.
set -euo pipefail

PKGS=(
	kamailio kamailio-extra-modules rtpengine-daemon redis-server
	libhiredis-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libuv1-dev
	libexpat1-dev libssl-dev libcmocka-dev
	sip-tester dpkg-dev pkg-config build-essential clang
	python3 iproute2 procps curl
	baresip-core
)
# Packages wanted only when their command is missing: Node.js and npm run
# Twilio's Node.js helper library in tests/e2e/test_twilio_node.py; dumpcap
# captures loopback for make bench's added-delay figures. A Node.js
# from elsewhere (NodeSource's nodejs ships npm and conflicts with Debian's
# npm package) is left alone.
declare -A CMD_PKGS=(
	[nodejs]=node
	[npm]=npm
	[wireshark-common]=dumpcap
)
# package -> the system services it ships
declare -A SERVICES=(
	[redis-server]="redis-server"
	[rtpengine-daemon]="rtpengine-daemon rtpengine"
	[kamailio]="kamailio"
)

say() { echo "install-deps: $*"; }

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
for p in "${!CMD_PKGS[@]}"; do
	command -v "${CMD_PKGS[$p]}" >/dev/null || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	say "all $((${#PKGS[@]} + ${#CMD_PKGS[@]})) packages present"
	exit 0
fi

say "missing: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: root is needed to install them. Run as root:" >&2
	echo "    sudo bash deploy/install-deps.sh" >&2
	echo "or install them yourself:" >&2
	echo "    apt-get install --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
command -v apt-get >/dev/null || { echo "install-deps: apt-get not found (Debian 12 expected)" >&2; exit 1; }

have_systemd=0
[ -d /run/systemd/system ] && have_systemd=1

svc_active() {
	local s=$1
	if [ $have_systemd = 1 ]; then
		systemctl is-active --quiet "$s" 2>/dev/null
	elif [ -x "/etc/init.d/$s" ]; then
		"/etc/init.d/$s" status >/dev/null 2>&1
	else
		return 1
	fi
}

# Which services run right now (before the install): those are left alone.
declare -A was_active=()
for p in "${missing[@]}"; do
	for s in ${SERVICES[$p]:-}; do
		if svc_active "$s"; then was_active[$s]=1; fi
	done
done

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# temporary, from fulcrum deploy/install-deps.sh\nexit 101\n' > "$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
say "apt-get update"
if ! apt-get update -q; then
	echo "install-deps: apt-get update failed (network or apt sources?)" >&2
	exit 1
fi
say "apt-get install ${missing[*]}"
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
	echo "install-deps: apt-get install failed" >&2
	exit 1
fi

for p in "${missing[@]}"; do
	for s in ${SERVICES[$p]:-}; do
		[ -n "${was_active[$s]:-}" ] && continue
		if svc_active "$s"; then
			say "stopping $s (started by the install)"
			if [ $have_systemd = 1 ]; then
				systemctl stop "$s" || true
			else
				"/etc/init.d/$s" stop >/dev/null 2>&1 || true
			fi
		fi
		if [ $have_systemd = 1 ]; then
			systemctl disable --quiet "$s" 2>/dev/null || true
		elif [ -x "/etc/init.d/$s" ] && command -v update-rc.d >/dev/null; then
			update-rc.d "$s" disable >/dev/null 2>&1 || true
		fi
	done
done

still=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || still+=("$p")
done
for p in "${!CMD_PKGS[@]}"; do
	command -v "${CMD_PKGS[$p]}" >/dev/null || still+=("$p")
done
if [ ${#still[@]} -ne 0 ]; then
	echo "install-deps: still missing after install: ${still[*]}" >&2
	exit 1
fi
say "done"
