#!/usr/bin/env bash
# Fuzzes the API against its own OpenAPI document with schemathesis: every
# operation, signed in as a demo user (tests/api/hooks.py), every check, on a
# fresh server with demo data. Fails on any 5xx, any response that does not
# match the document, and any other check that fails.
#
# Usage: tests/api/run.sh [path/to/securechat]   (default: target/debug/securechat)
# Environment: MAX_EXAMPLES (per operation and phase, default 250; about two minutes), SEED.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${1:-target/debug/securechat}
SCHEMATHESIS=${SCHEMATHESIS:-target/api-check/bin/schemathesis}
[ -x "$BIN" ] || { echo "no server binary at $BIN" >&2; exit 1; }
[ -x "$SCHEMATHESIS" ] || { echo "schemathesis is missing at $SCHEMATHESIS: run \`make api-check\`" >&2; exit 1; }

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATA_DIR="$WORK/data" APP_ENV=development HOST=127.0.0.1 PORT
# The fuzzer sends far more than a person would: no per-user or per-address
# limits on sending, registering or sockets.
export REGISTER_LIMIT=off SEND_RATE_LIMIT=off SOCKETS_PER_USER=off
export RUST_LOG=${RUST_LOG:-warn}
unset DATABASE_URL REDIS_URL

"$BIN" init-db --demo >"$WORK/init.log" 2>&1 || { cat "$WORK/init.log" >&2; exit 1; }
"$BIN" serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
export SECURECHAT_URL="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "$SECURECHAT_URL/healthz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done

set +e
PYTHONPATH=tests/api SCHEMATHESIS_HOOKS=hooks "$SCHEMATHESIS" \
  --config-file tests/api/schemathesis.toml \
  run "$SECURECHAT_URL/api/openapi.json" \
  --checks all \
  --max-examples "${MAX_EXAMPLES:-250}" \
  ${SEED:+--seed "$SEED"} \
  --workers 2 \
  --request-timeout 30 \
  --report-dir "$WORK/report" 2>&1 | tee "$WORK/schemathesis.log"
status=${PIPESTATUS[0]}
set -e

# The failures again, last, so that a log cut to its head and tail still
# shows which request failed and how to replay it.
if [ "$status" -ne 0 ]; then
  echo "==> the failures again:" >&2
  sed -n '/^=* FAILURES =*$/,/^=* SUMMARY =*$/p' "$WORK/schemathesis.log" | head -n 80 >&2
fi

if grep -q "panicked" "$WORK/server.log"; then
  echo "the server panicked:" >&2
  grep -A5 "panicked" "$WORK/server.log" >&2
  status=1
fi
exit "$status"
