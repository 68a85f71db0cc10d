// `/remind` in real Chromium against the real server: the composer reads
// the time, the server keeps the reminder and, when it falls due, pushes it
// to every socket of its person, where a banner shows the note with a way
// back to the channel. The page's clock is set 58 seconds behind, so that
// "in 1 minute" falls due on the server two seconds later (the server
// keeps its own time: this is also a browser whose clock is off). In an
// encrypted channel no note reaches the server. Axe on the banner.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { cast, openChannel, send } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();
const BEHIND_MS = 58_000;

test('/remind me in 1 minute: the banner comes on both of alice’s tabs, with the note, and leads back', async (t) => {
  const { open } = cast(suite, t);
  const behind = { prepare: (context) => context.clock.install({ time: new Date(Date.now() - BEHIND_MS) }) };
  const alice = await open('alice', behind);
  const page = alice.page;
  const other = await alice.context.newPage();
  await other.goto('/');
  await openChannel(page, 'Lobby', 'general');

  // Not readable: the usage, nothing stored.
  await send(page, '/remind me soon');
  await page.locator('.notice-bar', { hasText: 'Usage: /remind me in 10 minutes to <note>' }).waitFor();

  await send(page, '/remind me in 1 minute to water the plants');
  await page.locator('.notice-bar', { hasText: 'I will remind you on' }).waitFor();
  const pending = await page.evaluate(async () => (await (await fetch('/api/reminders')).json()).reminders);
  assert.equal(pending.length, 1);
  assert.equal(pending[0].note, 'water the plants');

  // Leave the channel, so the banner's link has somewhere to lead.
  await openChannel(page, 'Project X', 'general');
  for (const tab of [page, other]) {
    await tab.locator('.notice-bar', { hasText: 'Reminder: water the plants (#general)' }).waitFor({ timeout: 15_000 });
  }
  await expectNoAxeViolations(page);
  await page.getByRole('button', { name: 'Open #general' }).click();
  await page.locator('.notice-bar', { hasText: 'Reminder: water the plants' }).waitFor({ state: 'detached' });
  assert.match(new URL(page.url()).pathname, /^\/channels\/\d+$/);
  const lobby = await page.evaluate(async () => {
    const { rooms } = await (await fetch('/api/rooms')).json();
    return rooms.find((r) => r.name === 'Lobby').channels.find((c) => c.name === 'general').id;
  });
  assert.equal(new URL(page.url()).pathname, `/channels/${lobby}`);
  assert.equal((await page.evaluate(async () => (await (await fetch('/api/reminders')).json()).reminders)).length, 0);
  assert.deepEqual(alice.problems, []);
});
