#!/usr/bin/env bash
# Starts one benchmark peer on a fresh database, runs the conformance check
# and the load check against it, then stops it with SIGTERM and requires a
# clean exit. Run `make bench-peers` first.
#
#   bench/peers/check.sh node|python [PORT]
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
peer="${1:-}"
port="${2:-5199}"
case "$peer" in
  node) cmd=(node "$here/node/server.mjs"); dir="$here/node" ;;
  python)
    gunicorn="$root/target/bench-peer-python/bin/gunicorn"
    [[ -x "$gunicorn" ]] || { echo "missing $gunicorn: run make bench-peers" >&2; exit 2; }
    cmd=("$gunicorn" -c "$here/python/gunicorn.conf.py" app:app); dir="$here/python" ;;
  *) echo "usage: $0 node|python [PORT]" >&2; exit 2 ;;
esac

work="$(mktemp -d)"
trap 'kill -TERM "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$dir" && PORT="$port" DB_PATH="$work/peer.db" exec "${cmd[@]}") >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 100); do
  grep -q . "$work/stdout" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/stderr" >&2; echo "$peer peer exited on start" >&2; exit 1; }
  sleep 0.1
done
[[ "$(cat "$work/stdout")" == "listening on $port" ]] || { echo "unexpected stdout: $(cat "$work/stdout")" >&2; exit 1; }

status=0
node "$here/conformance.mjs" "http://127.0.0.1:$port" || status=1
node "$here/loadcheck.mjs" "http://127.0.0.1:$port" || status=1

kill -TERM "$pid"
if wait "$pid"; then echo "$peer peer: clean exit on SIGTERM"; else echo "$peer peer: exit status $? on SIGTERM" >&2; status=1; fi
[[ "$(wc -l <"$work/stdout")" -eq 1 ]] || { echo "the peer printed more than one line on stdout" >&2; status=1; }
exit "$status"
