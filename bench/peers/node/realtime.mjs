// The Socket.IO half of the benchmark protocol: token handshake, joining
// and leaving channels, and sending messages that are acked only once
// committed. Sends that arrive in the same event-loop turn share one
// transaction (one fsync), the usual way to use a synchronous SQLite
// driver under load.

import { userForToken } from './api.mjs';
import { messageView, page } from './db.mjs';

const JOIN_PAGE = 50;
const RESUME_LIMIT = 500;
const MAX_CONTENT_CHARS = 4000;
const MAX_ENVELOPE_BYTES = 64 * 1024;
const CLIENT_MSG_ID = /^[\x21-\x7e]{1,64}$/;

const fail = (code, message) => ({ success: false, code, message });
const invalid = (message) => fail('invalid_payload', message);
const notFound = () => fail('channel_not_found', 'No such channel, or you are not a member of its room');
const isId = (v) => Number.isSafeInteger(v) && v > 0;
/** Whether `s` has more than `max` characters (code points), without counting short strings. */
const tooLong = (s, max) => s.length > max && (s.length > 2 * max || [...s].length > max);
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Attaches the protocol to the Socket.IO server `io`. */
export function attachRealtime(io, { db, q }) {
  io.use((socket, next) => {
    const user = userForToken(q, socket.handshake.auth?.token);
    if (!user) return next(new Error('unauthorized'));
    socket.data.user = user;
    next();
  });

  // Sends validated in this turn, committed together at the next setImmediate.
  let pending = [];
  const commit = db.transaction((batch) =>
    batch.map(({ row }) => {
      const inserted = q.insertMessage.get(
        row.channel_id, row.sender_id, row.content, row.envelope, row.key_version,
        row.client_msg_id, row.reply_to, row.created_at,
      );
      return inserted
        ? { ...row, id: inserted.id, created: true }
        : { ...q.byClientId.get(row.sender_id, row.client_msg_id), created: false };
    }),
  );
  function flush() {
    const batch = pending;
    pending = [];
    let results;
    try {
      results = commit(batch);
    } catch (e) {
      console.error('message commit failed:', e);
      for (const { ack } of batch) ack(fail('internal_error', 'The message could not be stored; send it again'));
      return;
    }
    batch.forEach(({ ack }, i) => {
      const { created, ...row } = results[i];
      const view = messageView(row);
      ack({ success: true, message: view });
      if (created) io.to(`channel:${view.channel_id}`).emit('new_message', view);
    });
  }

  io.on('connection', (socket) => {
    const user = socket.data.user;
    socket.join(`user:${user.id}`);

    socket.on('join_channel', guarded('join_channel', (data, reply) => {
      if (!isObject(data) || !isId(data.channel_id)) return reply(invalid('channel_id must be a message channel id'));
      const after = data.after ?? null;
      if (after !== null && !(Number.isSafeInteger(after) && after >= 0)) {
        return reply(invalid('after must be a message id'));
      }
      if (!q.memberChannel.get(user.id, data.channel_id)) return reply(notFound());
      // Join before reading, so nothing committed in between is missed.
      socket.join(`channel:${data.channel_id}`);
      let result;
      if (after !== null) {
        result = page(q, data.channel_id, { after, limit: RESUME_LIMIT });
      } else {
        result = page(q, data.channel_id, { before: null, limit: JOIN_PAGE });
        result.messages.reverse();
      }
      reply({ success: true, channel_id: data.channel_id, ...result });
    }));

    socket.on('leave_channel', guarded('leave_channel', (data, reply) => {
      if (!isObject(data) || !isId(data.channel_id)) return reply(invalid('channel_id must be a channel id'));
      socket.leave(`channel:${data.channel_id}`);
      reply({ success: true, channel_id: data.channel_id });
    }));

    socket.on('send_message', guarded('send_message', (data, reply) => {
      const checked = checkSend(q, user, data);
      if (!checked.row) return reply(checked.error);
      pending.push({ row: checked.row, ack: reply });
      if (pending.length === 1) setImmediate(flush);
    }));
  });
}

/**
 * An event handler called with (payload, reply): `reply` is the ack (a no-op
 * when the client asked for none), and a thrown error becomes an
 * `internal_error` ack instead of taking the process down.
 */
function guarded(event, handler) {
  return (data, ack) => {
    const reply = typeof ack === 'function' ? ack : () => {};
    try {
      handler(data, reply);
    } catch (e) {
      console.error(`${event} failed:`, e);
      reply(fail('internal_error', 'The server failed; send it again'));
    }
  };
}

/** Validates a `send_message` payload: `{row}` ready to insert, or `{error}`. */
function checkSend(q, user, data) {
  if (!isObject(data)) return { error: invalid('send_message takes an object') };
  const { channel_id: channelId, content, envelope, key_version: keyVersion, client_msg_id: clientMsgId } = data;
  const replyTo = data.reply_to ?? null;
  if (!isId(channelId)) return { error: invalid('channel_id must be a channel id') };
  if (typeof clientMsgId !== 'string' || !CLIENT_MSG_ID.test(clientMsgId)) {
    return { error: invalid('client_msg_id must be 1 to 64 visible ASCII characters') };
  }
  if (replyTo !== null && !isId(replyTo)) return { error: invalid('reply_to must be a message id') };
  const channel = q.memberChannel.get(user.id, channelId);
  if (!channel) return { error: notFound() };
  let row;
  if (channel.is_encrypted !== 0) {
    if (content != null) return { error: invalid('This channel is end-to-end encrypted: send an envelope, not content') };
    if (typeof envelope !== 'string' || envelope.length === 0 || Buffer.byteLength(envelope) > MAX_ENVELOPE_BYTES) {
      return { error: invalid('An encrypted channel takes an envelope string of 1 byte to 64 KiB') };
    }
    if (!(Number.isSafeInteger(keyVersion) && keyVersion >= 0)) {
      return { error: invalid('An encrypted message needs its key_version') };
    }
    row = { content: null, envelope, key_version: keyVersion };
  } else {
    if (envelope != null) return { error: invalid('This channel is not encrypted: send content') };
    if (typeof content !== 'string' || content.trim() === '' || tooLong(content, MAX_CONTENT_CHARS)) {
      return { error: invalid(`content must be 1 to ${MAX_CONTENT_CHARS} characters`) };
    }
    row = { content, envelope: null, key_version: null };
  }
  if (replyTo !== null && q.messageChannel.get(replyTo)?.channel_id !== channelId) {
    return { error: invalid('reply_to must be a message of the same channel') };
  }
  return {
    row: {
      ...row,
      channel_id: channelId,
      sender_id: user.id,
      sender_username: user.username,
      client_msg_id: clientMsgId,
      reply_to: replyTo,
      created_at: Date.now(),
      edited_at: null,
      deleted_at: null,
    },
  };
}
