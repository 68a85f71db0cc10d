"""Reference peer for the Securechat benchmark: the seed's own stack
(Flask + Flask-SocketIO on eventlet, sqlite3, argon2-cffi) speaking the
benchmark protocol described in ../README.md. Served like the seed:

    PORT=5102 DB_PATH=/tmp/peer.db gunicorn -c gunicorn.conf.py app:app
"""

import hashlib
import os
import re
import secrets
import sqlite3
import sys

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, jsonify, request
from flask_socketio import SocketIO

import realtime
import store

USERNAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")

db_path = os.environ.get("DB_PATH")
if not db_path:
    sys.exit("Set DB_PATH (SQLite file, created if missing) and PORT")
db = store.connect(db_path)
hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)

app = Flask(__name__)
app.json.sort_keys = False
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
socketio = SocketIO(app, async_mode="eventlet", logger=False, engineio_logger=False)


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def fail(code, message):
    return {"success": False, "code": code, "message": message}


@app.errorhandler(ApiError)
def api_error(e):
    return jsonify(fail(e.code, e.message)), e.status


@app.errorhandler(404)
def no_route(_e):
    return jsonify(fail("not_found", f"No route {request.path}")), 404


@app.errorhandler(405)
def wrong_method(_e):
    return jsonify(fail("method_not_allowed", f"Wrong method for {request.path}")), 405


@app.errorhandler(413)
def too_large(_e):
    return jsonify(fail("payload_too_large", "Request bodies are limited to 1 MiB")), 413


def token_hash(token):
    return hashlib.sha256(token.encode()).digest()


def user_for_token(token):
    if not isinstance(token, str) or not token or len(token) > 256:
        return None
    return db.execute(
        "SELECT u.id, u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?",
        (token_hash(token),),
    ).fetchone()


def current_user():
    header = request.headers.get("Authorization", "")
    user = user_for_token(header[7:].strip()) if header.startswith("Bearer ") else None
    if user is None:
        raise ApiError(401, "unauthorized", "Log in first: send Authorization: Bearer <token>")
    return user


def json_body():
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_payload", "Send a JSON object body")
    return body


def text(value, field, limit, code):
    if not isinstance(value, str):
        raise ApiError(422, code, f"{field} must be a string")
    value = value.strip()
    if len(value) > limit or any(c != "\n" and (ord(c) < 32 or 127 <= ord(c) < 160) for c in value):
        raise ApiError(422, code, f"{field} must be at most {limit} characters, without control characters")
    return value


def flag(value, field):
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ApiError(422, "invalid_payload", f"{field} must be true or false")
    return value


def int_param(name):
    raw = request.args.get(name, "")
    if raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 15):
        raise ApiError(400, "invalid_query", f"{name} must be a non-negative integer")
    return int(raw)


@app.post("/api/auth/register")
def register():
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise ApiError(422, "invalid_username", "Usernames are 1 to 32 of A-Z a-z 0-9 _ . -")
    if not isinstance(password, str) or len(password) < 8:
        raise ApiError(422, "weak_password", "Passwords need at least 8 characters")
    taken = ApiError(409, "username_taken", "That username is taken; choose another")
    if db.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
        raise taken
    password_hash = hasher.hash(password)
    try:
        user_id = db.execute(
            "INSERT INTO users(username, password_hash, created_at) VALUES (?, ?, ?) RETURNING id",
            (username, password_hash, store.now_ms()),
        ).fetchone()[0]
    except sqlite3.IntegrityError:
        raise taken from None
    return jsonify(success=True, user={"id": user_id, "username": username}), 201


@app.post("/api/auth/login")
def login():
    body = json_body()
    username, password = body.get("username"), body.get("password")
    user = None
    if isinstance(username, str) and isinstance(password, str):
        user = db.execute(
            "SELECT id, username, password_hash, created_at FROM users WHERE username = ?", (username,)
        ).fetchone()
    try:
        if user is None or not hasher.verify(user["password_hash"], password):
            user = None
    except (VerificationError, InvalidHashError):
        user = None
    if user is None:
        raise ApiError(401, "invalid_credentials", "Wrong username or password")
    token = secrets.token_urlsafe(32)
    db.execute(
        "INSERT INTO sessions(token_hash, user_id, created_at) VALUES (?, ?, ?)",
        (token_hash(token), user["id"], store.now_ms()),
    )
    return jsonify(
        success=True, user={
            "id": user["id"],
            "username": user["username"],
            "is_admin": False,
            "created_at": store.iso(user["created_at"]),
        },
        token=token,
    )


@app.post("/api/rooms")
def create_room():
    user = current_user()
    body = json_body()
    name = text(body.get("name"), "Room name", 64, "invalid_name")
    if not name:
        raise ApiError(422, "invalid_name", "Room name must be 1 to 64 characters long")
    description = text(body.get("description") or "", "Description", 500, "invalid_text")
    private = flag(body.get("is_private"), "is_private")
    with store.transaction(db):
        room_id = db.execute(
            "INSERT INTO rooms(name, description, is_private, created_at) VALUES (?, ?, ?, ?) RETURNING id",
            (name, description, int(private), store.now_ms()),
        ).fetchone()[0]
        db.execute("INSERT INTO channels(room_id, name) VALUES (?, 'general')", (room_id,))
        db.execute("INSERT INTO room_members(room_id, user_id, role) VALUES (?, ?, 'owner')", (room_id, user["id"]))
    return jsonify(store.room_body(db, room_id, user["id"])), 201


@app.post("/api/rooms/<int:room_id>/join")
def join_room_http(room_id):
    user = current_user()
    room = db.execute("SELECT is_private FROM rooms WHERE id = ?", (room_id,)).fetchone()
    if room is None or (room["is_private"] and store.role(db, room_id, user["id"]) is None):
        raise ApiError(404, "room_not_found", "No such room, or it is private")
    db.execute(
        "INSERT INTO room_members(room_id, user_id, role) VALUES (?, ?, 'member') ON CONFLICT DO NOTHING",
        (room_id, user["id"]),
    )
    return jsonify(store.room_body(db, room_id, user["id"]))


@app.post("/api/rooms/<int:room_id>/channels")
def create_channel(room_id):
    user = current_user()
    body = json_body()
    role = store.role(db, room_id, user["id"])
    if role is None:
        raise ApiError(404, "room_not_found", "No such room, or it is private")
    if role not in ("owner", "admin"):
        raise ApiError(403, "forbidden", "Only the room owner or an admin can create channels")
    name = body.get("name").strip() if isinstance(body.get("name"), str) else ""
    if not 1 <= len(name) <= 64 or not all(c.isalnum() or c in "-_" for c in name):
        raise ApiError(422, "invalid_name", "Channel names are 1 to 64 letters, digits, '-' or '_'")
    topic = text(body.get("topic") or "", "Topic", 250, "invalid_text")
    encrypted = flag(body.get("is_encrypted"), "is_encrypted")
    channel = db.execute(
        "INSERT INTO channels(room_id, name, topic, is_encrypted) VALUES (?, ?, ?, ?) "
        f"ON CONFLICT(room_id, name) DO NOTHING RETURNING {store.CHANNEL_COLUMNS}",
        (room_id, name, topic, int(encrypted)),
    ).fetchone()
    if channel is None:
        raise ApiError(409, "channel_name_taken", f"This room already has a channel {name}")
    return jsonify(success=True, channel=store.channel_view(channel)), 201


@app.get("/api/channels/<int:channel_id>/messages")
def history(channel_id):
    user = current_user()
    if store.member_channel(db, user["id"], channel_id) is None:
        raise ApiError(404, "channel_not_found", "No such channel, or you are not a member of its room")
    before, after = int_param("before"), int_param("after")
    limit = int_param("limit")
    limit = 50 if limit is None else min(200, max(1, limit))
    messages, has_more = store.page(db, channel_id, before=before, after=after, limit=limit)
    return jsonify(success=True, messages=messages, has_more=has_more)


realtime.register(socketio, db, user_for_token)
