// Channel-wide mentions and room permissions in real Chromium against the
// real server, in a PLAINTEXT channel (Project X / general: alice owner,
// bob admin, charlie member; 3 people): alice sets the size above which
// only the owner and admins may use @channel (2) and lets members pin, in
// the settings dialog (axe-checked); charlie's @channel is refused by his
// composer and by the server, and he is not offered @channel; bob's goes
// through and is highlighted for charlie; charlie then pins it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cast, expectMessage, openChannel, send } from './lib/chat.mjs';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

const BOBS = '@channel release at five';

test('the owner limits @channel to admins above a size and lets members pin', async (t) => {
  const { people, open } = cast(suite, t);
  const alice = await open('alice');
  const bob = await open('bob');
  const charlie = await open('charlie');
  for (const person of [alice, bob, charlie]) await openChannel(person.page, 'Project X', 'general');

  await t.test('alice sets the size and "members may pin" in the settings dialog', async () => {
    await alice.page.getByRole('button', { name: 'Settings', exact: true }).click();
    const dialog = alice.page.getByRole('dialog');
    const form = dialog.getByRole('form', { name: 'Room permissions' });
    await form.getByLabel('Members may pin messages').check();
    await form.getByRole('spinbutton').fill('2');
    await form.getByRole('button', { name: 'Save permissions' }).click();
    await form.getByText('Permissions saved.').waitFor();
    await expectNoAxeViolations(alice.page, '.dialog');
    await dialog.getByRole('button', { name: 'Close' }).click();
  });

  await t.test("charlie's @channel is refused and not suggested", async () => {
    const composer = charlie.page.locator('#composer-input');
    // The room's new settings arrive live (room_settings_updated).
    await composer.fill('@channel lunch?');
    await charlie.page.getByRole('alert').filter({ hasText: 'Only the owner and admins may use @channel' }).waitFor();
    await composer.press('Enter');
    assert.equal(await composer.inputValue(), '@channel lunch?', 'the text stays to be changed');
    // Typing "@cha" suggests charlie himself, not @channel.
    await composer.fill('');
    await composer.pressSequentially('@cha');
    const options = charlie.page.locator('.mention-list [role="option"]');
    await options.first().waitFor();
    const names = await charlie.page.locator('.mention-list .mention-name').allTextContents();
    assert.deepEqual(names, ['charlie']);
    // Bob (admin) is offered it.
    const bobs = bob.page.locator('#composer-input');
    await bobs.pressSequentially('@cha');
    await bob.page.locator('.mention-list [role="option"]').first().waitFor();
    assert.ok((await bob.page.locator('.mention-list .mention-name').allTextContents()).includes('channel'));
    await bobs.fill('');
    // The room JSON carries both settings (the server refuses the send itself: tests/mentions.rs).
    const answer = await charlie.page.evaluate(async () => {
      const rooms = await (await fetch('/api/rooms')).json();
      const room = rooms.rooms.find((r) => r.name === 'Project X');
      return { max: room.everyone_mention_max_members, mayPin: room.members_may_pin };
    });
    assert.deepEqual(answer, { max: 2, mayPin: true });
    await composer.fill('');
  });

  await t.test("bob's (admin) goes through and is highlighted for charlie", async () => {
    await send(bob.page, BOBS);
    await expectMessage(charlie.page, BOBS);
    const row = charlie.page.locator('.message[data-message-id]', { has: charlie.page.locator('.message-text', { hasText: BOBS }) });
    await row.and(charlie.page.locator('.mentioned')).waitFor();
  });

  await t.test('charlie (member) pins now that the room allows it', async () => {
    const row = charlie.page.locator('.message[data-message-id]', { has: charlie.page.locator('.message-text', { hasText: BOBS }) }).first();
    await row.hover();
    await row.locator('.message-more').click();
    await charlie.page.getByRole('menu').getByRole('menuitem', { name: 'Pin', exact: true }).click();
    await alice.page.getByRole('button', { name: 'Pinned', exact: true }).click();
    await alice.page.locator('.pins-panel .pin-text', { hasText: BOBS }).waitFor();
    assert.match(await alice.page.locator('.pins-panel .pin-detail').first().textContent(), /Pinned by charlie/);
  });

  for (const person of people) assert.deepEqual(person.problems, [], 'no page errors');
});
