#!/usr/bin/env bash
# Builds the local base image `fulcrum-base:bookworm` (Debian 12, debootstrap
# variant minbase) for machines that reach Debian's package mirror but no
# image registry. The Dockerfiles under deploy/ take it as
#   --build-arg BASE_IMAGE=fulcrum-base:bookworm
# (their default, debian:bookworm-slim, needs a registry).
#
#   deploy/docker/base-image.sh [--force] [image]   default image: fulcrum-base:bookworm
#
# Idempotent: does nothing when the image exists (--force rebuilds it).
# Installs docker.io / docker-compose / debootstrap when missing and starts
# dockerd when it is not running (deploy/docker/engine.sh). Needs root.
#
# The mirror is the one this machine's apt uses (/etc/apt/sources.list and
# /etc/apt/sources.list.d/*.sources, Debian stanzas for bookworm*): the image
# gets the same apt sources (bookworm, bookworm-updates, bookworm-security as
# the host has them), so that `apt-get install` in the Dockerfiles and
# `apt-get source` in deploy/fetch-kamailio-src.sh use the same mirror.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

force=0
if [ "${1:-}" = --force ]; then
	force=1
	shift
fi
image=${1:-${FULCRUM_BASE_IMAGE:-fulcrum-base:bookworm}}
suite=bookworm

say() { echo "base-image: $*"; }
die() {
	echo "base-image: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, docker)"
bash "$here/engine.sh" >/dev/null || die "no usable Docker engine (deploy/docker/engine.sh)"

if [ $force = 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
	say "$image exists ($(docker image inspect -f '{{.Id}}' "$image" | cut -c1-19)); nothing to do"
	exit 0
fi

# ---- the host's Debian sources: "uri suite components" lines, deb only
host_sources() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN{RS="";FS="\n"}
		{ t="";u="";s="";c="main";en=1
		  for(i=1;i<=NF;i++){
		    if($i~/^Types:/){t=$i}
		    if($i~/^URIs:/){sub(/^URIs: */,"",$i);u=$i}
		    if($i~/^Suites:/){sub(/^Suites: */,"",$i);s=$i}
		    if($i~/^Components:/){sub(/^Components: */,"",$i);c=$i}
		    if($i~/^Enabled: *no/){en=0}
		  }
		  if(t~/[: ]deb( |$)/ && u!="" && s!="" && en) { n=split(s,ss," "); for(j=1;j<=n;j++) print u" "ss[j]" "c }
		}' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -E -n 's/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+([^[:space:]]+)[[:space:]]+(.*)$/\2 \3 \4/p' "$f"
	done
}
mapfile -t src < <(host_sources | awk -v s="$suite" '$2 ~ "^"s"([-/]|$)"' | awk '!seen[$0]++')
[ ${#src[@]} -gt 0 ] || die "no Debian $suite source in /etc/apt/sources.list(.d)"
mirror=""
for l in "${src[@]}"; do
	read -r u s _ <<<"$l"
	if [ "$s" = "$suite" ]; then
		mirror=$u
		break
	fi
done
[ -n "$mirror" ] || die "no '$suite' suite in the host's apt sources (only: ${src[*]})"
say "mirror $mirror (from the host's apt sources)"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/fulcrum-base.XXXXXX")
root=$work/rootfs
cleanup() {
	# debootstrap unmounts what it mounted; make sure before deleting.
	local m
	for m in $(awk -v r="$root" '$2 ~ "^"r {print $2}' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

t0=$SECONDS
say "debootstrap --variant=minbase $suite (this takes a few minutes)"
if ! debootstrap --variant=minbase --components=main "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
	tail -n 20 "$work/debootstrap.log" >&2
	[ -f "$root/debootstrap/debootstrap.log" ] && tail -n 20 "$root/debootstrap/debootstrap.log" >&2
	die "debootstrap failed"
fi
say "debootstrap done in $((SECONDS - t0)) s"

# apt sources of the image: the host's bookworm* entries, one-line format
# (understood by apt and by deploy/fetch-kamailio-src.sh).
{
	echo "# from the build host's apt sources (deploy/docker/base-image.sh)"
	for l in "${src[@]}"; do
		read -r u s c <<<"$l"
		echo "deb $u $s $c"
	done
} >"$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*

# What Debian's own images do: no service starts inside the container, no
# downloaded .debs or package lists kept in the image, no recommends.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$root/etc/apt/apt.conf.d/docker-no-recommends"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/tmp/* "$root"/debootstrap
: >"$root/etc/hostname"
: >"$root/etc/resolv.conf"

say "docker import → $image"
tar --numeric-owner --xattrs -C "$root" -c . |
	docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV LANG=C.UTF-8' \
		--change 'CMD ["bash"]' \
		--message "debootstrap --variant=minbase $suite $mirror" \
		- "$image" >/dev/null
say "$image built in $((SECONDS - t0)) s ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}'))"
