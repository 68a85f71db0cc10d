// Pins and saved messages in real Chromium against the real server, in an
// ENCRYPTED channel (the server stores ids only): alice (owner) pins a
// message and charlie (member) sees it appear live in his Pinned panel,
// decrypted in his page; charlie cannot pin while the room does not allow
// it; charlie saves the message and finds it, decrypted, in his Saved list.
// axe checks both panels.
// Demo data: Project X / secrets (encrypted): alice owner, bob admin, charlie member.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cast, openChannel, send } from './lib/chat.mjs';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

const TEXT = 'the launch code is tulip';

async function newIdentity(page) {
  await page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
}

/** Opens the "⋯" menu of the message with `text` and returns the menu. */
async function menuOf(page, text) {
  const row = page.locator('.message[data-message-id]', { has: page.locator('.message-text', { hasText: text }) }).first();
  await row.hover();
  await row.locator('.message-more').click();
  return page.getByRole('menu');
}

test('a pin in an encrypted channel is seen live and decrypted; saving; who may pin', async (t) => {
  const { people, open } = cast(suite, t);
  const alice = await open('alice');
  await newIdentity(alice.page);
  const charlie = await open('charlie');
  await newIdentity(charlie.page);
  await openChannel(alice.page, 'Project X', 'secrets');
  await openChannel(charlie.page, 'Project X', 'secrets');

  await send(alice.page, TEXT);
  await charlie.page.locator('.message[data-message-id] .message-text', { hasText: TEXT }).waitFor();

  // Charlie opens the Pinned panel before anything is pinned.
  await charlie.page.getByRole('button', { name: 'Pinned', exact: true }).click();
  const panel = charlie.page.locator('.pins-panel');
  await panel.getByText('Nothing is pinned in this channel.').waitFor();

  await t.test('alice pins; charlie sees it live in the panel, decrypted', async () => {
    const menu = await menuOf(alice.page, TEXT);
    await menu.getByRole('menuitem', { name: 'Pin', exact: true }).click();
    await panel.locator('.pin-text', { hasText: TEXT }).waitFor();
    assert.match(await panel.locator('.pin-detail').first().textContent(), /Pinned by alice/);
    await expectNoAxeViolations(charlie.page, '.pins-panel');
  });

  await t.test('charlie (member) is not offered Pin while the room does not allow it', async () => {
    const menu = await menuOf(charlie.page, TEXT);
    const items = await menu.getByRole('menuitem').allTextContents();
    assert.ok(!items.includes('Pin') && !items.includes('Unpin'), `menu: ${items}`);
    assert.ok(items.includes('Save'), `menu: ${items}`);
    // The server refuses too.
    const status = await charlie.page.evaluate(async () => {
      const rooms = await (await fetch('/api/rooms')).json();
      const channel = rooms.rooms.flatMap((r) => r.channels).find((c) => c.name === 'secrets');
      const pins = await (await fetch(`/api/channels/${channel.id}/pins`)).json();
      const id = pins.pins[0].message.id;
      return (await fetch(`/api/channels/${channel.id}/pins/${id}`, { method: 'DELETE' })).status;
    });
    assert.equal(status, 403);
    await charlie.page.keyboard.press('Escape');
  });

  await t.test('charlie saves the message and finds it, decrypted, in his Saved list', async () => {
    const menu = await menuOf(charlie.page, TEXT);
    await menu.getByRole('menuitem', { name: 'Save', exact: true }).click();
    // The Pinned panel (still open) leads on to the saved messages.
    await panel.getByRole('button', { name: 'Saved', exact: true }).click();
    const saved = charlie.page.locator('.pins-panel');
    await saved.getByRole('heading', { name: 'Saved messages' }).waitFor();
    await saved.locator('.pin-text', { hasText: TEXT }).waitFor();
    await expectNoAxeViolations(charlie.page, '.pins-panel');
    // Alice's saved list is her own: empty.
    const mine = await alice.page.evaluate(async () => (await (await fetch('/api/saved')).json()).saved.length);
    assert.equal(mine, 0);
  });

  for (const person of people) assert.deepEqual(person.problems, [], 'no page errors');
});
