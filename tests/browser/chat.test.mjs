// The chat UI against the real server: live messages between two people,
// pending messages while offline, a reload in the middle of a conversation,
// and a member kicked in the UI whose open page stops receiving.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confirmInApp, expectMessage, messageTexts, openChannel, send, signIn, waitOnline } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

test('alice and bob chat live in a public channel', async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  try {
    await openChannel(alice.page, 'Lobby', 'random');
    await openChannel(bob.page, 'Lobby', 'random');

    await send(alice.page, 'Hello @bob, see https://example.org/page.');
    await expectMessage(bob.page, 'Hello @bob');
    // Links are real links; the mention of bob is highlighted on his page.
    const link = bob.page.getByRole('link', { name: 'https://example.org/page' });
    assert.equal(await link.getAttribute('href'), 'https://example.org/page');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer nofollow');
    await bob.page.locator('.message.mentioned .mention-me', { hasText: '@bob' }).waitFor();

    // bob's typing shows on alice's page, then his message replaces it.
    await bob.page.locator('#composer-input').pressSequentially('<b>not bold</b>');
    await alice.page.getByText('bob is typing…').waitFor();
    await bob.page.locator('#composer-input').press('Enter');
    await expectMessage(alice.page, '<b>not bold</b>');
    assert.equal(await alice.page.locator('.messages b').count(), 0, 'user text is never HTML');

    // Shift+Enter makes a new line; Enter sends.
    await alice.page.locator('#composer-input').fill('line one');
    await alice.page.locator('#composer-input').press('Shift+Enter');
    await alice.page.locator('#composer-input').pressSequentially('line two');
    await alice.page.locator('#composer-input').press('Enter');
    await expectMessage(bob.page, 'line one\nline two');

    // Edit and delete of her own message reach bob live.
    const own = alice.page.locator('.message[data-message-id]', { hasText: 'line one' });
    await own.hover();
    await own.getByRole('button', { name: 'Edit' }).click();
    await alice.page.getByLabel('Edit message').fill('line one, edited');
    await alice.page.getByLabel('Edit message').press('Enter');
    await bob.page.locator('.message', { hasText: 'line one, edited' }).getByText('(edited)').waitFor();
    await own.hover();
    await own.getByRole('button', { name: 'Delete' }).click();
    await confirmInApp(alice.page, 'Delete message');
    await bob.page.getByText('This message was deleted.').waitFor();

    // A message in a channel bob is not looking at gives him an unread badge.
    await openChannel(alice.page, 'Lobby', 'general');
    await send(alice.page, 'over in general');
    await bob.page.getByRole('link', { name: /general.*1 unread/ }).waitFor();
    await openChannel(bob.page, 'Lobby', 'general');
    await expectMessage(bob.page, 'over in general');
    await bob.page.getByRole('link', { name: /general.*unread/ }).waitFor({ state: 'detached' });
  } finally {
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});

test('messages written offline wait, visibly, and are delivered once when the connection is back', async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  try {
    await openChannel(alice.page, 'Lobby', 'general');
    await openChannel(bob.page, 'Lobby', 'general');

    await alice.context.setOffline(true);
    await alice.page.getByText('You are offline. Reconnecting…').waitFor();
    await send(alice.page, 'queued one');
    await send(alice.page, 'queued two');
    const pending = alice.page.locator('.message.pending');
    await pending.filter({ hasText: 'queued two' }).getByText('Waiting for the connection…').waitFor();
    assert.equal(await pending.count(), 2);

    await alice.context.setOffline(false);
    await waitOnline(alice.page);
    await expectMessage(bob.page, 'queued two');
    await pending.first().waitFor({ state: 'detached' });
    const seen = (await messageTexts(bob.page)).filter((t) => t.startsWith('queued'));
    assert.deepEqual(seen, ['queued one', 'queued two'], 'each once, in the order written');
    const mine = (await messageTexts(alice.page)).filter((t) => t.startsWith('queued'));
    assert.deepEqual(mine, ['queued one', 'queued two']);
  } finally {
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});

test('a reload during a conversation loses nothing', async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  try {
    await openChannel(alice.page, 'Lobby', 'random');
    await openChannel(bob.page, 'Lobby', 'random');
    for (let i = 1; i <= 3; i += 1) await send(alice.page, `before reload ${i}`);
    await expectMessage(bob.page, 'before reload 3');

    // bob keeps talking while alice's page reloads.
    const reload = alice.page.reload();
    for (let i = 1; i <= 3; i += 1) await send(bob.page, `during reload ${i}`);
    await reload;
    await alice.page.getByRole('heading', { level: 1, name: 'random' }).waitFor();
    await waitOnline(alice.page);
    await send(bob.page, 'after reload');
    await expectMessage(alice.page, 'after reload');

    const texts = (await messageTexts(alice.page)).filter((t) => /reload/.test(t));
    assert.deepEqual(texts.slice(-7), [
      'before reload 1',
      'before reload 2',
      'before reload 3',
      'during reload 1',
      'during reload 2',
      'during reload 3',
      'after reload',
    ]);
    const ids = await alice.page.locator('.message[data-message-id]').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-message-id'))));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in server order');
    assert.equal(new Set(ids).size, ids.length, 'no message twice');
  } finally {
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});

test('history pages back as you scroll up, and a burst past the rate limit is delivered in order', async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  try {
    // A room of their own, so the count is exact.
    await alice.page.getByRole('button', { name: 'New room' }).click();
    await alice.page.getByLabel('Room name').fill('Scrollback');
    await alice.page.getByRole('button', { name: 'Create room' }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
    await waitOnline(alice.page);
    // 70 messages at once: more than the server's burst of 30, so some are
    // answered rate_limited and wait in the outbox for their turn.
    const composer = alice.page.locator('#composer-input');
    for (let i = 1; i <= 70; i += 1) {
      await composer.fill(`scroll ${i}`);
      await composer.press('Enter');
    }
    await alice.page.locator('.message.pending').first().waitFor({ state: 'detached', timeout: 30_000 });

    await bob.page.getByRole('button', { name: 'Browse rooms' }).click();
    await bob.page.getByLabel('Search public rooms').fill('Scrollback');
    await bob.page.getByRole('button', { name: 'Join Scrollback' }).click();
    await bob.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
    await expectMessage(bob.page, 'scroll 70');
    const firstPage = await messageTexts(bob.page);
    assert.equal(firstPage.length, 50, 'the newest 50 first');
    assert.equal(firstPage[0], 'scroll 21');

    await bob.page.locator('.messages').evaluate((el) => {
      el.scrollTop = 0;
    });
    await expectMessage(bob.page, 'scroll 1');
    await bob.page.getByText('This is the beginning of #general.').waitFor();
    const all = await messageTexts(bob.page);
    assert.deepEqual(all, Array.from({ length: 70 }, (_, i) => `scroll ${i + 1}`), 'all of them, once, in order');
  } finally {
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});

test('charlie is kicked in the UI and his open page stops receiving', async () => {
  const alice = await signIn(suite, 'alice');
  const charlie = await signIn(suite, 'charlie');
  try {
    // alice creates a public room; charlie finds it in the directory and joins.
    await alice.page.getByRole('button', { name: 'New room' }).click();
    await alice.page.getByLabel('Room name').fill('Kick Test');
    await alice.page.getByRole('button', { name: 'Create room' }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();

    await charlie.page.getByRole('button', { name: 'Browse rooms' }).click();
    await charlie.page.getByLabel('Search public rooms').fill('Kick');
    await charlie.page.getByRole('button', { name: 'Join Kick Test' }).click();
    await charlie.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
    await waitOnline(charlie.page);

    await send(alice.page, 'welcome charlie');
    await expectMessage(charlie.page, 'welcome charlie');

    await alice.page.getByRole('button', { name: 'Members' }).click();
    await alice.page.getByRole('button', { name: 'Kick charlie' }).click();
    await confirmInApp(alice.page, 'Kick');
    await alice.page.getByRole('button', { name: 'Kick charlie' }).waitFor({ state: 'detached' });

    await charlie.page.getByText('You were removed from Kick Test.').waitFor();
    await charlie.page.locator('.room-name', { hasText: 'Kick Test' }).waitFor({ state: 'detached' });

    await send(alice.page, 'charlie must not read this');
    await expectMessage(alice.page, 'charlie must not read this');
    // Give a wrongly delivered event time to arrive, then check it did not.
    await charlie.page.waitForTimeout(1_000);
    const leaked = await charlie.page.evaluate(() => document.body.textContent?.includes('charlie must not read this'));
    assert.equal(leaked, false);
  } finally {
    assert.deepEqual(await charlie.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});

test('alice hands the room over to bob in the UI, then leaves it', async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  try {
    await alice.page.getByRole('button', { name: 'New room' }).click();
    await alice.page.getByLabel('Room name').fill('Handover');
    await alice.page.getByRole('button', { name: 'Create room' }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
    await bob.page.getByRole('button', { name: 'Browse rooms' }).click();
    await bob.page.getByLabel('Search public rooms').fill('Handover');
    await bob.page.getByRole('button', { name: 'Join Handover' }).click();
    await bob.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();

    await alice.page.getByRole('button', { name: 'Members' }).click();
    await alice.page.getByRole('button', { name: 'Make owner: bob' }).click();
    await confirmInApp(alice.page, 'Transfer ownership');
    const bobRow = alice.page.locator('.member', { hasText: 'bob' });
    await bobRow.locator('.tag', { hasText: 'owner' }).waitFor();
    // bob's page learns it too: he now has the owner's controls.
    await bob.page.getByRole('button', { name: 'New channel in Handover' }).waitFor();

    await alice.page.getByRole('button', { name: 'Leave room' }).click();
    await confirmInApp(alice.page, 'Leave room');
    await alice.page.locator('.room-name', { hasText: 'Handover' }).waitFor({ state: 'detached' });
    await alice.page.getByText('Welcome, alice').waitFor();
  } finally {
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});

test('a mention while the tab is hidden puts a count in the title until bob looks', async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  try {
    await openChannel(alice.page, 'Lobby', 'random');
    await openChannel(bob.page, 'Lobby', 'general');
    const setVisibility = (state) =>
      bob.page.evaluate((value) => {
        Object.defineProperty(document, 'visibilityState', { value, configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    await setVisibility('hidden');
    await send(alice.page, 'no mention here');
    await send(alice.page, '@bob can you look at this?');
    await bob.page.waitForFunction(() => document.title.startsWith('(1) '));
    await setVisibility('visible');
    await bob.page.waitForFunction(() => !document.title.startsWith('('));
  } finally {
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});
