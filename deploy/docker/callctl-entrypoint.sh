#!/usr/bin/env bash
# Entry point of the callctl image (deploy/Dockerfile.callctl).
# Every callctl instance must use the same AccountSid/AuthToken. When
# FULCRUM_ACCOUNT_SID / FULCRUM_AUTH_TOKEN are not set, they are generated once
# (AC + 32 hex / 32 hex, as deploy/stack.sh does) into
# $FULCRUM_STATE_DIR/credentials, a volume all instances share (compose:
# fulcrum-state), under a lock so that instances starting together agree.
# Read them with: docker compose exec callctl cat /var/lib/fulcrum/credentials
set -euo pipefail
state=${FULCRUM_STATE_DIR:-/var/lib/fulcrum}
if [ -z "${FULCRUM_ACCOUNT_SID:-}" ] || [ -z "${FULCRUM_AUTH_TOKEN:-}" ]; then
	f=$state/credentials
	exec 9>>"$state/.credentials.lock"
	flock 9
	if [ ! -s "$f" ]; then
		sid=AC$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
		tok=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
		(
			umask 077
			printf 'FULCRUM_ACCOUNT_SID=%s\nFULCRUM_AUTH_TOKEN=%s\n' "$sid" "$tok" >"$f.tmp"
			mv "$f.tmp" "$f"
		)
		echo "callctl: generated credentials in $f"
	fi
	exec 9>&-
	sid=$(sed -n 's/^FULCRUM_ACCOUNT_SID=//p' "$f")
	tok=$(sed -n 's/^FULCRUM_AUTH_TOKEN=//p' "$f")
	export FULCRUM_ACCOUNT_SID=${FULCRUM_ACCOUNT_SID:-$sid}
	export FULCRUM_AUTH_TOKEN=${FULCRUM_AUTH_TOKEN:-$tok}
fi
export FULCRUM_PUBLIC_URL=${FULCRUM_PUBLIC_URL:-http://${FULCRUM_PUBLIC_API:-127.0.0.1:8080}}
echo "callctl: AccountSid $FULCRUM_ACCOUNT_SID, REST on $FULCRUM_API_ADDR:$FULCRUM_API_PORT, public URL ${FULCRUM_PUBLIC_URL:-(default)}"
exec /usr/local/bin/callctl "$@"
