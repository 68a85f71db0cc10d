"""gunicorn settings for the Python peer: the seed's way of serving
(`--worker-class eventlet -w 1`), bound to 127.0.0.1:$PORT, quiet."""

import os
import sys

port = os.environ.get("PORT", "")
if not port.isdigit() or not 1 <= int(port) <= 65535:
    sys.exit("Set PORT (1-65535, listens on 127.0.0.1) and DB_PATH (SQLite file, created if missing)")

bind = f"127.0.0.1:{port}"
worker_class = "eventlet"
workers = 1
# gunicorn's default (1,000 concurrent connections per worker) would cap the
# peer far below what the benchmark holds; a team running the seed at scale
# raises it too.
worker_connections = 100_000
# No per-request logging; warnings and errors only.
accesslog = None
loglevel = "warning"
# Long-lived WebSockets would hold a graceful stop open for the default 30 s.
graceful_timeout = 3
# The worker has loaded the app and is about to accept: the line the benchmark waits for.


def post_worker_init(worker):
    print(f"listening on {port}", flush=True)
