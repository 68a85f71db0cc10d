"""The Python peer's storage: one sqlite3 connection with Securechat's
pragmas, the benchmark schema, and the queries (sqlite3 caches their
prepared statements)."""

import sqlite3
import time
from pathlib import Path

# The benchmark schema, shared with the Node peer.
SCHEMA = (Path(__file__).resolve().parent.parent / "schema.sql").read_text()

MESSAGE_SELECT = """SELECT m.id, m.channel_id, m.sender_id, u.username AS sender_username,
  m.content, m.envelope, m.key_version, m.client_msg_id, m.reply_to, m.created_at,
  m.edited_at, m.deleted_at
  FROM messages m LEFT JOIN users u ON u.id = m.sender_id"""

CHANNEL_COLUMNS = "id, room_id, name, topic, is_encrypted, key_version"

NEWEST = 2**63 - 1


def now_ms():
    return time.time_ns() // 1_000_000


def connect(path):
    """Opens (creating if needed) the database at `path`. Autocommit mode:
    each statement commits on its own unless wrapped in `transaction`."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("PRAGMA busy_timeout = 5000")
    db.execute("PRAGMA foreign_keys = ON")
    db.executescript(SCHEMA)
    return db


class transaction:
    """`with transaction(db):` runs the block in BEGIN IMMEDIATE ... COMMIT."""

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, exc, tb):
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
        return False


def iso(ms):
    if ms is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + ".%03dZ" % (ms % 1000)


def channel_view(c):
    return {
        "id": c["id"],
        "room_id": c["room_id"],
        "name": c["name"],
        "topic": c["topic"],
        "is_encrypted": c["is_encrypted"] != 0,
        "key_version": c["key_version"],
    }


def message_view(m):
    deleted = m["deleted_at"] is not None
    return {
        "id": m["id"],
        "channel_id": m["channel_id"],
        "sender_id": m["sender_id"],
        "sender_username": m["sender_username"],
        "content": None if deleted else m["content"],
        "envelope": None if deleted else m["envelope"],
        "key_version": m["key_version"],
        "client_msg_id": m["client_msg_id"],
        "reply_to": m["reply_to"],
        "created_at": iso(m["created_at"]),
        "edited_at": iso(m["edited_at"]),
        "deleted": deleted,
        "file": None,
    }


def page(db, channel_id, before=None, after=None, limit=50):
    """One keyset page: with `after`, ids above it oldest first; else ids
    below `before` (newest if None) newest first. Returns (views, has_more)."""
    if after is not None:
        rows = db.execute(
            MESSAGE_SELECT + " WHERE m.channel_id = ? AND m.id > ? ORDER BY m.id ASC LIMIT ?",
            (channel_id, after, limit + 1),
        ).fetchall()
    else:
        rows = db.execute(
            MESSAGE_SELECT + " WHERE m.channel_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?",
            (channel_id, NEWEST if before is None else before, limit + 1),
        ).fetchall()
    has_more = len(rows) > limit
    return [message_view(r) for r in rows[:limit]], has_more


def member_channel(db, user_id, channel_id):
    """The channel if `user_id` is a member of its room, else None."""
    return db.execute(
        "SELECT c.id, c.room_id, c.is_encrypted, c.key_version FROM channels c "
        "JOIN room_members rm ON rm.room_id = c.room_id AND rm.user_id = ? WHERE c.id = ?",
        (user_id, channel_id),
    ).fetchone()


def role(db, room_id, user_id):
    row = db.execute(
        "SELECT role FROM room_members WHERE room_id = ? AND user_id = ?", (room_id, user_id)
    ).fetchone()
    return row["role"] if row else None


def room_body(db, room_id, user_id):
    """The body of a room creation or join."""
    room = db.execute(
        "SELECT id, name, description, is_private FROM rooms WHERE id = ?", (room_id,)
    ).fetchone()
    count = db.execute(
        "SELECT COUNT(*) FROM room_members WHERE room_id = ?", (room_id,)
    ).fetchone()[0]
    channels = db.execute(
        f"SELECT {CHANNEL_COLUMNS} FROM channels WHERE room_id = ? ORDER BY id", (room_id,)
    ).fetchall()
    return {
        "success": True,
        "room": {
            "id": room["id"],
            "kind": "room",
            "name": room["name"],
            "description": room["description"],
            "is_private": room["is_private"] != 0,
            "my_role": role(db, room_id, user_id),
            "member_count": count,
        },
        "channels": [channel_view(c) for c in channels],
    }
