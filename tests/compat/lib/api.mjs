// The HTTP side of a test: logging in for a session cookie, and looking up
// rooms, channels and users with Node's global `fetch`.

import assert from 'node:assert/strict';

/** The demo users that `init-db --demo` creates. */
export const DEMO_PASSWORDS = {
  alice: 'password123',
  bob: 'password456',
  charlie: 'password789',
};

/**
 * `POST /api/auth/login` with JSON. Returns `{ cookie, token, user }`:
 * `cookie` is the `name=value` pair from `Set-Cookie`, ready for a `Cookie`
 * header; `token` is the same session in the JSON body (for `auth: {token}`).
 */
export async function login(server, username, password = DEMO_PASSWORDS[username]) {
  const response = await fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = await response.json().catch(() => null);
  assert.equal(response.status, 200, `login ${username}: ${JSON.stringify(body)}`);
  const setCookies = response.headers.getSetCookie();
  assert.ok(setCookies.length > 0, `login ${username} set no cookie`);
  // The first attribute of the session cookie is its `name=value` pair.
  const cookie = setCookies[0].split(';')[0].trim();
  assert.match(cookie, /^[^=]+=.+$/, `unexpected Set-Cookie: ${setCookies[0]}`);
  assert.equal(typeof body?.token, 'string', 'the login body carries the token');
  return { cookie, token: body.token, user: body.user };
}

/**
 * An API call with a session cookie. State-changing methods carry a
 * same-origin `Origin`, like the web app's own `fetch` calls.
 * Returns `{ status, body }`.
 */
export async function call(server, session, method, path, body) {
  const headers = { Cookie: session.cookie };
  if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) headers.Origin = server.url;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await readBody(response) };
}

/** A response body: parsed JSON, `null` if empty, else the text. */
export async function readBody(response) {
  const text = await response.text();
  try {
    return text === '' ? null : JSON.parse(text);
  } catch {
    return text;
  }
}

/** The room called `roomName` in `GET /api/rooms`, as `session` sees it. */
export async function findRoom(server, session, roomName) {
  const { status, body } = await call(server, session, 'GET', '/api/rooms');
  assert.equal(status, 200, `GET /api/rooms: ${JSON.stringify(body)}`);
  const room = body.rooms.find((r) => r.name === roomName);
  assert.ok(room, `no room ${roomName} in ${JSON.stringify(body.rooms.map((r) => r.name))}`);
  return room;
}

/** `{ roomId, channelId }` of a channel by room and channel name. */
export async function findChannel(server, session, roomName, channelName) {
  const room = await findRoom(server, session, roomName);
  const channel = room.channels.find((c) => c.name === channelName);
  assert.ok(channel, `no channel ${channelName} in room ${roomName}`);
  return { roomId: room.id, channelId: channel.id };
}

/**
 * `POST /api/auth/register` {username, password} (201), then `login`.
 * Returns the session, like `login`.
 */
export async function register(server, username, password) {
  const response = await fetch(`${server.url}/api/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: server.url },
    body: JSON.stringify({ username, password }),
  });
  const body = await response.json().catch(() => null);
  assert.equal(response.status, 201, `register ${username}: ${JSON.stringify(body)}`);
  return login(server, username, password);
}
