"""A local Web Push service for the server's push tests
(crates/securechat-server/tests/push.rs).

It plays both halves the server cannot see: the browser (it makes each
subscription's P-256 key pair and auth secret) and the push service (it
receives the server's push requests). Every check uses implementations
independent of the server's code: the payload is decrypted with PyPI's
`http_ece` (RFC 8188/8291) with the subscription's private key and auth
secret, and the VAPID token (RFC 8292) is verified with `py_vapid` and
`cryptography`: an ES256 signature under the key in `k=`, which must be the
application server key the subscription was made with, `aud` the origin
of the endpoint, `exp` in the future and at most 24 hours away, `sub` a
`mailto:` or `https:` contact.

A push that passes is decrypted and recorded, and answered with the next
status the test scripted for that subscription (201 once the script is
used up). One that fails a check is recorded as rejected with the reason,
and answered 400 (bad encryption) or 403 (bad VAPID), as a real push
service would.

Control API (JSON), for the test:
  POST /subscriptions {"application_server_key": b64url}
       -> {"id", "endpoint", "keys": {"p256dh", "auth"}}
  POST /subscriptions/ID/script {"statuses": [500, 201], "retry_after": 1?}
  GET  /subscriptions/ID -> {"received": [...], "attempts": [...], "rejected": [...]}

Usage: push_service.py --port PORT [--state FILE]. It prints
"push service listening on http://127.0.0.1:PORT" once it accepts
connections. With --state, subscriptions (their keys) are kept in FILE, so
a push service stopped and started again on the same port knows them.
"""

import argparse
import base64
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import jwt as vapid_jwt

LOCK = threading.Lock()
SUBSCRIPTIONS = {}
STATE_FILE = None
ORIGIN = None


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def save_state():
    if STATE_FILE is None:
        return
    keep = {
        sid: {k: s[k] for k in ("private", "auth", "application_server_key")}
        for sid, s in SUBSCRIPTIONS.items()
    }
    with open(STATE_FILE, "w") as f:
        json.dump(keep, f)


def load_state():
    if STATE_FILE is None or not os.path.exists(STATE_FILE):
        return
    with open(STATE_FILE) as f:
        for sid, s in json.load(f).items():
            SUBSCRIPTIONS[sid] = new_record(s["private"], s["auth"], s["application_server_key"])


def new_record(private_b64, auth_b64, server_key):
    return {
        "private": private_b64,
        "auth": auth_b64,
        "application_server_key": server_key,
        "script": [],
        "retry_after": None,
        "received": [],
        "attempts": [],
        "rejected": [],
    }


def private_key(record):
    value = int.from_bytes(b64d(record["private"]), "big")
    return ec.derive_private_key(value, ec.SECP256R1())


def vapid_claims(header, record):
    """The claims of a valid VAPID Authorization header, or an exception."""
    match = re.fullmatch(r"vapid\s+(.*)", header or "", re.IGNORECASE | re.DOTALL)
    if not match:
        raise ValueError("Authorization is not the vapid scheme")
    params = {}
    for part in match.group(1).split(","):
        name, _, value = part.strip().partition("=")
        params[name.strip()] = value.strip()
    token, key = params.get("t"), params.get("k")
    if not token or not key:
        raise ValueError("vapid needs t= and k=")
    if key != record["application_server_key"]:
        raise ValueError("k is not the subscription's application server key")
    head = json.loads(b64d(token.split(".")[0]))
    if head.get("alg") != "ES256":
        raise ValueError(f"JWT alg is {head.get('alg')!r}, not ES256")
    claims = vapid_jwt.decode(token, key)  # raises InvalidSignature
    now = time.time()
    if claims.get("aud") != ORIGIN:
        raise ValueError(f"aud {claims.get('aud')!r} is not {ORIGIN!r}")
    exp = claims.get("exp")
    if not isinstance(exp, int) or not now < exp <= now + 24 * 3600:
        raise ValueError(f"exp {exp!r} is not within 24 hours")
    sub = claims.get("sub", "")
    if not (sub.startswith("mailto:") or sub.startswith("https:")):
        raise ValueError(f"sub {sub!r} is not a mailto: or https: contact")
    return claims


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=None, headers=()):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length)

    def do_GET(self):
        match = re.fullmatch(r"/subscriptions/(\w+)", self.path)
        with LOCK:
            record = SUBSCRIPTIONS.get(match.group(1)) if match else None
            if record is None:
                return self.reply(404, {"error": "no such subscription"})
            view = {k: record[k] for k in ("received", "attempts", "rejected")}
        self.reply(200, view)

    def do_POST(self):
        data = self.body()
        if self.path == "/subscriptions":
            request = json.loads(data)
            key = ec.generate_private_key(ec.SECP256R1())
            public = key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
            sid = os.urandom(8).hex()
            private = b64e(key.private_numbers().private_value.to_bytes(32, "big"))
            auth = b64e(os.urandom(16))
            with LOCK:
                SUBSCRIPTIONS[sid] = new_record(private, auth, request["application_server_key"])
                save_state()
            return self.reply(
                201,
                {
                    "id": sid,
                    "endpoint": f"{ORIGIN}/push/{sid}",
                    "keys": {"p256dh": b64e(public), "auth": auth},
                },
            )
        match = re.fullmatch(r"/subscriptions/(\w+)/script", self.path)
        if match:
            request = json.loads(data)
            with LOCK:
                record = SUBSCRIPTIONS.get(match.group(1))
                if record is None:
                    return self.reply(404, {"error": "no such subscription"})
                record["script"] = list(request.get("statuses", []))
                record["retry_after"] = request.get("retry_after")
            return self.reply(200, {})
        match = re.fullmatch(r"/push/(\w+)", self.path)
        if match:
            return self.push(match.group(1), data)
        self.reply(404, {"error": "unknown path"})

    def push(self, sid, data):
        with LOCK:
            record = SUBSCRIPTIONS.get(sid)
        if record is None:
            return self.reply(410, {"error": "no such subscription"})
        try:
            if self.headers.get("Content-Encoding") != "aes128gcm":
                raise ValueError("Content-Encoding is not aes128gcm")
            ttl = self.headers.get("TTL")
            if ttl is None or not ttl.isdigit():
                raise ValueError("TTL header missing")
            claims = vapid_claims(self.headers.get("Authorization"), record)
        except Exception as e:  # noqa: BLE001 - any failure is a rejection
            with LOCK:
                record["rejected"].append(f"vapid: {e}")
            return self.reply(403, {"error": str(e)})
        try:
            plaintext = http_ece.decrypt(
                data,
                private_key=private_key(record),
                auth_secret=b64d(record["auth"]),
                version="aes128gcm",
            )
            payload = json.loads(plaintext)
        except Exception as e:  # noqa: BLE001
            with LOCK:
                record["rejected"].append(f"decrypt: {e!r}")
            return self.reply(400, {"error": "cannot decrypt"})
        with LOCK:
            status = record["script"].pop(0) if record["script"] else 201
            entry = {
                "payload": payload,
                "status": status,
                "ttl": int(ttl),
                "vapid": claims,
                "size": len(data),
                "at": time.time(),
            }
            record["attempts"].append(entry)
            if 200 <= status < 300:
                record["received"].append(entry)
            retry_after = record["retry_after"]
        headers = [("Retry-After", str(retry_after))] if retry_after is not None and status >= 400 else []
        self.reply(status, None, headers)


def main():
    global STATE_FILE, ORIGIN
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state")
    args = parser.parse_args()
    STATE_FILE = args.state
    load_state()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    ORIGIN = f"http://127.0.0.1:{server.server_address[1]}"
    print(f"push service listening on {ORIGIN}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
