// Threads in real Chromium against the real server, two people: alice
// posts, bob replies in a thread; alice sees the reply count live on her
// message, the thread appears unread in her Threads list, opening it
// clears it; once she unfollows, a new reply leaves her list alone. Then
// the same conversation in an ENCRYPTED channel, where the reply is sealed
// with its thread bound in the envelope and decrypted in alice's page.
// axe checks the thread panel and the Threads list.
// Demo data: Project X: alice owner, bob admin; `general` plaintext, `secrets` encrypted.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cast, openChannel, send } from './lib/chat.mjs';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

async function newIdentity(page) {
  await page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
}

/** The message row whose text is `text`. */
function rowOf(page, text) {
  return page.locator('.message[data-message-id]', { has: page.locator('.message-text', { hasText: text }) }).first();
}

/** Opens `text`'s thread from its "⋯" menu. */
async function replyInThread(page, text) {
  const row = rowOf(page, text);
  await row.hover();
  await row.locator('.message-more').click();
  await page.getByRole('menu').getByRole('menuitem', { name: 'Reply in thread' }).click();
  await page.locator('.thread-panel').getByRole('heading', { name: 'Thread' }).waitFor();
}

/** Replies in the open thread panel. */
async function replyHere(page, text, { alsoToChannel = false } = {}) {
  const panel = page.locator('.thread-panel');
  await panel.getByRole('textbox', { name: 'Reply in the thread' }).fill(text);
  if (alsoToChannel) await panel.getByRole('checkbox', { name: 'Also send to channel' }).check();
  await panel.getByRole('button', { name: 'Reply', exact: true }).click();
  await panel.locator('.thread-reply-text', { hasText: text }).waitFor();
}

async function conversation(t, { alice, bob, channel, encrypted }) {
  await openChannel(alice.page, 'Project X', channel);
  await openChannel(bob.page, 'Project X', channel);
  const root = `${channel}: ship on friday?`;
  const answer = `${channel}: friday works for me`;
  await send(alice.page, root);
  await rowOf(bob.page, root).waitFor();

  await t.test(`${channel}: bob replies in a thread; alice sees the count live and the reply stays out of the channel`, async () => {
    await replyInThread(bob.page, root);
    await replyHere(bob.page, answer);
    await expectNoAxeViolations(bob.page, '.thread-panel');
    await rowOf(alice.page, root).locator('.thread-summary', { hasText: '1 reply' }).waitFor();
    assert.equal(await alice.page.locator('.messages .message-text', { hasText: answer }).count(), 0);
  });

  await t.test(`${channel}: the thread is unread in alice's Threads list; opening it clears it`, async () => {
    const button = alice.page.locator('.sidebar .threads-button');
    await button.locator('.badge', { hasText: '1' }).waitFor();
    await button.click();
    const list = alice.page.locator('.thread-panel');
    await list.getByRole('heading', { name: 'Threads you follow' }).waitFor();
    const item = list.locator('.pin-item.thread-unread');
    await item.locator('.thread-badge', { hasText: '1' }).waitFor();
    if (encrypted) await item.locator('.pin-text', { hasText: root }).waitFor();
    await expectNoAxeViolations(alice.page, '.thread-panel');
    await item.locator('.pin-open').click();
    const panel = alice.page.locator('.thread-panel');
    await panel.locator('.thread-reply-text', { hasText: answer }).waitFor();
    await button.locator('.badge').waitFor({ state: 'detached' });
    await panel.getByRole('button', { name: 'Threads', exact: true }).click();
    await alice.page.locator('.thread-panel .pin-item').first().waitFor();
    assert.equal(await alice.page.locator('.thread-panel .pin-item.thread-unread').count(), 0);
  });

  await t.test(`${channel}: after alice unfollows, a new reply leaves her unread alone; also-sent replies reach the channel`, async () => {
    await alice.page.locator('.thread-panel .pin-open').first().click();
    const panel = alice.page.locator('.thread-panel');
    await panel.getByRole('button', { name: 'Unfollow' }).click();
    await panel.getByRole('button', { name: 'Follow', exact: true }).waitFor();
    await panel.getByRole('button', { name: 'Close' }).click();
    const later = `${channel}: see you then`;
    await replyHere(bob.page, later, { alsoToChannel: true });
    await rowOf(alice.page, root).locator('.thread-summary', { hasText: '2 replies' }).waitFor();
    // Also sent to the channel: in alice's timeline too.
    await alice.page.locator('.messages .message-text', { hasText: later }).waitFor();
    assert.equal(await alice.page.locator('.sidebar .threads-button .badge').count(), 0);
    const unread = await alice.page.evaluate(async () => (await (await fetch('/api/threads')).json()).threads.length);
    assert.equal(unread, 0, 'an unfollowed thread is not listed');
  });

}

// One sign-in each for both channels: the first sign-in makes a person's
// keys (a later context would be a second device to link).
test('thread conversations between two people, with unread and follow, in a plaintext and an encrypted channel', async (t) => {
  const { people, open } = cast(suite, t);
  const alice = await open('alice');
  const bob = await open('bob');
  await newIdentity(alice.page);
  await newIdentity(bob.page);
  await conversation(t, { alice, bob, channel: 'general', encrypted: false });
  await conversation(t, { alice, bob, channel: 'secrets', encrypted: true });
  for (const person of people) assert.deepEqual(person.problems, [], 'no page errors');
});
