// Disappearing messages in real Chromium against the real server, with
// Playwright's clock in both browsers: alice (owner of Project X) sets a
// 5-minute timer on a channel in the room settings (axe checks the dialog);
// bob sees the policy in the channel header; alice posts; both see it; the
// clocks run 5 minutes; the message vanishes in both browsers, stays gone
// after a reload and is absent from bob's search. Once in the encrypted
// channel (the timer is signed into the room's membership log) and once in
// a plaintext channel alice creates.
// Demo data: Project X / secrets (encrypted): alice owner, bob admin, charlie member.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cast, openChannel, send } from './lib/chat.mjs';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

/** Signs `name` in, sets up their keys, then installs Playwright's clock (time flows until fast-forwarded) and reloads. */
async function openWithClock(open, name) {
  const person = await open(name);
  await newIdentity(person.page);
  await person.context.clock.install();
  await person.page.reload();
  await person.page.getByText(`Signed in as ${name}`, { exact: true }).waitFor();
  return person;
}

async function newIdentity(page) {
  await page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
}

function message(page, text) {
  return page.locator('.message[data-message-id] .message-text', { hasText: text });
}

/** Sets the timer of `channel` in the room settings (alice's page) and checks the dialog with axe. */
async function setTimer(page, channel, choice) {
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Room settings' });
  const form = dialog.getByRole('form', { name: `Disappearing messages in ${channel}` });
  await form.getByLabel('Disappearing messages').selectOption({ label: choice });
  await expectNoAxeViolations(page, '.dialog');
  await form.getByRole('button', { name: 'Save timer' }).click();
  await form.getByText('Disappearing messages updated.').waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
}

/** Searches for `query` from the search box until the panel answered for it; returns the hits' texts. */
async function searchHits(page, query) {
  if ((await page.locator('#search-input').count()) === 0) {
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('/');
    await page.waitForFunction(() => document.activeElement?.id === 'search-input');
  }
  await page.locator('#search-input').fill(query);
  await page.waitForFunction((q) => document.querySelector('.search-status')?.dataset.query === q, query);
  return page.locator('.search-hit').allTextContents();
}

/** Runs the scenario in `channel` of Project X (already open in both pages). */
async function vanishes(alice, bob, channel, text) {
  // Something kept (sent before the timer) tells a reloaded page its history arrived.
  const kept = `kept in ${channel}`;
  await send(alice.page, kept);
  await message(bob.page, kept).waitFor();

  await setTimer(alice.page, channel, '5 minutes');
  const policy = bob.page.locator('.channel-topic .policy [aria-label="Messages disappear after 5 minutes"]');
  await policy.waitFor();
  assert.equal(await bob.page.locator('.channel-topic .policy').getAttribute('title'), 'Messages disappear after 5 minutes');
  // The header keeps the title readable.
  const title = await bob.page.locator('#channel-title').boundingBox();
  assert.ok(title !== null && title.width > 40, 'the title keeps its width');

  await send(alice.page, text);
  for (const person of [alice, bob]) await message(person.page, text).waitFor();

  for (const person of [alice, bob]) await person.page.clock.fastForward('05:01');
  for (const person of [alice, bob]) await message(person.page, text).waitFor({ state: 'detached' });
  for (const person of [alice, bob]) assert.equal(await message(person.page, kept).count(), 1, 'older history keeps its life');

  await bob.page.reload();
  await openChannel(bob.page, 'Project X', channel);
  await message(bob.page, kept).waitFor();
  assert.equal(await message(bob.page, text).count(), 0, 'still gone after a reload');
  const word = text.split(' ').at(-1);
  const hits = await searchHits(bob.page, word);
  assert.ok(!hits.some((h) => h.includes(text)), `not found by search: ${hits}`);
  await bob.page.keyboard.press('Escape');
}

test('a disappearing message vanishes in both browsers at its time', async (t) => {
  const { people, open } = cast(suite, t);
  const alice = await openWithClock(open, 'alice');
  const bob = await openWithClock(open, 'bob');

  await t.test('in the encrypted channel: the timer is signed into the room log', async () => {
    await openChannel(alice.page, 'Project X', 'secrets');
    await openChannel(bob.page, 'Project X', 'secrets');
    await vanishes(alice, bob, 'secrets', 'the vault code is marigold');
    // The server's copy agrees with the signed one (no warning was shown).
    assert.equal(await bob.page.getByText('The server states another disappearing-messages timer').count(), 0);
    const server = await bob.page.evaluate(async () => {
      const rooms = (await (await fetch('/api/rooms')).json()).rooms;
      return rooms.flatMap((r) => r.channels).find((c) => c.name === 'secrets').disappearing_seconds;
    });
    assert.equal(server, 300);
  });

  await t.test('in a plaintext channel', async () => {
    // The pages' clocks ran 5 minutes ahead of the server's: back to its time, so a new message is not born expired.
    for (const person of [alice, bob]) await person.page.clock.setSystemTime(Date.now());
    await alice.page.getByRole('button', { name: 'New channel in Project X' }).click();
    const dialog = alice.page.getByRole('dialog');
    await dialog.getByLabel('Channel name').fill('ephemeral');
    await dialog.getByLabel('End-to-end encrypted').uncheck();
    await dialog.getByRole('button', { name: 'Create channel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await openChannel(alice.page, 'Project X', 'ephemeral');
    await openChannel(bob.page, 'Project X', 'ephemeral');
    await vanishes(alice, bob, 'ephemeral', 'the plain word is juniper');
  });

  for (const person of people) assert.deepEqual(person.problems, [], 'no page errors');
});
