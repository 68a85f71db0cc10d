"""The Socket.IO half of the benchmark protocol on Flask-SocketIO: token
handshake, joining and leaving channels, and sending messages, each
committed in its own transaction before the ack."""

import logging
import re

from flask import request
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room

import store

CLIENT_MSG_ID = re.compile(r"[\x21-\x7e]{1,64}")
MAX_CONTENT_CHARS = 4000
MAX_ENVELOPE_BYTES = 64 * 1024
JOIN_PAGE = 50
RESUME_LIMIT = 500

log = logging.getLogger("peer")


def fail(code, message):
    return {"success": False, "code": code, "message": message}


def invalid(message):
    return fail("invalid_payload", message)


def not_found():
    return fail("channel_not_found", "No such channel, or you are not a member of its room")


def is_id(value):
    return type(value) is int and 0 < value < 2**63


def guarded(handler):
    """Acks `internal_error` instead of dropping the ack when a handler fails."""

    def run(data=None, *_extra):
        try:
            return handler(data)
        except Exception:
            log.exception("%s failed", handler.__name__)
            return fail("internal_error", "The server failed; send it again")

    run.__name__ = handler.__name__
    return run


def register(socketio, db, user_for_token):
    users = {}  # Socket.IO sid -> (user id, username)

    @socketio.on("connect")
    def connect(auth=None):
        user = user_for_token(auth.get("token")) if isinstance(auth, dict) else None
        if user is None:
            raise ConnectionRefusedError("unauthorized")
        users[request.sid] = (user["id"], user["username"])
        join_room(f"user:{user['id']}")

    @socketio.on("disconnect")
    def disconnect(*_reason):
        users.pop(request.sid, None)

    @socketio.on("join_channel")
    @guarded
    def join_channel(data):
        user_id, _ = users[request.sid]
        if not isinstance(data, dict) or not is_id(data.get("channel_id")):
            return invalid("channel_id must be a channel id")
        channel_id, after = data["channel_id"], data.get("after")
        if after is not None and not (type(after) is int and 0 <= after < 2**63):
            return invalid("after must be a message id")
        if store.member_channel(db, user_id, channel_id) is None:
            return not_found()
        # Join before reading, so nothing committed in between is missed.
        join_room(f"channel:{channel_id}")
        if after is not None:
            messages, has_more = store.page(db, channel_id, after=after, limit=RESUME_LIMIT)
        else:
            messages, has_more = store.page(db, channel_id, limit=JOIN_PAGE)
            messages.reverse()
        return {"success": True, "channel_id": channel_id, "messages": messages, "has_more": has_more}

    @socketio.on("leave_channel")
    @guarded
    def leave_channel(data):
        if not isinstance(data, dict) or not is_id(data.get("channel_id")):
            return invalid("channel_id must be a channel id")
        leave_room(f"channel:{data['channel_id']}")
        return {"success": True, "channel_id": data["channel_id"]}

    @socketio.on("send_message")
    @guarded
    def send_message(data):
        user_id, username = users[request.sid]
        row, error = check_send(db, user_id, data)
        if error is not None:
            return error
        params = (
            row["channel_id"], user_id, row["content"], row["envelope"], row["key_version"],
            row["client_msg_id"], row["reply_to"], store.now_ms(),
        )
        inserted = db.execute(
            "INSERT INTO messages(channel_id, sender_id, content, envelope, key_version, client_msg_id, "
            "reply_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(sender_id, client_msg_id) DO NOTHING RETURNING id",
            params,
        ).fetchone()
        if inserted is None:
            original = db.execute(
                store.MESSAGE_SELECT + " WHERE m.sender_id = ? AND m.client_msg_id = ?",
                (user_id, row["client_msg_id"]),
            ).fetchone()
            return {"success": True, "message": store.message_view(original)}
        view = store.message_view(
            dict(row, id=inserted[0], sender_id=user_id, sender_username=username,
                 created_at=params[-1], edited_at=None, deleted_at=None)
        )
        emit("new_message", view, to=f"channel:{row['channel_id']}")
        return {"success": True, "message": view}


def check_send(db, user_id, data):
    """A validated send_message payload: (row to insert, None) or (None, error ack)."""
    if not isinstance(data, dict):
        return None, invalid("send_message takes an object")
    channel_id, client_msg_id = data.get("channel_id"), data.get("client_msg_id")
    content, envelope, key_version = data.get("content"), data.get("envelope"), data.get("key_version")
    reply_to = data.get("reply_to")
    if not is_id(channel_id):
        return None, invalid("channel_id must be a channel id")
    if not isinstance(client_msg_id, str) or not CLIENT_MSG_ID.fullmatch(client_msg_id):
        return None, invalid("client_msg_id must be 1 to 64 visible ASCII characters")
    if reply_to is not None and not is_id(reply_to):
        return None, invalid("reply_to must be a message id")
    channel = store.member_channel(db, user_id, channel_id)
    if channel is None:
        return None, not_found()
    if channel["is_encrypted"]:
        if content is not None:
            return None, invalid("This channel is end-to-end encrypted: send an envelope, not content")
        if not isinstance(envelope, str) or not envelope or len(envelope.encode()) > MAX_ENVELOPE_BYTES:
            return None, invalid("An encrypted channel takes an envelope string of 1 byte to 64 KiB")
        if not (type(key_version) is int and 0 <= key_version < 2**63):
            return None, invalid("An encrypted message needs its key_version")
        body = {"content": None, "envelope": envelope, "key_version": key_version}
    else:
        if envelope is not None:
            return None, invalid("This channel is not encrypted: send content")
        if not isinstance(content, str) or not content.strip() or len(content) > MAX_CONTENT_CHARS:
            return None, invalid(f"content must be 1 to {MAX_CONTENT_CHARS} characters")
        body = {"content": content, "envelope": None, "key_version": None}
    if reply_to is not None:
        target = db.execute("SELECT channel_id FROM messages WHERE id = ?", (reply_to,)).fetchone()
        if target is None or target[0] != channel_id:
            return None, invalid("reply_to must be a message of the same channel")
    return dict(body, channel_id=channel_id, client_msg_id=client_msg_id, reply_to=reply_to), None
