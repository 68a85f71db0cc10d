// Two users chat live through the stock `socket.io-client`, authenticated by
// the session cookie from `POST /api/auth/login`: once over WebSocket only,
// once with the client's default transports (HTTP long-polling upgraded to
// WebSocket).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findChannel, login } from './lib/api.mjs';
import { askOk, connected, Inbox } from './lib/socket.mjs';
import { assertMessageShape, serverSuite } from './lib/suite.mjs';

const suite = serverSuite();

/** Waits until the Engine.IO connection has upgraded to WebSocket. */
function upgraded(socket) {
  const engine = socket.io.engine;
  if (engine.transport.name === 'websocket') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still on ${engine.transport.name} after 5 s`)), 5_000);
    engine.once('upgrade', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function chat(transports, tag) {
  const { server } = suite;
  const alice = await login(server, 'alice');
  const bob = await login(server, 'bob');
  const { channelId } = await findChannel(server, alice, 'Lobby', 'general');

  const a = suite.open({ cookie: alice.cookie, transports });
  const b = suite.open({ cookie: bob.cookie, transports });
  const aInbox = new Inbox(a);
  const bInbox = new Inbox(b);
  // The transport each Engine.IO connection opened with (the client opens it
  // at once), and a watch for its upgrade, set before anything can happen.
  const firstTransports = [a, b].map((s) => s.io.engine.transport.name);
  const upgrades = [a, b].map((s) => upgraded(s));
  upgrades.forEach((p) => p.catch(() => {}));
  await Promise.all([connected(a), connected(b)]);

  for (const s of [a, b]) {
    const joined = await askOk(s, 'join_channel', { channel_id: channelId });
    assert.equal(joined.channel_id, channelId);
    assert.ok(Array.isArray(joined.messages), `join_channel lists messages: ${JSON.stringify(joined)}`);
  }

  const content = `hello bob over ${tag}`;
  const clientMsgId = `compat-${tag}-1`;
  const ack = await askOk(a, 'send_message', { channel_id: channelId, content, client_msg_id: clientMsgId });
  assertMessageShape(ack.message);
  assert.equal(typeof ack.message.id, 'number');
  assert.equal(ack.message.content, content);

  const received = await bInbox.next('new_message', (m) => m?.id === ack.message.id);
  assertMessageShape(received);
  assert.equal(received.channel_id, channelId);
  assert.equal(received.sender_id, alice.user.id);
  assert.equal(received.sender_username, 'alice');
  assert.equal(received.content, content);
  assert.equal(received.client_msg_id, clientMsgId);
  assert.equal(received.edited_at, null);
  assert.equal(received.reply_to, null);
  assert.ok(received.created_at !== null && received.created_at !== undefined, 'created_at is set');
  assert.deepEqual(received, ack.message, 'the broadcast is the acknowledged message');
  await aInbox.next('new_message', (m) => m?.id === ack.message.id);

  // And back: bob replies to it.
  const reply = await askOk(b, 'send_message', {
    channel_id: channelId,
    content: 'hi alice',
    client_msg_id: `compat-${tag}-2`,
    reply_to: ack.message.id,
  });
  const back = await aInbox.next('new_message', (m) => m?.id === reply.message.id);
  assert.equal(back.reply_to, ack.message.id);
  assert.equal(back.sender_username, 'bob');
  assert.ok(back.id > ack.message.id, 'ids grow');

  return { a, b, firstTransports, upgrades };
}

test('cookie login, join, send and receive over WebSocket only', async () => {
  const { a, b, firstTransports } = await chat(['websocket'], 'websocket');
  assert.deepEqual(firstTransports, ['websocket', 'websocket']);
  for (const s of [a, b]) assert.equal(s.io.engine.transport.name, 'websocket');
});

test('cookie login, join, send and receive with the default transports (polling, then upgrade)', async () => {
  const { server } = suite;
  // First check that polling alone carries the cookie handshake and events.
  const alice = await login(server, 'alice');
  const { channelId } = await findChannel(server, alice, 'Lobby', 'general');
  const polling = await suite.connect({ cookie: alice.cookie, transports: ['polling'] });
  assert.equal(polling.io.engine.transport.name, 'polling');
  await askOk(polling, 'join_channel', { channel_id: channelId });
  polling.close();

  const { a, b, firstTransports, upgrades } = await chat(undefined, 'default');
  assert.deepEqual(firstTransports, ['polling', 'polling'], 'the default client starts with long-polling');
  await Promise.all(upgrades);
  for (const s of [a, b]) assert.equal(s.io.engine.transport.name, 'websocket');
  // Still working after the upgrade.
  const bInbox = new Inbox(b);
  const ack = await askOk(a, 'send_message', {
    channel_id: channelId,
    content: 'after the upgrade',
    client_msg_id: 'compat-default-3',
  });
  await bInbox.next('new_message', (m) => m?.id === ack.message.id);
});
