#!/usr/bin/env bash
# Fails with a clear message unless the module's embedded version and
# compile-flags strings equal those of the installed kamailio (kamailio -V).
set -euo pipefail
so=$1
want_ver=$(kamailio -V | sed -n 's/^version: \(.*[^ ]\) *$/\1/p')
want_flags=$(kamailio -V | sed -n 's/^flags: \(.*[^ ]\) *$/\1/p')
have=$(strings "$so")
if ! grep -qxF "$want_ver" <<<"$have"; then
	echo "fulcrum.so: version string differs from the installed kamailio" >&2
	echo "  kamailio -V: '$want_ver'" >&2
	echo "  module:      '$(grep -m1 '^kamailio [0-9]' <<<"$have" || echo none)'" >&2
	exit 1
fi
if ! grep -qxF "$want_flags" <<<"$have"; then
	echo "fulcrum.so: compile flags differ from the installed kamailio" >&2
	echo "  kamailio -V: '$want_flags'" >&2
	echo "  module:      '$(grep -m1 '^USE_' <<<"$have" || echo none)'" >&2
	exit 1
fi
echo "fulcrum.so: version and flags match kamailio -V ($want_ver)"
