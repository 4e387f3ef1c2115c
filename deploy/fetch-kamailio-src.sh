#!/usr/bin/env bash
# Fetches Debian's source package for the *installed* kamailio version into
# $1 (default build/kamailio-src) and prepares it for out-of-tree module builds
# (`make cfg`). The deb-src entry lives in the build dir: the system's apt
# sources are never edited. Idempotent: does nothing when the tree is ready.
set -euo pipefail

dest=${1:-build/kamailio-src}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

ver=$(dpkg-query -W -f='${Version}' kamailio 2>/dev/null || true)
[ -n "$ver" ] || { echo "fetch-kamailio-src: kamailio is not installed" >&2; exit 1; }

stamp="$dest/.ready-$ver"
if [ -f "$stamp" ]; then
	cat "$stamp"
	exit 0
fi

# Reuse the mirror(s) the machine already uses for binaries, as deb-src.
apt_dir="$dest/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
src_list="$apt_dir/sources.list"
: > "$src_list"
emit() { echo "deb-src [signed-by=$3] $1 $2 main" >> "$src_list"; }
key=/usr/share/keyrings/debian-archive-keyring.gpg
found=0
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	# deb822: take URIs/Suites of "Types: deb" stanzas.
	awk 'BEGIN{RS="";FS="\n"} /Types:[^\n]*deb/ {u="";s=""; for(i=1;i<=NF;i++){ if($i~/^URIs:/){sub(/^URIs: */,"",$i);u=$i} if($i~/^Suites:/){sub(/^Suites: */,"",$i);s=$i} } if(u!=""&&s!="") print u"|"s }' "$f" |
		while IFS='|' read -r uri suites; do
			for s in $suites; do emit "$uri" "$s" "$key"; done
		done
done
if [ -f /etc/apt/sources.list ]; then
	grep -E '^deb\s' /etc/apt/sources.list | while read -r _ rest; do
		set -- $rest
		case "$1" in \[*) shift ;; esac
		emit "$1" "$2" "$key"
	done
fi
[ -s "$src_list" ] && found=1
[ "$found" = 1 ] || { echo "fetch-kamailio-src: no Debian mirror found in apt sources" >&2; exit 1; }

apt_opts=(-o "Dir::Etc::SourceList=$src_list" -o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::Archives=$apt_dir/archives"
	-o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1")
apt-get "${apt_opts[@]}" -qq update
(cd "$dest" && apt-get "${apt_opts[@]}" -qq source --download-only "kamailio=$ver")
dsc=$(ls "$dest"/kamailio_*.dsc | head -n1)
rm -rf "$dest/tree"
dpkg-source --no-check -x "$dsc" "$dest/tree" >/dev/null

# `make cfg` writes src/config.mak with the flags Debian's build used.
# LIBSSL_SET_MUTEX_SHARED is forced: it is auto-detected only with libssl-dev,
# and the installed core carries TLS_PTHREAD_MUTEX_SHARED.
(cd "$dest/tree" && make -s FLAVOUR=kamailio cfg LIBSSL_SET_MUTEX_SHARED=1 \
	CC_EXTRA_OPTS="-DVERSION_NODATE" >/dev/null)
echo "$dest/tree/src" > "$stamp"
cat "$stamp"
