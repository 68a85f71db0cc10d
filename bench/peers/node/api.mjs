// The REST half of the benchmark protocol on plain node:http: accounts,
// sessions, rooms, channels and history pages.

import { createHash, randomBytes } from 'node:crypto';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { channelView, iso, page } from './db.mjs';

/** Argon2id as Securechat hashes: m=19456 KiB, t=2, p=1. */
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };
const MAX_BODY = 1024 * 1024;
const USERNAME = /^[A-Za-z0-9_.-]{1,32}$/;
const CHANNEL_NAME = /^[\p{L}\p{N}_-]{1,64}$/u;
// Control characters other than newline (names and texts must not carry them).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

/** An error answered as `{success:false, code, message}` with an HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const unauthorized = () =>
  new ApiError(401, 'unauthorized', 'Log in first: send Authorization: Bearer <token>');
const roomNotFound = () => new ApiError(404, 'room_not_found', 'No such room, or it is private');
export const channelNotFound = () =>
  new ApiError(404, 'channel_not_found', 'No such channel, or you are not a member of its room');

/** SHA-256 of a session token: what the sessions table stores. */
export const tokenHash = (token) => createHash('sha256').update(token).digest();

/** The user a session token belongs to, or null. */
export function userForToken(q, token) {
  if (typeof token !== 'string' || token.length === 0 || token.length > 256) return null;
  return q.sessionUser.get(tokenHash(token)) ?? null;
}

/** Builds the request handler for `store` ({db, q}). */
export function createApi({ db, q }) {
  const createRoom = db.transaction((userId, name, description, isPrivate, now) => {
    const { id } = q.insertRoom.get(name, description, isPrivate ? 1 : 0, now);
    q.insertChannel.get(id, 'general', '', 0);
    q.insertMember.run(id, userId, 'owner');
    return id;
  });

  function roomBody(roomId, userId) {
    const room = q.room.get(roomId);
    return {
      success: true,
      room: {
        id: room.id,
        kind: 'room',
        name: room.name,
        description: room.description,
        is_private: room.is_private !== 0,
        my_role: q.role.get(roomId, userId)?.role ?? null,
        member_count: q.memberCount.get(roomId).n,
      },
      channels: q.roomChannels.all(roomId).map(channelView),
    };
  }

  const routes = [
    ['POST', /^\/api\/auth\/register$/, false, async (req) => {
      const { username, password } = await jsonBody(req);
      if (typeof username !== 'string' || !USERNAME.test(username)) {
        throw new ApiError(422, 'invalid_username', 'Usernames are 1 to 32 of A-Z a-z 0-9 _ . -');
      }
      if (typeof password !== 'string' || [...password].length < 8) {
        throw new ApiError(422, 'weak_password', 'Passwords need at least 8 characters');
      }
      if (q.userByName.get(username)) throw usernameTaken();
      const passwordHash = await hash(password, ARGON2);
      try {
        const { id } = q.insertUser.get(username, passwordHash, Date.now());
        return [201, { success: true, user: { id, username } }];
      } catch (e) {
        if (e?.code === 'SQLITE_CONSTRAINT_UNIQUE') throw usernameTaken();
        throw e;
      }
    }],
    ['POST', /^\/api\/auth\/login$/, false, async (req) => {
      const { username, password } = await jsonBody(req);
      const user = typeof username === 'string' ? q.userByName.get(username) : undefined;
      const ok =
        user !== undefined && typeof password === 'string' && (await verify(user.password_hash, password));
      if (!ok) throw new ApiError(401, 'invalid_credentials', 'Wrong username or password');
      const token = randomBytes(32).toString('base64url');
      q.insertSession.run(tokenHash(token), user.id, Date.now());
      return [200, { success: true, user: { id: user.id, username: user.username, is_admin: false, created_at: iso(user.created_at) }, token }];
    }],
    ['POST', /^\/api\/rooms$/, true, async (req, user) => {
      const body = await jsonBody(req);
      const name = text(body.name, 'Room name', 64, 'invalid_name');
      if (name === '') throw new ApiError(422, 'invalid_name', 'Room name must be 1 to 64 characters long');
      const description = text(body.description ?? '', 'Description', 500, 'invalid_text');
      const isPrivate = flag(body.is_private, 'is_private');
      const id = createRoom(user.id, name, description, isPrivate, Date.now());
      return [201, roomBody(id, user.id)];
    }],
    ['POST', /^\/api\/rooms\/(\d+)\/join$/, true, async (_req, user, [roomId]) => {
      const room = q.room.get(roomId);
      if (!room) throw roomNotFound();
      if (!q.role.get(roomId, user.id)) {
        if (room.is_private !== 0) throw roomNotFound();
        q.insertMember.run(roomId, user.id, 'member');
      }
      return [200, roomBody(roomId, user.id)];
    }],
    ['POST', /^\/api\/rooms\/(\d+)\/channels$/, true, async (req, user, [roomId]) => {
      const body = await jsonBody(req);
      const role = q.role.get(roomId, user.id)?.role;
      if (!role) throw roomNotFound();
      if (role !== 'owner' && role !== 'admin') {
        throw new ApiError(403, 'forbidden', 'Only the room owner or an admin can create channels');
      }
      const name = typeof body.name === 'string' ? body.name.trim() : '';
      if (!CHANNEL_NAME.test(name)) {
        throw new ApiError(422, 'invalid_name', "Channel names are 1 to 64 letters, digits, '-' or '_'");
      }
      const topic = text(body.topic ?? '', 'Topic', 250, 'invalid_text');
      const encrypted = flag(body.is_encrypted, 'is_encrypted');
      const channel = q.insertChannel.get(roomId, name, topic, encrypted ? 1 : 0);
      if (!channel) throw new ApiError(409, 'channel_name_taken', `This room already has a channel ${name}`);
      return [201, { success: true, channel: channelView(channel) }];
    }],
    ['GET', /^\/api\/channels\/(\d+)\/messages$/, true, async (_req, user, [channelId], query) => {
      if (!q.memberChannel.get(user.id, channelId)) throw channelNotFound();
      const before = intParam(query, 'before');
      const after = intParam(query, 'after');
      const limit = Math.min(200, Math.max(1, intParam(query, 'limit') ?? 50));
      return [200, { success: true, ...page(q, channelId, { before, after, limit }) }];
    }],
  ];

  return async function handle(req, res) {
    try {
      const url = new URL(req.url ?? '/', 'http://peer');
      const matching = routes.filter(([, pattern]) => pattern.test(url.pathname));
      if (matching.length === 0) throw new ApiError(404, 'not_found', `No route ${url.pathname}`);
      const route = matching.find(([method]) => method === req.method);
      if (!route) throw new ApiError(405, 'method_not_allowed', `Use ${matching[0][0]} on ${url.pathname}`);
      const [, pattern, needsAuth, run] = route;
      let user = null;
      if (needsAuth) {
        const header = req.headers.authorization ?? '';
        user = header.startsWith('Bearer ') ? userForToken(q, header.slice(7).trim()) : null;
        if (!user) throw unauthorized();
      }
      const ids = pattern.exec(url.pathname).slice(1).map(Number);
      const [status, body] = await run(req, user, ids, url.searchParams);
      send(res, status, body);
    } catch (e) {
      if (e instanceof ApiError) {
        send(res, e.status, { success: false, code: e.code, message: e.message });
      } else {
        console.error('request failed:', e);
        send(res, 500, { success: false, code: 'internal_error', message: 'The server failed; see its log' });
      }
    }
  };
}

const usernameTaken = () => new ApiError(409, 'username_taken', 'That username is taken; choose another');

function send(res, status, body) {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

/** The request body as a JSON object (at most 1 MiB). */
async function jsonBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY) throw new ApiError(413, 'payload_too_large', 'Request bodies are limited to 1 MiB');
    chunks.push(chunk);
  }
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid_payload', 'Send a JSON object body');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'invalid_payload', 'Send a JSON object body');
  }
  return body;
}

/** An optional trimmed text field of at most `max` characters, no control characters but newline. */
function text(value, field, max, code) {
  if (typeof value !== 'string') throw new ApiError(422, code, `${field} must be a string`);
  const trimmed = value.trim();
  if ([...trimmed].length > max || CONTROL.test(trimmed)) {
    throw new ApiError(422, code, `${field} must be at most ${max} characters, without control characters`);
  }
  return trimmed;
}

function flag(value, field) {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new ApiError(422, 'invalid_payload', `${field} must be true or false`);
  return value;
}

/** An optional non-negative integer query parameter. */
function intParam(query, name) {
  const raw = query.get(name);
  if (raw === null || raw === '') return null;
  if (!/^\d{1,15}$/.test(raw)) {
    throw new ApiError(400, 'invalid_query', `${name} must be a non-negative integer`);
  }
  return Number(raw);
}
