"""Schemathesis hooks for tests/api/run.sh: every request is made as the
demo user alice with a bearer token.

The fuzzer also calls logout and logout-all, which end that session; a 401
then makes schemathesis ask for a new token, and this provider logs in
again. Its HTTP session keeps the device cookie of the first login, so the
login throttle counts alice's own logins apart from the fuzzer's failed
ones (which lock the address after twenty).
"""

import ast
import os
import threading

import requests
import schemathesis

# CPython 3.11's parser is not safe to run from two threads at once: with
# `--workers 2`, Hypothesis describing two filter lambdas at the same time
# (it parses their source) failed a run with "SystemError: AST constructor
# recursion depth mismatch". One parse at a time; nothing else changes.
_parse = ast.parse
_parse_lock = threading.Lock()


def _parse_one_at_a_time(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _parse_one_at_a_time

BASE = os.environ["SECURECHAT_URL"]
USERNAME = os.environ.get("SECURECHAT_USER", "alice")
PASSWORD = os.environ.get("SECURECHAT_PASSWORD", "password123")


@schemathesis.auth(refresh_interval=3600)
class Bearer:
    def __init__(self):
        self.http = requests.Session()

    def get(self, case, ctx):
        response = self.http.post(
            f"{BASE}/api/auth/login",
            json={"username": USERNAME, "password": PASSWORD},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["token"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


def _whole_floats_as_ints(value):
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, list):
        return [_whole_floats_as_ints(v) for v in value]
    if isinstance(value, dict):
        return {k: _whole_floats_as_ints(v) for k, v in value.items()}
    return value


@schemathesis.hook
def before_call(ctx, case, kwargs):
    # JSON Schema counts 1.0 as an integer; the server (serde) reads ids and
    # counts only from JSON numbers written without a fraction, as every
    # JSON encoder writes integers. No schema keyword can say so, so
    # generated whole floats are sent the way clients send integers.
    if isinstance(case.body, (dict, list)):
        case.body = _whole_floats_as_ints(case.body)
