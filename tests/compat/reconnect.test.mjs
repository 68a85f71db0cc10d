// A client that disconnects, misses messages and reconnects resumes with
// `join_channel {channel_id, after}`: exactly the missed messages, in order.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findChannel, login } from './lib/api.mjs';
import { askOk, connected, Inbox, sendMessage } from './lib/socket.mjs';
import { serverSuite } from './lib/suite.mjs';

const suite = serverSuite();
const MISSED = 20;

for (const [label, transports] of [
  ['WebSocket only', ['websocket']],
  ['default transports', undefined],
]) {
  test(`reconnecting with after returns exactly the ${MISSED} missed messages in order (${label})`, async () => {
    const { server } = suite;
    const tag = transports?.join('-') ?? 'default';
    const alice = await login(server, 'alice');
    const bob = await login(server, 'bob');
    const { channelId } = await findChannel(server, alice, 'Lobby', 'general');

    const a = await suite.connect({ cookie: alice.cookie, transports });
    const b = await suite.connect({ cookie: bob.cookie, transports });
    const bInbox = new Inbox(b);
    await askOk(a, 'join_channel', { channel_id: channelId });
    await askOk(b, 'join_channel', { channel_id: channelId });

    const before = await sendMessage(a, {
      channel_id: channelId,
      content: `before the gap (${label})`,
      client_msg_id: `${tag}-gap-0`,
    });
    assert.equal(before.success, true, JSON.stringify(before));
    const lastSeen = (await bInbox.next('new_message', (m) => m?.id === before.message.id)).id;

    // Bob goes away; his client object stays, as in an app that reconnects.
    const firstId = b.id;
    b.disconnect();
    assert.equal(b.connected, false);

    const sent = [];
    for (let i = 0; i < MISSED; i += 1) {
      const reply = await sendMessage(a, {
        channel_id: channelId,
        content: `missed ${i}`,
        client_msg_id: `${tag}-gap-${i + 1}`,
      });
      assert.equal(reply.success, true, JSON.stringify(reply));
      sent.push(reply.message.id);
    }
    assert.ok(sent.every((id, i) => id > (i === 0 ? lastSeen : sent[i - 1])), `ids grow: ${sent}`);

    b.connect();
    await connected(b);
    assert.notEqual(b.id, firstId, 'a new Socket.IO session');
    const resumed = await askOk(b, 'join_channel', { channel_id: channelId, after: lastSeen });
    assert.deepEqual(
      resumed.messages.map((m) => m.id),
      sent,
      'exactly the missed messages, in order, none twice',
    );
    assert.deepEqual(
      resumed.messages.map((m) => m.content),
      sent.map((_, i) => `missed ${i}`),
    );
    assert.equal(resumed.has_more, false);

    // Live again after the resume.
    const live = await sendMessage(a, { channel_id: channelId, content: 'welcome back', client_msg_id: `${tag}-gap-live` });
    const got = await bInbox.next('new_message', (m) => m?.id === live.message.id);
    assert.equal(got.content, 'welcome back');
    assert.deepEqual(
      bInbox.all('new_message').filter((m) => sent.includes(m.id)),
      [],
      'nothing sent during the gap arrived live',
    );
  });
}
