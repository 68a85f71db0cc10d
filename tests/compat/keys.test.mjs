// The seed's channel-key protocol (its second document, 频道加密密钥管理)
// driven with the stock `socket.io-client` and the seed's fetch calls, the
// cryptography done by the project's WebAssembly build: public keys,
// `share_key` → `channel_key_share`, rotation on kick and on add
// (`key_rotation_needed`), and `request_key` → `channel_key_request` →
// approval. Every event is read by exactly the seed's field names.
// Project X / secrets (demo data): alice owner, bob admin, charlie member.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, findChannel, login, register } from './lib/api.mjs';
import {
  decryptText,
  encryptText,
  fetchBundle,
  loadCrypto,
  publishIdentity,
  seedFetch,
  shareKey,
  shareKeyOk,
} from './lib/crypto.mjs';
import { askOk, connected, Inbox, openSocket, sendMessage } from './lib/socket.mjs';
import { serverSuite } from './lib/suite.mjs';

const suite = serverSuite();

/** The fields the seed's client reads from each event (and `request_key`). */
const SEED_FIELDS = {
  key_rotation_needed: ['channel_id', 'new_version', 'reason', 'members'],
  channel_key_share: ['channel_id', 'encrypted_key', 'key_version', 'is_key_rotation'],
  channel_key_request: ['channel_id', 'requester_id', 'requester_username'],
  request_key: ['success', 'request_id'],
};

function assertSeedFields(kind, data) {
  for (const field of SEED_FIELDS[kind]) {
    assert.ok(
      data !== null && typeof data === 'object' && Object.hasOwn(data, field),
      `${kind} lacks ${field}: ${JSON.stringify(data)}`,
    );
  }
}

/**
 * What the seed's `socket.on('channel_key_share')` handler does, with real
 * cryptography: read `encrypted_key`, find who sealed it (the share's own
 * header), fetch that user's bundle, and open it for exactly this channel,
 * version and purpose. Returns the channel key.
 */
async function openReceivedShare(server, session, identity, data, { purpose, requestId } = {}) {
  const sc = await loadCrypto();
  const info = sc.inspectShare(data.encrypted_key);
  assert.equal(info.channelId, data.channel_id, 'the share names the event channel');
  assert.equal(info.keyVersion, data.key_version, 'the share names the event version');
  assert.equal(info.recipientId, session.user.id, 'the share is sealed to me');
  assert.equal(info.isKeyRotation, data.is_key_rotation, 'is_key_rotation agrees with the share');
  const expected = purpose ?? info.purpose;
  const senderBundle = await fetchBundle(server, session, info.senderId);
  return sc.openShare(
    identity,
    data.encrypted_key,
    senderBundle,
    info.senderId,
    data.channel_id,
    data.key_version,
    expected,
    requestId,
  );
}

/** Checks `key_rotation_needed` and returns its `members` ids. */
function checkRotation(data, { channelId, newVersion, without, including }) {
  assertSeedFields('key_rotation_needed', data);
  assert.equal(data.channel_id, channelId);
  assert.equal(data.new_version, newVersion);
  assert.equal(typeof data.reason, 'string');
  assert.ok(data.reason.length > 0, 'reason is set');
  assert.ok(Array.isArray(data.members), `members is a list: ${JSON.stringify(data.members)}`);
  for (const m of data.members) {
    assert.equal(typeof m.id, 'number', `member ${JSON.stringify(m)} has an id`);
    assert.equal(typeof m.username, 'string', `member ${JSON.stringify(m)} has a username`);
  }
  const ids = data.members.map((m) => m.id);
  for (const user of without) assert.ok(!ids.includes(user.id), `${user.username} is not in members`);
  for (const user of including) {
    const entry = data.members.find((m) => m.id === user.id);
    assert.ok(entry, `${user.username} is in members: ${JSON.stringify(data.members)}`);
    assert.equal(entry.username, user.username);
  }
  return ids;
}

/**
 * Encrypts `text` as `identity` under `key` (counter from 0 per version) and
 * sends it with `send_message` {channel_id, envelope, key_version,
 * client_msg_id}; asserts success. Returns the acknowledged message.
 */
async function sendEncrypted(socket, identity, { channelId, key, version, counter, text }) {
  const envelope = await encryptText(identity, key, channelId, version, counter, text);
  const ack = await sendMessage(socket, {
    channel_id: channelId, envelope, key_version: version, client_msg_id: `keys-v${version}-${counter}`,
  });
  assert.equal(ack?.success, true, `send_message under v${version}: ${JSON.stringify(ack)}`);
  assert.equal(ack.message.envelope, envelope, 'the envelope is stored as sent');
  return ack.message;
}

test('the seed key flows: publish, share, rotate on kick and on add, request and approve', async (t) => {
  const { server } = suite;
  const sc = await loadCrypto();
  const sockets = [];
  // Sockets are opened here (not through `suite`) so they live across steps.
  const open = (session, transports) => {
    const socket = openSocket(server, { cookie: session.cookie, transports });
    sockets.push(socket);
    return { socket, inbox: new Inbox(socket) };
  };
  t.after(() => sockets.forEach((s) => s.close()));

  const alice = await login(server, 'alice');
  const bob = await login(server, 'bob');
  const charlie = await login(server, 'charlie');
  const { roomId, channelId } = await findChannel(server, alice, 'Project X', 'secrets');

  const a = open(alice, ['websocket']);
  const b = open(bob, undefined); // default transports: polling, then upgrade
  const c = open(charlie, ['websocket']);
  await Promise.all([a, b, c].map(({ socket }) => connected(socket)));

  // State carried from step to step; a step is skipped once one has failed.
  const ids = {};
  const keys = {};
  let failed = false;
  const step = (name, fn) =>
    t.test(name, { skip: failed && 'an earlier step failed' }, async () => {
      try {
        await fn();
      } catch (err) {
        failed = true;
        throw err;
      }
    });

  await step('1. publish bundles; GET public_key gives success and public_key', async () => {
    ids.alice = await publishIdentity(server, alice);
    ids.bob = await publishIdentity(server, bob);
    ids.charlie = await publishIdentity(server, charlie);
    for (const [reader, owner] of [[bob, alice], [alice, bob], [alice, charlie], [charlie, alice]]) {
      const { status, body } = await seedFetch(server, reader, 'GET', `/api/users/${owner.user.id}/public_key`);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.success, true);
      assert.equal(body.public_key, ids[owner.user.username].bundle(), `${owner.user.username}'s bundle as published`);
    }
  });

  await step('2. alice shares version 1; bob gets channel_key_share, opens it, decrypts new_message', async () => {
    keys.v1 = sc.generateChannelKey();
    for (const to of [bob, charlie, alice]) {
      await shareKeyOk(server, alice, ids.alice, {
        recipientId: to.user.id, channelId, keyVersion: 1, purpose: 'initial', channelKey: keys.v1,
      });
    }
    const share = await b.inbox.next('channel_key_share', (e) => e?.channel_id === channelId);
    assertSeedFields('channel_key_share', share);
    assert.equal(share.key_version, 1);
    assert.equal(share.is_key_rotation, false);
    assert.equal(typeof share.encrypted_key, 'string');
    const bobsV1 = await openReceivedShare(server, bob, ids.bob, share, { purpose: 'initial' });
    assert.equal(bobsV1, keys.v1, 'bob holds the key alice made');
    const charliesShare = await c.inbox.next('channel_key_share', (e) => e?.channel_id === channelId);
    assert.equal(await openReceivedShare(server, charlie, ids.charlie, charliesShare), keys.v1);

    for (const { socket } of [a, b]) await askOk(socket, 'join_channel', { channel_id: channelId });
    const text = 'v1: the launch code is 0000';
    const sent = await sendEncrypted(a.socket, ids.alice, { channelId, key: keys.v1, version: 1, counter: 0, text });
    const received = await b.inbox.next('new_message', (m) => m?.id === sent.id);
    assert.equal(received.channel_id, channelId);
    assert.equal(received.envelope, sent.envelope, 'the envelope is relayed verbatim');
    assert.equal(received.content ?? null, null, 'no plaintext content');
    const aliceBundle = await fetchBundle(server, bob, alice.user.id);
    assert.equal(await decryptText(received.envelope, bobsV1, aliceBundle, channelId, 1), text);
    assert.doesNotMatch(server.logs(), /launch code/, 'the plaintext is not in the server log');
  });

  await step('3. kicking charlie: key_rotation_needed to version 2, alice rotates, bob gets is_key_rotation', async () => {
    const kicked = await call(server, alice, 'DELETE', `/api/rooms/${roomId}/members/${charlie.user.id}`);
    assert.equal(kicked.status, 200, `kick: ${JSON.stringify(kicked.body)}`);

    const rotations = [];
    for (const { inbox } of [a, b]) {
      const event = await inbox.next('key_rotation_needed', (e) => e?.channel_id === channelId);
      checkRotation(event, {
        channelId, newVersion: 2, without: [charlie.user], including: [alice.user, bob.user],
      });
      rotations.push(event);
    }
    assert.deepEqual(rotations[0], rotations[1], 'alice and bob are told the same');
    const rotation = rotations[0];
    assert.equal(rotation.reason, 'member_removed');
    assert.equal(rotation.rotator_id, alice.user.id, 'the online owner is the rotator');
    await c.inbox.none('key_rotation_needed', (e) => e?.channel_id === channelId, 200);

    // The rotator does what the seed's handler does: one share per listed
    // member, is_key_rotation: true, key_version: new_version.
    keys.v2 = sc.generateChannelKey();
    for (const member of rotation.members) {
      await shareKeyOk(server, alice, ids.alice, {
        recipientId: member.id, channelId, keyVersion: rotation.new_version, purpose: 'rotation', channelKey: keys.v2,
      });
    }
    // The removed member cannot be given the new key.
    const toCharlie = await shareKey(server, alice, ids.alice, {
      recipientId: charlie.user.id, channelId, keyVersion: 2, purpose: 'rotation', channelKey: keys.v2,
    });
    assert.ok([403, 404].includes(toCharlie.status), `share to charlie: ${toCharlie.status} ${JSON.stringify(toCharlie.body)}`);

    const share = await b.inbox.next('channel_key_share', (e) => e?.channel_id === channelId && e?.key_version === 2);
    assertSeedFields('channel_key_share', share);
    assert.equal(share.is_key_rotation, true);
    assert.equal(await openReceivedShare(server, bob, ids.bob, share, { purpose: 'rotation' }), keys.v2);
    await c.inbox.none('channel_key_share', (e) => e?.key_version === 2, 100);

    const text = 'v2: after charlie left';
    const sent = await sendEncrypted(a.socket, ids.alice, { channelId, key: keys.v2, version: 2, counter: 0, text });
    const received = await b.inbox.next('new_message', (m) => m?.id === sent.id);
    const aliceBundle = await fetchBundle(server, bob, alice.user.id);
    assert.equal(await decryptText(received.envelope, keys.v2, aliceBundle, channelId, 2), text);
    // Charlie's old key does not open it.
    assert.throws(() => sc.decryptMessage(received.envelope, keys.v1, aliceBundle, channelId, 2));
  });

  await step('4. dave is added (version 3), requests the key, bob approves, dave decrypts', async () => {
    const dave = await register(server, 'dave', 'dave-kettle-orbit-7');
    const before = await seedFetch(server, alice, 'GET', `/api/users/${dave.user.id}/public_key`);
    assert.notEqual(before.body?.success, true, `no bundle yet: ${JSON.stringify(before.body)}`);
    ids.dave = await publishIdentity(server, dave);
    const d = open(dave, undefined);
    await connected(d.socket);

    const added = await call(server, alice, 'POST', `/api/rooms/${roomId}/members`, { user_id: dave.user.id });
    assert.equal(added.status, 201, `add dave: ${JSON.stringify(added.body)}`);
    const rotations = [];
    for (const { inbox } of [a, b]) {
      const event = await inbox.next('key_rotation_needed', (e) => e?.channel_id === channelId);
      checkRotation(event, {
        channelId, newVersion: 3, without: [charlie.user], including: [alice.user, bob.user, dave.user],
      });
      rotations.push(event);
    }
    assert.equal(rotations[0].reason, 'member_added');
    assert.equal(rotations[0].rotator_id, alice.user.id);

    // The rotator shares with the members it has verified: alice and bob.
    keys.v3 = sc.generateChannelKey();
    for (const to of [alice, bob]) {
      await shareKeyOk(server, alice, ids.alice, {
        recipientId: to.user.id, channelId, keyVersion: 3, purpose: 'rotation', channelKey: keys.v3,
      });
    }
    const bobsShare = await b.inbox.next('channel_key_share', (e) => e?.channel_id === channelId && e?.key_version === 3);
    assert.equal(bobsShare.is_key_rotation, true);
    const bobsV3 = await openReceivedShare(server, bob, ids.bob, bobsShare, { purpose: 'rotation' });
    assert.equal(bobsV3, keys.v3);
    const mine = await seedFetch(server, dave, 'GET', `/api/channels/${channelId}/key`);
    assert.equal(mine.status, 404, `dave has no copy yet: ${JSON.stringify(mine.body)}`);

    // The seed's requestChannelKey: POST, Content-Type: application/json, no body.
    const requested = await seedFetch(server, dave, 'POST', `/api/channels/${channelId}/request_key`);
    assert.equal(requested.status, 200, `request_key: ${JSON.stringify(requested.body)}`);
    assertSeedFields('request_key', requested.body);
    assert.equal(requested.body.success, true);
    const requestId = requested.body.request_id;
    assert.ok(Number.isSafeInteger(requestId), `request_id is an id: ${JSON.stringify(requested.body)}`);

    const asks = [];
    for (const { inbox } of [a, b]) {
      const asked = await inbox.next('channel_key_request', (e) => e?.channel_id === channelId);
      assertSeedFields('channel_key_request', asked);
      assert.equal(asked.requester_id, dave.user.id);
      assert.equal(asked.requester_username, 'dave');
      asks.push(asked);
    }
    await d.inbox.none('channel_key_request', () => true, 100);

    // Bob's approveKeyRequest: the requester's public key, the current
    // channel key, is_key_rotation: false.
    const request = asks[1];
    await shareKeyOk(server, bob, ids.bob, {
      recipientId: request.requester_id,
      channelId: request.channel_id,
      keyVersion: 3,
      purpose: 'request',
      requestId,
      channelKey: bobsV3,
    });
    const share = await d.inbox.next('channel_key_share', (e) => e?.channel_id === channelId);
    assertSeedFields('channel_key_share', share);
    assert.equal(share.key_version, 3);
    assert.equal(share.is_key_rotation, false);
    const davesV3 = await openReceivedShare(server, dave, ids.dave, share, { purpose: 'request', requestId });
    assert.equal(davesV3, keys.v3);

    await askOk(d.socket, 'join_channel', { channel_id: channelId });
    const text = 'v3: welcome, dave';
    const sent = await sendEncrypted(a.socket, ids.alice, { channelId, key: keys.v3, version: 3, counter: 0, text });
    const received = await d.inbox.next('new_message', (m) => m?.id === sent.id);
    const aliceBundle = await fetchBundle(server, dave, alice.user.id);
    assert.equal(await decryptText(received.envelope, davesV3, aliceBundle, channelId, 3), text);
    const bobReceived = await b.inbox.next('new_message', (m) => m?.id === sent.id);
    assert.equal(await decryptText(bobReceived.envelope, bobsV3, aliceBundle, channelId, 3), text);
  });

  // docs/PROTOCOL.md §9: the server "refuses envelopes whose header
  // channel_id/key_version/sender_id do not match the channel, the current
  // version and the session user, or whose signature fails".
  await t.test('5. envelopes that do not fit are refused', { skip: failed && 'an earlier step failed' }, async () => {
    const good = await encryptText(ids.alice, keys.v3, channelId, 3, 1, 'v3: tampered');
    const at = 80; // inside the ciphertext: the signature no longer verifies
    const tampered = good.slice(0, at) + (good[at] === 'A' ? 'B' : 'A') + good.slice(at + 1);
    const aliceBundle = ids.alice.bundle();
    assert.throws(() => sc.decryptMessage(tampered, keys.v3, aliceBundle, channelId, 3), 'clients reject it');
    const cases = {
      'another channel in the header': await encryptText(ids.alice, keys.v3, channelId + 1, 3, 2, 'x'),
      'another version in the header': await encryptText(ids.alice, keys.v2, channelId, 2, 3, 'x'),
      'sealed by bob, sent by alice': await encryptText(ids.bob, keys.v3, channelId, 3, 4, 'x'),
      'a bad signature': tampered,
      'not an envelope': 'not-an-envelope',
    };
    const accepted = [];
    let n = 0;
    for (const [name, envelope] of Object.entries(cases)) {
      const reply = await sendMessage(a.socket, {
        channel_id: channelId, envelope, key_version: 3, client_msg_id: `keys-bad-${n++}`,
      });
      if (reply?.success !== false) accepted.push(`${name}: ${JSON.stringify(reply).slice(0, 120)}`);
    }
    assert.deepEqual(accepted, [], 'the server accepted envelopes that do not fit');
  });
});
