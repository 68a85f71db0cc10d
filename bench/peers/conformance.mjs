#!/usr/bin/env node
// Checks a server against the benchmark protocol (bench/peers/README.md),
// end to end over HTTP and Socket.IO:
//
//   node bench/peers/conformance.mjs http://127.0.0.1:5101
//
// It registers its own users (random names), so it runs against any
// database. Prints one line per check and `N passed, N failed`; exits 1 if
// any check failed. Needs `npm ci` in bench/peers/node (socket.io-client).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { api as call, baseUrl, connect as open, emitAck } from './client.mjs';

const base = baseUrl('conformance.mjs');

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const suffix = randomBytes(4).toString('hex');
const password = 'correct horse battery staple';
const sockets = [];
let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${String(e?.message ?? e).split('\n').join('\n  ')}`);
  }
}

const api = (method, path, options) => call(base, method, path, options);

function expectError({ status, body }, wantStatus, wantCode) {
  assert.equal(status, wantStatus, `status ${status}, body ${JSON.stringify(body)}`);
  assert.equal(body?.success, false, JSON.stringify(body));
  assert.equal(body.code, wantCode, JSON.stringify(body));
  assert.equal(typeof body.message, 'string');
}

function expectOk({ status, body }, wantStatus) {
  assert.equal(status, wantStatus, `status ${status}, body ${JSON.stringify(body)}`);
  assert.equal(body?.success, true, JSON.stringify(body));
  return body;
}

/** A connected socket for `token` (closed at the end), or rejects with the connect_error. */
async function connect(token) {
  const socket = await open(base, token);
  sockets.push(socket);
  return socket;
}

const emit = (socket, event, data) => emitAck(socket, event, data, 5000);

/** Resolves with the next `new_message` whose id is `id` (or any, if null). */
function nextMessage(socket, id = null, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off('new_message', on); reject(new Error(`no new_message ${id ?? ''} within ${ms} ms`)); }, ms);
    function on(m) {
      if (id !== null && m.id !== id) return;
      clearTimeout(timer);
      socket.off('new_message', on);
      resolve(m);
    }
    socket.on('new_message', on);
  });
}

/** Every `new_message` a socket gets during `ms`. */
async function collect(socket, ms) {
  const got = [];
  const on = (m) => got.push(m);
  socket.on('new_message', on);
  await new Promise((r) => setTimeout(r, ms));
  socket.off('new_message', on);
  return got;
}

function expectMessageView(m, expected) {
  const keys = ['id', 'channel_id', 'sender_id', 'sender_username', 'content', 'envelope', 'key_version',
    'client_msg_id', 'reply_to', 'created_at', 'edited_at', 'deleted', 'file'];
  for (const k of keys) assert.ok(k in m, `MessageView without ${k}: ${JSON.stringify(m)}`);
  assert.ok(Number.isInteger(m.id) && m.id > 0);
  assert.match(m.created_at, ISO);
  assert.equal(m.edited_at, null);
  assert.equal(m.deleted, false);
  assert.equal(m.file, null);
  for (const [k, v] of Object.entries(expected)) assert.deepEqual(m[k], v, `${k} of ${JSON.stringify(m)}`);
}

function expectIds(messages, order) {
  for (let i = 1; i < messages.length; i += 1) {
    const ok = order === 'asc' ? messages[i].id > messages[i - 1].id : messages[i].id < messages[i - 1].id;
    assert.ok(ok, `ids not ${order}: ${messages.map((m) => m.id).join(',')}`);
  }
}

const alice = { username: `alice_${suffix}` };
const bob = { username: `bob.${suffix}` };
let room;
let general;
let privateRoom;
let aliceSocket;
let bobSocket;

await check('register refuses bad usernames and weak passwords', async () => {
  expectError(await api('POST', '/api/auth/register', { body: { username: 'has space', password } }), 422, 'invalid_username');
  expectError(await api('POST', '/api/auth/register', { body: { username: 'x'.repeat(33), password } }), 422, 'invalid_username');
  expectError(await api('POST', '/api/auth/register', { body: { username: `weak_${suffix}`, password: 'short' } }), 422, 'weak_password');
});

await check('register creates two users (201)', async () => {
  for (const user of [alice, bob]) {
    const body = expectOk(await api('POST', '/api/auth/register', { body: { username: user.username, password } }), 201);
    assert.ok(Number.isInteger(body.user.id));
    assert.equal(body.user.username, user.username);
    user.id = body.user.id;
  }
  assert.notEqual(alice.id, bob.id);
});

await check('register refuses a taken username (409)', async () => {
  expectError(await api('POST', '/api/auth/register', { body: { username: alice.username, password } }), 409, 'username_taken');
});

await check('login refuses a wrong password and an unknown user (401)', async () => {
  expectError(await api('POST', '/api/auth/login', { body: { username: alice.username, password: 'wrong password' } }), 401, 'invalid_credentials');
  expectError(await api('POST', '/api/auth/login', { body: { username: `nobody_${suffix}`, password } }), 401, 'invalid_credentials');
});

await check('login returns the user and a 32-byte base64url token', async () => {
  for (const user of [alice, bob]) {
    const body = expectOk(await api('POST', '/api/auth/login', { body: { username: user.username, password } }), 200);
    assert.deepEqual(body.user, { id: user.id, username: user.username, is_admin: false });
    assert.match(body.token, /^[A-Za-z0-9_-]{43}$/);
    user.token = body.token;
  }
});

await check('authenticated routes refuse a missing or bad token (401)', async () => {
  expectError(await api('POST', '/api/rooms', { body: { name: 'x' } }), 401, 'unauthorized');
  expectError(await api('POST', '/api/rooms', { token: 'not-a-token', body: { name: 'x' } }), 401, 'unauthorized');
  expectError(await api('GET', '/api/channels/1/messages', { token: `${alice.token}x` }), 401, 'unauthorized');
});

await check('creating a room makes its general channel and the creator its owner (201)', async () => {
  const body = expectOk(await api('POST', '/api/rooms', { token: alice.token, body: { name: `Bench ${suffix}`, description: 'conformance' } }), 201);
  assert.deepEqual({ ...body.room, id: 0 }, {
    id: 0, kind: 'room', name: `Bench ${suffix}`, description: 'conformance', is_private: false, my_role: 'owner', member_count: 1,
  });
  assert.equal(body.channels.length, 1);
  assert.deepEqual({ ...body.channels[0], id: 0 }, { id: 0, room_id: body.room.id, name: 'general', topic: '', is_encrypted: false, key_version: 0 });
  room = body.room;
  general = body.channels[0];
  const priv = expectOk(await api('POST', '/api/rooms', { token: alice.token, body: { name: `Private ${suffix}`, is_private: true } }), 201);
  assert.equal(priv.room.is_private, true);
  privateRoom = priv;
});

await check('the owner creates channels; names are unique per room (201, 409)', async () => {
  const body = expectOk(await api('POST', `/api/rooms/${room.id}/channels`, { token: alice.token, body: { name: 'second', topic: 'more' } }), 201);
  assert.deepEqual({ ...body.channel, id: 0 }, { id: 0, room_id: room.id, name: 'second', topic: 'more', is_encrypted: false, key_version: 0 });
  const enc = expectOk(await api('POST', `/api/rooms/${room.id}/channels`, { token: alice.token, body: { name: 'sealed', is_encrypted: true } }), 201);
  assert.equal(enc.channel.is_encrypted, true);
  expectError(await api('POST', `/api/rooms/${room.id}/channels`, { token: alice.token, body: { name: 'second' } }), 409, 'channel_name_taken');
});

await check('outsiders read no history (404 channel_not_found)', async () => {
  expectError(await api('GET', `/api/channels/${general.id}/messages`, { token: bob.token }), 404, 'channel_not_found');
  expectError(await api('GET', '/api/channels/999999999/messages', { token: bob.token }), 404, 'channel_not_found');
});

await check('joining a private or unknown room is refused (404 room_not_found)', async () => {
  expectError(await api('POST', `/api/rooms/${privateRoom.room.id}/join`, { token: bob.token }), 404, 'room_not_found');
  expectError(await api('POST', '/api/rooms/999999999/join', { token: bob.token }), 404, 'room_not_found');
});

await check('joining a public room makes a member; joining again succeeds too', async () => {
  const body = expectOk(await api('POST', `/api/rooms/${room.id}/join`, { token: bob.token }), 200);
  assert.equal(body.room.id, room.id);
  assert.equal(body.room.kind, 'room');
  assert.equal(body.room.my_role, 'member');
  assert.equal(body.room.member_count, 2);
  assert.deepEqual(body.channels.map((c) => c.name).sort(), ['general', 'sealed', 'second']);
  const again = expectOk(await api('POST', `/api/rooms/${room.id}/join`, { token: bob.token }), 200);
  assert.equal(again.room.member_count, 2);
});

await check('a plain member cannot create channels (403 forbidden)', async () => {
  expectError(await api('POST', `/api/rooms/${room.id}/channels`, { token: bob.token, body: { name: 'mine' } }), 403, 'forbidden');
});

await check('Socket.IO refuses a bad or missing token (connect_error "unauthorized")', async () => {
  for (const token of ['bogus', undefined, `${alice.token}x`]) {
    await assert.rejects(connect(token), (e) => {
      assert.equal(e.message, 'unauthorized');
      return true;
    });
  }
});

await check('both users connect with their tokens', async () => {
  aliceSocket = await connect(alice.token);
  bobSocket = await connect(bob.token);
});

await check('join_channel refuses a non-member and malformed payloads', async () => {
  const privateChannel = privateRoom.channels[0].id;
  const ack = await emit(bobSocket, 'join_channel', { channel_id: privateChannel });
  assert.equal(ack.success, false, JSON.stringify(ack));
  assert.equal(ack.code, 'channel_not_found');
  const bad = await emit(bobSocket, 'join_channel', 'garbage');
  assert.equal(bad.success, false);
  assert.equal(bad.code, 'invalid_payload', JSON.stringify(bad));
});

await check('join_channel acks an empty channel', async () => {
  for (const socket of [aliceSocket, bobSocket]) {
    const ack = await emit(socket, 'join_channel', { channel_id: general.id });
    assert.deepEqual(ack, { success: true, channel_id: general.id, messages: [], has_more: false });
  }
});

let first;
await check('send_message acks a committed MessageView; every socket in the channel gets new_message', async () => {
  const bobGets = nextMessage(bobSocket);
  const aliceGets = nextMessage(aliceSocket);
  const ack = await emit(aliceSocket, 'send_message', { channel_id: general.id, content: 'hello bob', client_msg_id: `c-${suffix}-1` });
  assert.equal(ack.success, true, JSON.stringify(ack));
  expectMessageView(ack.message, {
    channel_id: general.id, sender_id: alice.id, sender_username: alice.username, content: 'hello bob',
    envelope: null, key_version: null, client_msg_id: `c-${suffix}-1`, reply_to: null,
  });
  assert.deepEqual(await bobGets, ack.message);
  assert.deepEqual(await aliceGets, ack.message);
  first = ack.message;
});

await check('a repeated client_msg_id acks the original and broadcasts nothing', async () => {
  const heard = collect(bobSocket, 500);
  const ack = await emit(aliceSocket, 'send_message', { channel_id: general.id, content: 'a different text', client_msg_id: `c-${suffix}-1` });
  assert.equal(ack.success, true, JSON.stringify(ack));
  assert.deepEqual(ack.message, first);
  assert.deepEqual(await heard, []);
});

await check('send_message refuses malformed payloads without dropping the connection', async () => {
  const payloads = [
    'garbage',
    null,
    { channel_id: general.id, content: 'no id' },
    { channel_id: 'one', content: 'x', client_msg_id: `c-${suffix}-bad1` },
    { channel_id: general.id, content: 'x', client_msg_id: 'has space' },
    { channel_id: general.id, content: 'x', client_msg_id: 'x'.repeat(65) },
  ];
  for (const payload of payloads) {
    const ack = await emit(aliceSocket, 'send_message', payload);
    assert.equal(ack.success, false, `${JSON.stringify(payload)} -> ${JSON.stringify(ack)}`);
    assert.equal(typeof ack.code, 'string');
  }
  for (const content of ['', 'x'.repeat(4001), 42]) {
    const ack = await emit(aliceSocket, 'send_message', { channel_id: general.id, content, client_msg_id: `c-${suffix}-len` });
    assert.equal(ack.success, false, `content of ${String(content).length} -> ${JSON.stringify(ack)}`);
  }
  const ack = await emit(aliceSocket, 'send_message', { channel_id: general.id, content: 'é'.repeat(4000), client_msg_id: `c-${suffix}-4000` });
  assert.equal(ack.success, true, `4000 characters are allowed: ${JSON.stringify(ack).slice(0, 200)}`);
  assert.ok(aliceSocket.connected);
});

await check('send_message refuses plaintext in an encrypted channel and non-members', async () => {
  const channels = expectOk(await api('POST', `/api/rooms/${room.id}/join`, { token: alice.token }), 200).channels;
  const encrypted = channels.find((c) => c.name === 'sealed');
  const ack = await emit(aliceSocket, 'send_message', { channel_id: encrypted.id, content: 'plain', client_msg_id: `c-${suffix}-enc` });
  assert.equal(ack.success, false, JSON.stringify(ack));
  const outsider = await emit(bobSocket, 'send_message', { channel_id: privateRoom.channels[0].id, content: 'hi', client_msg_id: `c-${suffix}-out` });
  assert.equal(outsider.success, false, JSON.stringify(outsider));
  assert.equal(outsider.code, 'channel_not_found');
});

await check('reply_to is kept', async () => {
  const ack = await emit(bobSocket, 'send_message', { channel_id: general.id, content: 're', client_msg_id: `c-${suffix}-re`, reply_to: first.id });
  assert.equal(ack.success, true, JSON.stringify(ack));
  assert.equal(ack.message.reply_to, first.id);
  assert.equal(ack.message.sender_username, bob.username);
});

const acked = [];
await check('120 concurrent sends are all acked, distinct, and delivered to the other member', async () => {
  const heard = new Set();
  const on = (m) => heard.add(m.id);
  bobSocket.on('new_message', on);
  const acks = await Promise.all(Array.from({ length: 120 }, (_, i) =>
    emit(aliceSocket, 'send_message', { channel_id: general.id, content: `bulk ${i}`, client_msg_id: `c-${suffix}-bulk-${i}` })));
  for (const ack of acks) {
    assert.equal(ack.success, true, JSON.stringify(ack));
    acked.push(ack.message);
  }
  assert.equal(new Set(acked.map((m) => m.id)).size, 120);
  const deadline = Date.now() + 5000;
  while (heard.size < 120 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  bobSocket.off('new_message', on);
  for (const m of acked) assert.ok(heard.has(m.id), `bob never got message ${m.id}`);
});

await check('history pages newest first by keyset, with has_more', async () => {
  const all = [];
  let before = null;
  for (let pages = 0; pages < 10; pages += 1) {
    const q = before === null ? '' : `?before=${before}`;
    const body = expectOk(await api('GET', `/api/channels/${general.id}/messages${q}`, { token: bob.token }), 200);
    expectIds(body.messages, 'desc');
    assert.ok(body.messages.length <= 50);
    all.push(...body.messages);
    if (!body.has_more) break;
    assert.equal(body.messages.length, 50);
    before = body.messages.at(-1).id;
  }
  expectIds(all, 'desc');
  // hello, 4000 × é, the reply, 120 bulk messages
  assert.equal(all.length, 123, `paged ${all.length} messages`);
  assert.equal(all.at(-1).id, first.id);
  const ids = new Set(all.map((m) => m.id));
  for (const m of acked) assert.ok(ids.has(m.id), `acked message ${m.id} missing from history`);
  const stored = all.find((m) => m.id === acked[7].id);
  assert.deepEqual(stored, acked[7]);
});

await check('history with after pages oldest first; limit is honoured and capped at 200', async () => {
  const body = expectOk(await api('GET', `/api/channels/${general.id}/messages?after=${first.id}&limit=10`, { token: alice.token }), 200);
  assert.equal(body.messages.length, 10);
  assert.equal(body.has_more, true);
  expectIds(body.messages, 'asc');
  assert.ok(body.messages[0].id > first.id);
  const tail = expectOk(await api('GET', `/api/channels/${general.id}/messages?after=${acked.at(-3).id}`, { token: alice.token }), 200);
  assert.deepEqual(tail.messages.map((m) => m.id), acked.slice(-2).map((m) => m.id));
  assert.equal(tail.has_more, false);
  const one = expectOk(await api('GET', `/api/channels/${general.id}/messages?limit=1`, { token: alice.token }), 200);
  assert.equal(one.messages.length, 1);
  assert.equal(one.messages[0].id, acked.at(-1).id);
  const capped = expectOk(await api('GET', `/api/channels/${general.id}/messages?limit=1000`, { token: alice.token }), 200);
  assert.equal(capped.messages.length, 123);
  assert.equal(capped.has_more, false);
  const empty = expectOk(await api('GET', `/api/channels/${general.id}/messages?before=${first.id}`, { token: alice.token }), 200);
  assert.deepEqual(empty, { success: true, messages: [], has_more: false });
});

await check('join_channel returns the newest 50 oldest first, or everything after a given id', async () => {
  const late = await connect(bob.token);
  const ack = await emit(late, 'join_channel', { channel_id: general.id });
  assert.equal(ack.success, true, JSON.stringify(ack).slice(0, 300));
  assert.equal(ack.messages.length, 50);
  assert.equal(ack.has_more, true);
  expectIds(ack.messages, 'asc');
  assert.equal(ack.messages.at(-1).id, acked.at(-1).id);
  const resumed = await emit(late, 'join_channel', { channel_id: general.id, after: acked[99].id });
  assert.equal(resumed.success, true);
  assert.deepEqual(resumed.messages.map((m) => m.id), acked.slice(100).map((m) => m.id));
  assert.equal(resumed.has_more, false);
  late.close();
});

await check('after leave_channel a socket gets no more new_message', async () => {
  const ack = await emit(bobSocket, 'leave_channel', { channel_id: general.id });
  assert.deepEqual(ack, { success: true, channel_id: general.id });
  const heard = collect(bobSocket, 500);
  const sent = await emit(aliceSocket, 'send_message', { channel_id: general.id, content: 'after leave', client_msg_id: `c-${suffix}-leave` });
  assert.equal(sent.success, true);
  assert.deepEqual(await heard, []);
});

for (const socket of sockets) socket.close();
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
