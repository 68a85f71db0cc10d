// End-to-end encryption in the browser, against the real server: an
// encrypted exchange whose plaintext never leaves the page (every WebSocket
// frame and request body is captured through CDP), a key request approved
// by an admin in the UI, and an identity restored from the recovery
// passphrase in a fresh browser that then reads the old messages.
// Project X / secrets (demo data): alice owner, bob admin, charlie member.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { captureOutgoing, cast, confirmInApp, expectMessage, lyingSocket, openChannel, send } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

const SECRET = 'the launch code is 4711';
const REPLY = 'roger, 4711 received';
const PASSPHRASE = 'correct horse battery staple';

/** Waits until this browser holds an identity (a new one offers the key backup). */
async function waitForNewIdentity(page) {
  await page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
}

test('encrypted channels and DMs: private exchange, key request, restore, signed kick and rotation, lying server, key change', async (t) => {
  const { people, open } = cast(suite, t);

  const bob = await open('bob');
  await waitForNewIdentity(bob.page);
  const alice = await open('alice');
  await waitForNewIdentity(alice.page);

  await t.test('alice and bob exchange messages; the plaintext never leaves the browser', async () => {
    const aliceSent = await captureOutgoing(alice.page);
    const bobSent = await captureOutgoing(bob.page);
    await openChannel(alice.page, 'Project X', 'secrets');
    await alice.page.getByRole('img', { name: 'Encrypted channel' }).waitFor();
    await openChannel(bob.page, 'Project X', 'secrets');

    await send(alice.page, SECRET);
    await expectMessage(bob.page, SECRET);
    await send(bob.page, REPLY);
    await expectMessage(alice.page, REPLY);

    const aliceFrames = aliceSent.all();
    assert.match(aliceFrames, /"send_message",\{"channel_id":\d+,"envelope":"/, 'alice sent an envelope');
    assert.ok(!aliceFrames.includes('launch code'), 'alice never sent the plaintext');
    assert.ok(!aliceFrames.includes(REPLY), 'nor bob’s reply');
    const bobFrames = bobSent.all();
    assert.match(bobFrames, /"envelope":"/);
    assert.ok(!bobFrames.includes('4711'), 'bob never sent plaintext either');
    // The server's copy is ciphertext only.
    const stored = await alice.page.evaluate(async () => {
      const rooms = await (await fetch('/api/rooms')).json();
      const channel = rooms.rooms.flatMap((r) => r.channels).find((c) => c.name === 'secrets');
      return (await fetch(`/api/channels/${channel.id}/messages`)).text();
    });
    assert.ok(!stored.includes('4711'), 'the history holds no plaintext');

    // Before sharing the first key, alice's browser started the room's signed
    // membership log with its current members, and registered #secrets in it
    // as an encrypted channel of the room.
    const log = await alice.page.evaluate(async () => {
      const rooms = await (await fetch('/api/rooms')).json();
      const room = rooms.rooms.find((r) => r.name === 'Project X');
      return (await fetch(`/api/rooms/${room.id}/membership_log`)).json();
    });
    assert.equal(log.entries.length, 4, 'create, then bob and charlie added, then #secrets registered');
  });

  await t.test('alice edits an encrypted message: re-encrypted in her browser, bob reads the new text marked (edited)', async () => {
    const aliceSent = await captureOutgoing(alice.page);
    await send(alice.page, 'meet at noon');
    await expectMessage(bob.page, 'meet at noon');
    const own = alice.page.locator('.message[data-message-id]', { hasText: 'meet at noon' });
    await own.hover();
    await own.getByRole('button', { name: 'Edit' }).click();
    await alice.page.getByLabel('Edit message').fill('meet at two instead');
    await alice.page.getByLabel('Edit message').press('Enter');
    const edited = bob.page.locator('.message[data-message-id]', { hasText: 'meet at two instead' });
    await edited.getByText('(edited)').waitFor();
    assert.equal(await bob.page.locator('.message-text', { hasText: 'meet at noon' }).count(), 0, 'the old text is gone');
    assert.equal(await edited.locator('.message-warning').count(), 0, 'checked and verified like a new message');
    const frames = aliceSent.all();
    assert.match(frames, /"edit_message",\{"message_id":\d+,"envelope":"/, 'the edit went as an envelope');
    assert.ok(!frames.includes('two instead'), 'the edited plaintext never left the browser');
  });

  await t.test('charlie asks for the key, alice approves in the UI, charlie reads', async () => {
    // charlie had no key when version 1 was made, so he was not given it.
    const charlie = await open('charlie');
    await waitForNewIdentity(charlie.page);
    await openChannel(charlie.page, 'Project X', 'secrets');
    const locked = charlie.page.locator('.undecryptable').first();
    await locked.getByText('Cannot decrypt yet').waitFor();
    await locked.getByRole('button', { name: 'Request key' }).click();
    await charlie.page.getByText('Key requested; an admin must approve.').first().waitFor();

    await alice.page.getByRole('heading', { name: 'Key requests' }).waitFor();
    await alice.page.getByText('charlie asks for the key of #secrets in Project X').waitFor();
    await alice.page.getByRole('button', { name: 'Approve charlie' }).click();
    await alice.page.getByRole('heading', { name: 'Key requests' }).waitFor({ state: 'detached' });

    await expectMessage(charlie.page, SECRET);
    await expectMessage(charlie.page, REPLY);
    assert.equal(await charlie.page.locator('.undecryptable').count(), 0);
  });

  await t.test('alice restores her identity from the recovery passphrase in a fresh browser and reads old messages', async () => {
    await alice.page.getByRole('button', { name: 'Use a passphrase instead' }).click();
    await alice.page.getByLabel('Recovery passphrase', { exact: true }).fill(PASSPHRASE);
    await alice.page.getByLabel('Confirm recovery passphrase').fill(PASSPHRASE);
    await alice.page.getByRole('button', { name: 'Save backup' }).click();
    await alice.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor({ state: 'detached' });

    const fresh = await open('alice');
    await fresh.page.getByRole('heading', { name: 'Read your encrypted messages here' }).waitFor();
    await fresh.page.getByLabel('Recovery passphrase').fill('not the passphrase');
    await fresh.page.getByRole('button', { name: 'Restore' }).click();
    await fresh.page.getByText('That passphrase does not open your key backup.').waitFor();
    await fresh.page.getByLabel('Recovery passphrase').fill(PASSPHRASE);
    await fresh.page.getByRole('button', { name: 'Restore' }).click();
    await fresh.page.getByRole('heading', { name: 'Read your encrypted messages here' }).waitFor({ state: 'detached' });

    await openChannel(fresh.page, 'Project X', 'secrets');
    await expectMessage(fresh.page, SECRET);
    await expectMessage(fresh.page, REPLY);
    assert.deepEqual(await fresh.close(), []);
    people.pop();
  });

  await t.test('alice kicks charlie with a signed log entry; the key rotates and only bob reads on', async () => {
    const charlie = people[2];
    // alice's browser is the named rotator: it shares version 2 with bob (and herself).
    const rotated = alice.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/channels/share_key' && r.request().postDataJSON().key_version === 2);
    await alice.page.getByRole('button', { name: 'Members' }).click();
    await alice.page.getByRole('button', { name: 'Kick charlie' }).click();
    await confirmInApp(alice.page, 'Kick');
    await alice.page.getByRole('button', { name: 'Kick charlie' }).waitFor({ state: 'detached' });
    await charlie.page.getByText('You were removed from Project X.').waitFor();
    await rotated;
    await send(alice.page, 'after charlie left');
    await expectMessage(bob.page, 'after charlie left');
    const versions = await bob.page.evaluate(async () => {
      const rooms = await (await fetch('/api/rooms')).json();
      const channel = rooms.rooms.flatMap((r) => r.channels).find((c) => c.name === 'secrets');
      return (await (await fetch(`/api/channels/${channel.id}/messages`)).json()).messages.map((m) => m.key_version);
    });
    assert.equal(versions[0], 2, 'the newest message is under the rotated key');
    const log = await bob.page.evaluate(async () => {
      const rooms = await (await fetch('/api/rooms')).json();
      const room = rooms.rooms.find((r) => r.name === 'Project X');
      return (await fetch(`/api/rooms/${room.id}/membership_log`)).json();
    });
    assert.equal(log.entries.length, 5, 'the removal is a signed entry');
  });

  await t.test('a lying server: injected plaintext, a forged signature, a replay and a wrong sender show as warnings', async () => {
    // bob's page talks to the server through a proxy that can add frames.
    const toPage = await lyingSocket(bob.page);
    await bob.page.reload();
    await openChannel(bob.page, 'Project X', 'secrets');
    await expectMessage(bob.page, 'after charlie left');
    const { real, users } = await bob.page.evaluate(async () => {
      const rooms = await (await fetch('/api/rooms')).json();
      const channel = rooms.rooms.flatMap((r) => r.channels).find((c) => c.name === 'secrets');
      const page = await (await fetch(`/api/channels/${channel.id}/messages`)).json();
      const members = await (await fetch(`/api/rooms/${channel.room_id}/members`)).json();
      return { real: page.messages[0], users: Object.fromEntries(members.members.map((m) => [m.username, m.user_id])) };
    });
    assert.equal(real.sender_username, 'alice');
    const at = 80; // inside the ciphertext: the envelope parses, the signature fails
    const forged = real.envelope.slice(0, at) + (real.envelope[at] === 'A' ? 'B' : 'A') + real.envelope.slice(at + 1);
    const fake = (n, fields) => ({ ...real, id: real.id + 1000 + n, client_msg_id: `lie-${n}`, created_at: new Date().toISOString(), ...fields });
    toPage('new_message', fake(1, { content: 'INJECTED plaintext', envelope: null, key_version: null }));
    toPage('new_message', fake(2, { envelope: forged }));
    toPage('new_message', fake(3, {}));
    toPage('new_message', fake(4, { sender_id: users.bob, sender_username: 'bob' }));

    const warnings = bob.page.locator('.message-warning');
    await warnings.nth(3).waitFor();
    const texts = await warnings.allTextContents();
    assert.equal(texts.length, 4, texts.join('\n'));
    assert.match(texts[0], /Sent without encryption in an encrypted channel/);
    assert.match(texts[0], /INJECTED plaintext/);
    assert.match(texts[1], /Bad signature/);
    assert.match(texts[2], /A replay of an earlier message/);
    assert.match(texts[3], /names another channel, sender or key version/);
    // None of them reads as a normal message.
    assert.equal(await bob.page.locator('.message-text', { hasText: 'INJECTED plaintext' }).count(), 0);
    const normal = (await bob.page.locator('.message[data-message-id] .message-text').allTextContents()).filter((t) => t === 'after charlie left');
    assert.equal(normal.length, 1, 'the genuine message shows once');
  });

  await t.test('a direct message is encrypted too: alice opens one with bob, both read it', async () => {
    await alice.page.getByRole('button', { name: 'New direct message' }).click();
    await alice.page.getByLabel('Find a person').fill('bob');
    await alice.page.getByRole('button', { name: 'Message bob' }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'bob' }).waitFor();
    await alice.page.getByRole('img', { name: 'Encrypted channel' }).waitFor();
    await send(alice.page, 'just between us');
    await expectMessage(alice.page, 'just between us');
    await bob.page.getByRole('navigation', { name: 'Rooms and direct messages' }).getByRole('link', { name: /alice/ }).click();
    await expectMessage(bob.page, 'just between us');
  });

  await t.test('charlie starts over with new keys; alice is warned that his key changed', async () => {
    const again = await open('charlie');
    await again.page.getByRole('heading', { name: 'Read your encrypted messages here' }).waitFor();
    await again.page.getByRole('button', { name: 'Create new keys instead' }).click();
    await confirmInApp(again.page, 'Create new keys');
    await again.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
    const warning = alice.page.locator('.key-change');
    await warning.getByText('changed').waitFor();
    await warning.getByRole('button', { name: 'Accept new key' }).click();
    // Accepting goes through the safety number of the new key: exactly the key shown is pinned.
    const dialog = alice.page.getByRole('dialog', { name: /^Verify / });
    await dialog.getByText(/new key$/).waitFor();
    const shown = await dialog.locator('.fingerprints dd').nth(1).textContent();
    const published = await alice.page.evaluate(async () => {
      const users = await (await fetch('/api/users?q=charlie')).json();
      const id = users.users.find((u) => u.username === 'charlie').id;
      return (await (await fetch(`/api/users/${id}/public_key`)).json()).fingerprint;
    });
    assert.equal(shown, Buffer.from(published, 'base64url').toString('hex'), 'the dialog shows the key the server now offers');
    await dialog.getByRole('button', { name: 'Accept this key' }).click();
    await warning.waitFor({ state: 'detached' });
  });

  for (const person of people) assert.deepEqual(person.problems, [], 'no page logged errors');
});
