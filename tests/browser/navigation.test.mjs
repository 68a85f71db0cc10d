// Finding your way: the quick switcher (Ctrl+K), Alt+Up/Down through the
// sidebar's channels, the shortcuts help (`?`), "Leave room" in a room's
// menu with the in-app confirmation, and a new account landing in the
// site's default room (DEFAULT_ROOMS=Lobby).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { cast, confirmInApp, openChannel, send } from './lib/chat.mjs';
import { browserSuite, expectSignedInAs, registerThroughForm } from './lib/suite.mjs';

const suite = browserSuite({ env: { DEFAULT_ROOMS: 'Lobby' } });

const channelHeading = (page, name) => page.getByRole('heading', { level: 1, name });

test('Ctrl+K jumps to a channel, a DM or a person; arrows choose and Escape closes', async (t) => {
  const people = cast(suite, t);
  const alice = await people.open('alice');
  const { page } = alice;
  await openChannel(page, 'Lobby', 'general');

  await page.keyboard.press('Control+k');
  const dialog = page.getByRole('dialog', { name: 'Jump to' });
  const input = dialog.getByRole('combobox', { name: 'Room, channel or person' });
  await input.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'switcher-input', 'the search field has the focus');
  await expectNoAxeViolations(page, '.dialog');

  // Fuzzy-ish: "rdm" finds #random (in Lobby); the first match is selected.
  await input.fill('rdm');
  const options = dialog.getByRole('option');
  await options.first().filter({ hasText: '#random' }).waitFor();
  assert.equal(await options.first().getAttribute('aria-selected'), 'true');
  assert.equal(await input.getAttribute('aria-activedescendant'), await options.first().getAttribute('id'));

  // A room name finds its channels; arrows move the selection.
  await input.fill('proj');
  await dialog.getByRole('option', { name: /#secrets/ }).waitFor();
  const count = await options.count();
  assert.ok(count >= 2, `Project X and #secrets match (${count})`);
  await input.press('ArrowDown');
  assert.equal(await options.nth(1).getAttribute('aria-selected'), 'true', 'ArrowDown selects the next match');
  await input.press('ArrowUp');
  assert.equal(await options.nth(0).getAttribute('aria-selected'), 'true', 'ArrowUp selects the previous one');
  await input.press('ArrowUp');
  assert.equal(await options.nth(count - 1).getAttribute('aria-selected'), 'true', 'and wraps around');

  // Enter goes to the selected match.
  await input.fill('random');
  await options.first().filter({ hasText: '#random' }).waitFor();
  await input.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  await channelHeading(page, 'random').waitFor();

  // Escape closes without going anywhere.
  await page.keyboard.press('Control+k');
  await input.waitFor();
  await input.fill('general');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  await channelHeading(page, 'random').waitFor();

  // People found by the user search: Enter starts the DM.
  await page.getByRole('button', { name: /Jump to/ }).click();
  await input.fill('charlie');
  const person = dialog.getByRole('option', { name: /charlie.*Start a direct message/ });
  await person.waitFor();
  await person.click();
  await dialog.waitFor({ state: 'detached' });
  await channelHeading(page, /charlie/).waitFor();
  await page.getByRole('navigation').getByRole('link', { name: /charlie/ }).waitFor();

  // The DM is now found as a DM (not as a person to start one with).
  await page.keyboard.press('Control+k');
  await input.fill('charl');
  await dialog.getByRole('option', { name: /charlie.*Direct message/ }).waitFor();
  assert.equal(await dialog.getByRole('option', { name: /Start a direct message/ }).count(), 0);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

test('Alt+Up and Alt+Down move through the channels in sidebar order', async (t) => {
  const people = cast(suite, t);
  const { page } = await people.open('bob');
  await openChannel(page, 'Lobby', 'general');
  const order = await page.locator('.sidebar .channel-link .channel-label').allTextContents();
  assert.deepEqual(order.slice(0, 3), ['general', 'random', 'general'], 'Lobby, then Project X');

  await page.keyboard.press('Alt+ArrowDown');
  await channelHeading(page, 'random').waitFor();
  await page.keyboard.press('Alt+ArrowDown');
  await page.waitForURL((url) => url.pathname !== '/');
  await page.locator('.channel-link.current .channel-label', { hasText: order[2] }).waitFor();
  assert.match(await page.locator('.room:has(.channel-link.current) .room-name').textContent(), /Project X/);
  await page.keyboard.press('Alt+ArrowUp');
  await channelHeading(page, 'random').waitFor();
  // From the composer too (it is not typing a character).
  await page.locator('#composer-input').focus();
  await page.keyboard.press('Alt+ArrowUp');
  await channelHeading(page, 'general').waitFor();
  assert.match(await page.locator('.room:has(.channel-link.current) .room-name').textContent(), /Lobby/);
});

test('? shows every shortcut, but not while typing', async (t) => {
  const people = cast(suite, t);
  const { page } = await people.open('alice');
  await openChannel(page, 'Lobby', 'general');

  // Typed in the composer, "?" is text.
  await page.locator('#composer-input').fill('');
  await page.locator('#composer-input').pressSequentially('why?');
  assert.equal(await page.locator('#composer-input').inputValue(), 'why?');
  assert.equal(await page.getByRole('dialog').count(), 0, 'no dialog while typing');
  await page.locator('#composer-input').fill('');

  await page.locator('#composer-input').blur();
  await page.keyboard.press('?');
  const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await help.waitFor();
  const listed = (await help.locator('.shortcut').allTextContents()).join('\n');
  for (const shortcut of ['Ctrl + K', 'Alt + ↑', 'Alt + ↓', '?', 'Escape']) assert.ok(listed.includes(shortcut), `${shortcut} is listed:\n${listed}`);
  await expectNoAxeViolations(page, '.dialog');
  await page.keyboard.press('Escape');
  await help.waitFor({ state: 'detached' });
});

test("Leave room is in the room's menu; the owner is told to transfer first", async (t) => {
  const people = cast(suite, t);
  const charlie = await people.open('charlie');
  const { page } = charlie;
  await openChannel(page, 'Lobby', 'general');
  const lobby = page.locator('.room', { has: page.locator('.room-name', { hasText: 'Lobby' }) });
  const native = [];
  page.on('dialog', (dialog) => {
    native.push(dialog.message());
    void dialog.dismiss();
  });

  await page.getByRole('button', { name: 'Room menu: Lobby' }).click();
  await lobby.getByRole('button', { name: 'Leave room' }).click();
  const confirm = page.getByRole('dialog', { name: 'Leave Lobby?' });
  await confirm.waitFor();
  await expectNoAxeViolations(page, '.dialog');
  // The focus is trapped in the dialog and starts on Cancel; Escape cancels.
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
  await page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'detached' });
  assert.equal(await lobby.count(), 1, 'cancelled: still a member');

  await lobby.getByRole('button', { name: 'Leave room' }).click();
  await confirmInApp(page, 'Leave room');
  await lobby.waitFor({ state: 'detached' });
  await page.getByText('Welcome, charlie').waitFor();
  assert.deepEqual(native, [], 'no browser confirm()');

  // The owner of Project X cannot leave it: the server's rule, shown.
  const alice = await people.open('alice');
  await alice.page.getByRole('button', { name: 'Room menu: Project X' }).click();
  const project = alice.page.locator('.room', { has: alice.page.locator('.room-name', { hasText: 'Project X' }) });
  await project.getByRole('button', { name: 'Leave room' }).click();
  await project.getByRole('alert').filter({ hasText: 'The owner cannot leave; transfer ownership to another member first' }).waitFor();
  assert.equal(await project.count(), 1);
});

test('a newly registered account lands in Lobby, the default room', async () => {
  const { page } = suite;
  await registerThroughForm(page, 'erin', 'erin-kettle-orbit-7');
  await expectSignedInAs(page, 'erin');
  const rooms = page.locator('.sidebar .room-name');
  await rooms.filter({ hasText: 'Lobby' }).waitFor();
  assert.deepEqual(await rooms.allTextContents(), ['Lobby'], 'only the default room, not the private one');
  await openChannel(page, 'Lobby', 'general');
  await send(page, 'hello, I am new here');
  await page.locator('.message[data-message-id]', { hasText: 'hello, I am new here' }).waitFor();
});
