// Replies, reactions and read markers against the real server, with alice
// and bob in two browser contexts: a reply's quote reaches bob live and leads
// to the original; reactions toggle with counts that both see live and that
// survive a reload; bob's unread badge appears, then clears when he opens the
// channel, where a "New messages" divider marks what he had not seen.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confirmInApp, expectMessage, openChannel, send, signIn } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

/** A committed message row by its text. */
function row(page, text) {
  return page.locator('.message[data-message-id]', { has: page.locator('.message-text', { hasText: text }) });
}

test('alice replies to bob; bob sees the quote live and it leads to the original', async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  try {
    await openChannel(alice.page, 'Lobby', 'random');
    await openChannel(bob.page, 'Lobby', 'random');
    await send(bob.page, 'what is for lunch?');
    await expectMessage(alice.page, 'what is for lunch?');

    // A reply can be started and cancelled.
    const original = row(alice.page, 'what is for lunch?');
    await original.hover();
    await original.getByRole('button', { name: 'Reply', exact: true }).click();
    const banner = alice.page.locator('.composer-reply');
    await banner.getByText('what is for lunch?').waitFor();
    await alice.page.getByRole('button', { name: 'Cancel reply' }).click();
    await banner.waitFor({ state: 'detached' });

    await original.hover();
    await original.getByRole('button', { name: 'Reply', exact: true }).click();
    await banner.getByText('Replying to').waitFor();
    await alice.page.locator('#composer-input:focus').waitFor();
    // The composer has the focus: typing and Enter send the reply.
    await alice.page.keyboard.type('pizza, <i>obviously</i>');
    await alice.page.keyboard.press('Enter');
    await banner.waitFor({ state: 'detached' });

    const reply = row(bob.page, 'pizza, <i>obviously</i>');
    const quote = reply.locator('.reply-quote');
    await quote.waitFor();
    assert.match(await quote.textContent(), /bob\s*what is for lunch\?/);
    assert.equal(await bob.page.locator('.messages i').count(), 0, 'user text is never HTML');
    await quote.click();
    await row(bob.page, 'what is for lunch?').and(bob.page.locator('.highlighted')).waitFor();

    // Once the original is deleted, the quote says so.
    const mine = row(bob.page, 'what is for lunch?');
    await mine.hover();
    await mine.getByRole('button', { name: 'Delete' }).click();
    await confirmInApp(bob.page, 'Delete message');
    await row(alice.page, 'pizza').getByText('Original message unavailable').waitFor();
  } finally {
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});

test('reactions toggle from the keyboard and by chip; both see the counts live, and they survive a reload', async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  try {
    await openChannel(alice.page, 'Lobby', 'general');
    await openChannel(bob.page, 'Lobby', 'general');
    await send(bob.page, 'shipped the release');
    await expectMessage(alice.page, 'shipped the release');

    // alice reacts with the keyboard only: React, then Enter in the picker's search box picks the first emoji.
    const onAlice = row(alice.page, 'shipped the release');
    await onAlice.getByRole('button', { name: 'React', exact: true }).focus();
    await alice.page.keyboard.press('Enter');
    await onAlice.getByRole('dialog', { name: 'Add a reaction' }).waitFor();
    await alice.page.keyboard.press('Enter');
    await onAlice.getByRole('button', { name: 'thumbs up: 1, including you' }).waitFor();

    const onBob = row(bob.page, 'shipped the release');
    const chip = onBob.getByRole('button', { name: /^thumbs up: / });
    await onBob.getByRole('button', { name: 'thumbs up: 1' }).waitFor();
    assert.equal(await chip.getAttribute('aria-pressed'), 'false');
    await chip.click();
    await onBob.getByRole('button', { name: 'thumbs up: 2, including you' }).waitFor();
    assert.equal(await chip.getAttribute('aria-pressed'), 'true');
    await onAlice.getByRole('button', { name: 'thumbs up: 2, including you' }).waitFor();

    // alice takes hers back; a second emoji from the picker.
    await onAlice.getByRole('button', { name: /^thumbs up: / }).click();
    await onBob.getByRole('button', { name: 'thumbs up: 1, including you' }).waitFor();
    await onAlice.hover();
    await onAlice.getByRole('button', { name: 'React', exact: true }).click();
    await onAlice.getByRole('button', { name: 'React with party', exact: true }).first().click();
    await onBob.getByRole('button', { name: 'party: 1' }).waitFor();

    // The server's history carries them, with whose they are.
    await bob.page.reload();
    await bob.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
    await onBob.getByRole('button', { name: 'thumbs up: 1, including you' }).waitFor();
    await onBob.getByRole('button', { name: 'party: 1' }).waitFor();
  } finally {
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});

test("bob's unread badge appears, and clears when he opens the channel at the New messages divider", async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  try {
    await openChannel(alice.page, 'Lobby', 'random');
    await openChannel(bob.page, 'Lobby', 'random');
    await send(alice.page, 'seen before');
    await expectMessage(bob.page, 'seen before');

    // bob looks at general while alice writes in random.
    await openChannel(bob.page, 'Lobby', 'general');
    await send(alice.page, 'first unseen');
    await send(alice.page, 'second unseen');
    const badge = bob.page.getByRole('link', { name: /random.*2 unread/ });
    await badge.waitFor();

    await openChannel(bob.page, 'Lobby', 'random');
    await expectMessage(bob.page, 'second unseen');
    await bob.page.getByRole('link', { name: /random.*unread/ }).waitFor({ state: 'detached' });
    // The divider sits right before the first message he had not seen.
    const divider = bob.page.getByRole('separator', { name: 'New messages' });
    await divider.waitFor();
    const next = divider.locator('xpath=following-sibling::div[1]');
    assert.match(await next.textContent(), /first unseen/);

    // The read marker is on the server: a reload shows nothing unread.
    await bob.page.reload();
    await bob.page.getByRole('heading', { level: 1, name: 'random' }).waitFor();
    await expectMessage(bob.page, 'second unseen');
    const unread = await bob.page.evaluate(async () => {
      const rooms = await (await fetch('/api/rooms')).json();
      return rooms.rooms.flatMap((r) => r.channels).find((c) => c.name === 'random').unread;
    });
    assert.equal(unread, 0);
    assert.equal(await bob.page.getByRole('link', { name: /random.*unread/ }).count(), 0);
  } finally {
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});
