// A member kicked from a room stops receiving its channel's messages at once,
// on an open `socket.io-client` connection, and is told with `member_left`.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, findChannel, login } from './lib/api.mjs';
import { ask, askOk, Inbox } from './lib/socket.mjs';
import { serverSuite } from './lib/suite.mjs';

const suite = serverSuite();

test('a kicked member gets member_left and no further new_message', async () => {
  const { server } = suite;
  const alice = await login(server, 'alice');
  const bob = await login(server, 'bob');
  const charlie = await login(server, 'charlie');
  const { roomId, channelId } = await findChannel(server, alice, 'Project X', 'general');

  const a = await suite.connect({ cookie: alice.cookie, transports: ['websocket'] });
  // Bob, still a member, shows that messages after the kick do go out.
  const b = await suite.connect({ cookie: bob.cookie, transports: ['websocket'] });
  // Charlie with two clients: one on WebSocket, one on the default transports.
  const c1 = await suite.connect({ cookie: charlie.cookie, transports: ['websocket'] });
  const c2 = await suite.connect({ cookie: charlie.cookie });
  const bInbox = new Inbox(b);
  const c1Inbox = new Inbox(c1);
  const c2Inbox = new Inbox(c2);
  for (const s of [a, b, c1, c2]) await askOk(s, 'join_channel', { channel_id: channelId });

  const first = await askOk(a, 'send_message', {
    channel_id: channelId,
    content: 'before the kick',
    client_msg_id: 'kick-0',
  });
  for (const inbox of [bInbox, c1Inbox, c2Inbox]) {
    await inbox.next('new_message', (m) => m?.id === first.message.id);
  }

  const kicked = await call(server, alice, 'DELETE', `/api/rooms/${roomId}/members/${charlie.user.id}`);
  assert.equal(kicked.status, 200, `kick: ${JSON.stringify(kicked.body)}`);

  for (const inbox of [c1Inbox, c2Inbox]) {
    const left = await inbox.next('member_left', (e) => e?.user_id === charlie.user.id);
    assert.equal(left.room_id, roomId);
    assert.equal(left.reason, 'kicked');
  }
  const seenByBob = await bInbox.next('member_left', (e) => e?.user_id === charlie.user.id);
  assert.equal(seenByBob.reason, 'kicked');

  const after = await askOk(a, 'send_message', {
    channel_id: channelId,
    content: 'after the kick',
    client_msg_id: 'kick-1',
  });
  await bInbox.next('new_message', (m) => m?.id === after.message.id);
  await c1Inbox.none('new_message', () => true, 500);
  await c2Inbox.none('new_message', () => true, 100);
  assert.equal(c1.connected && c2.connected, true, 'the kick ends no connection');

  // Nor can charlie get back in or post through the open socket.
  const rejoin = await ask(c1, 'join_channel', { channel_id: channelId });
  assert.equal(rejoin.success, false, JSON.stringify(rejoin));
  const post = await ask(c2, 'send_message', {
    channel_id: channelId,
    content: 'still here?',
    client_msg_id: 'kick-2',
  });
  assert.equal(post.success, false, JSON.stringify(post));
  await bInbox.none('new_message', (m) => m?.sender_username === 'charlie', 200);
});
