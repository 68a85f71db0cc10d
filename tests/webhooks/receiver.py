"""The receiving end of the server's outgoing-webhook test
(crates/securechat-server/tests/webhooks.rs), in Python's standard library
only: an HTTP server that checks each delivery's signature with its own
HMAC-SHA256 computation, independent of the server's, and records it.

Every POST is written to OUT/NNNN.json as {"verified", "timestamp",
"signature", "body", "path"}. The signing secret is read from OUT/secret
(written by the test once the webhook exists) at each request. OUT/script,
if present, holds the statuses to answer, one per line, consumed in order
(e.g. "500" then "200"); without one, or once it is used up, the answer is
200.

    python3 receiver.py --port 8080 --out /tmp/deliveries
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


def expected_signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """What X-Securechat-Signature must say: HMAC-SHA256 over
    "<timestamp>.<body>" keyed with the secret, as lowercase hex."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def next_status(out: str) -> int:
    path = os.path.join(out, "script")
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        return 200
    if not lines:
        return 200
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines[1:]) + ("\n" if lines[1:] else ""))
    return int(lines[0])


def handler(out: str):
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the stdlib's name)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            timestamp = self.headers.get("X-Securechat-Timestamp", "")
            signature = self.headers.get("X-Securechat-Signature", "")
            try:
                with open(os.path.join(out, "secret"), "rb") as f:
                    secret = f.read().strip()
            except FileNotFoundError:
                secret = b""
            verified = bool(secret) and hmac.compare_digest(
                expected_signature(secret, timestamp, body), signature
            )
            with LOCK:
                status = next_status(out)
                count = len([n for n in os.listdir(out) if n.endswith(".json")])
                record = {
                    "verified": verified,
                    "timestamp": timestamp,
                    "signature": signature,
                    "content_type": self.headers.get("Content-Type", ""),
                    "path": self.path,
                    "status": status,
                    "body": json.loads(body) if body else None,
                }
                tmp = os.path.join(out, f"{count:04}.tmp")
                with open(tmp, "w", encoding="utf-8") as f:
                    json.dump(record, f)
                os.replace(tmp, os.path.join(out, f"{count:04}.json"))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    return Receiver


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(args.out))
    print("listening", flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
