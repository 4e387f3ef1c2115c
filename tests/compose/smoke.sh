#!/usr/bin/env bash
# The quick compose check: tests/compose/run.sh with its first cases only
# (smoke, scale): builds, starts 2 proxies + 2 callctl under the project
# fulcrum-smoke on 127.0.0.1:15060 (SIP) / 18080 (REST), checks health, REST,
# OPTIONS, a 404, 24 calls spread over both proxies, tears down.
# FULCRUM_SMOKE_KEEP=1 leaves it running. Logs: build/compose-smoke/.
# Last line: "N passed, N failed". The whole suite: make test-compose.
export FULCRUM_COMPOSE_PROJECT=fulcrum-smoke
export FULCRUM_COMPOSE_PROXIES=2
export FULCRUM_COMPOSE_CASES="smoke scale"
export FULCRUM_COMPOSE_SIP_PORT=${FULCRUM_SMOKE_SIP_PORT:-15060}
export FULCRUM_COMPOSE_API_PORT=${FULCRUM_SMOKE_API_PORT:-18080}
export FULCRUM_COMPOSE_WEBHOOK_PORT=${FULCRUM_SMOKE_WEBHOOK_PORT:-18000}
export FULCRUM_COMPOSE_KEEP=${FULCRUM_SMOKE_KEEP:-0}
export FULCRUM_COMPOSE_LOGS=build/compose-smoke
export FULCRUM_TAG=${FULCRUM_TAG:-latest}
exec bash "$(dirname "$0")/run.sh"
