// The peer's storage: one better-sqlite3 connection with Securechat's
// pragmas, the benchmark schema, and every statement prepared once.

import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';

/** The benchmark schema, shared with the Python peer. */
const SCHEMA = readFileSync(new URL('../schema.sql', import.meta.url), 'utf8');

/** Message columns with the sender's name, as every MessageView needs them. */
const MESSAGE_COLUMNS = `m.id, m.channel_id, m.sender_id, u.username AS sender_username, m.content,
  m.envelope, m.key_version, m.client_msg_id, m.reply_to, m.created_at, m.edited_at, m.deleted_at`;
const MESSAGE_FROM = 'messages m LEFT JOIN users u ON u.id = m.sender_id';

/** Opens (creating if needed) the database at `path` and prepares the statements. */
export function openStore(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);

  const q = {
    userByName: db.prepare('SELECT id, username, password_hash, created_at FROM users WHERE username = ?'),
    insertUser: db.prepare(
      'INSERT INTO users(username, password_hash, created_at) VALUES (?, ?, ?) RETURNING id',
    ),
    insertSession: db.prepare('INSERT INTO sessions(token_hash, user_id, created_at) VALUES (?, ?, ?)'),
    sessionUser: db.prepare(
      'SELECT u.id, u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?',
    ),
    room: db.prepare('SELECT id, name, description, is_private FROM rooms WHERE id = ?'),
    insertRoom: db.prepare(
      'INSERT INTO rooms(name, description, is_private, created_at) VALUES (?, ?, ?, ?) RETURNING id',
    ),
    role: db.prepare('SELECT role FROM room_members WHERE room_id = ? AND user_id = ?'),
    insertMember: db.prepare(
      'INSERT INTO room_members(room_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    memberCount: db.prepare('SELECT COUNT(*) AS n FROM room_members WHERE room_id = ?'),
    insertChannel: db.prepare(
      `INSERT INTO channels(room_id, name, topic, is_encrypted) VALUES (?, ?, ?, ?)
       ON CONFLICT(room_id, name) DO NOTHING
       RETURNING id, room_id, name, topic, is_encrypted, key_version`,
    ),
    roomChannels: db.prepare(
      'SELECT id, room_id, name, topic, is_encrypted, key_version FROM channels WHERE room_id = ? ORDER BY id',
    ),
    memberChannel: db.prepare(
      `SELECT c.id, c.room_id, c.is_encrypted, c.key_version FROM channels c
       JOIN room_members rm ON rm.room_id = c.room_id AND rm.user_id = ? WHERE c.id = ?`,
    ),
    pageBefore: db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM ${MESSAGE_FROM}
       WHERE m.channel_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
    ),
    pageAfter: db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM ${MESSAGE_FROM}
       WHERE m.channel_id = ? AND m.id > ? ORDER BY m.id ASC LIMIT ?`,
    ),
    messageChannel: db.prepare('SELECT channel_id FROM messages WHERE id = ?'),
    insertMessage: db.prepare(
      `INSERT INTO messages(channel_id, sender_id, content, envelope, key_version, client_msg_id,
         reply_to, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(sender_id, client_msg_id) DO NOTHING RETURNING id`,
    ),
    byClientId: db.prepare(
      `SELECT ${MESSAGE_COLUMNS} FROM ${MESSAGE_FROM} WHERE m.sender_id = ? AND m.client_msg_id = ?`,
    ),
  };
  return { db, q };
}

/** A channel row as the API shows it. */
export function channelView(c) {
  return {
    id: c.id,
    room_id: c.room_id,
    name: c.name,
    topic: c.topic,
    is_encrypted: c.is_encrypted !== 0,
    key_version: c.key_version,
  };
}

export const iso = (ms) => (ms == null ? null : new Date(ms).toISOString());

/** A message row (with `sender_username`) as clients see it. */
export function messageView(m) {
  return {
    id: m.id,
    channel_id: m.channel_id,
    sender_id: m.sender_id,
    sender_username: m.sender_username,
    content: m.deleted_at == null ? m.content : null,
    envelope: m.deleted_at == null ? m.envelope : null,
    key_version: m.key_version,
    client_msg_id: m.client_msg_id,
    reply_to: m.reply_to,
    created_at: iso(m.created_at),
    edited_at: iso(m.edited_at),
    deleted: m.deleted_at != null,
    file: null,
  };
}

/**
 * One page of a channel by keyset: with `after`, ids above it oldest first;
 * else ids below `before` (newest if null), newest first. `has_more` says
 * whether another page follows in that direction.
 */
export function page(q, channelId, { before, after, limit }) {
  const rows =
    after != null
      ? q.pageAfter.all(channelId, after, limit + 1)
      : q.pageBefore.all(channelId, before ?? Number.MAX_SAFE_INTEGER, limit + 1);
  const hasMore = rows.length > limit;
  if (hasMore) rows.length = limit;
  return { messages: rows.map(messageView), has_more: hasMore };
}
