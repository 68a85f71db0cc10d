// Appearance and wording: the light/dark/system theme toggle (kept across a
// reload, "system" following the browser's colour scheme), axe in both
// themes, the skip link to the composer (at most 10 Tab presses from page
// load), the DM's "beginning of your conversation" and a singular count.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { cast, openChannel } from './lib/chat.mjs';
import { fromTheTop } from './lib/keyboard.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

const LIGHT_BG = 'rgb(244, 245, 247)';
const DARK_BG = 'rgb(21, 23, 27)';

const background = (page) => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);

test('the theme toggle: dark stays dark after a reload, system follows the browser, axe in both', async (t) => {
  const people = cast(suite, t);
  const alice = await people.open('alice');
  const { page } = alice;
  await page.emulateMedia({ colorScheme: 'light' });
  await openChannel(page, 'Lobby', 'general');
  assert.equal(await background(page), LIGHT_BG, 'system, light browser: light');
  await expectNoAxeViolations(page);

  const select = page.getByLabel('Theme');
  await select.selectOption('dark');
  assert.equal(await background(page), DARK_BG);
  await expectNoAxeViolations(page);

  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await background(page), DARK_BG, 'still dark after a reload');
  assert.equal(await select.inputValue(), 'dark');

  // Light chosen wins over a dark browser.
  await page.emulateMedia({ colorScheme: 'dark' });
  await select.selectOption('light');
  assert.equal(await background(page), LIGHT_BG);

  // System follows the browser, both ways, and is what a reload keeps.
  await select.selectOption('system');
  assert.equal(await background(page), DARK_BG, 'system, dark browser: dark');
  await page.emulateMedia({ colorScheme: 'light' });
  assert.equal(await background(page), LIGHT_BG, 'system, light browser: light');
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
  assert.equal(await select.inputValue(), 'system');
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), undefined);
});

test('a skip link is the first tab stop: the composer is at most 10 key presses from page load', async (t) => {
  const people = cast(suite, t);
  const alice = await people.open('alice');
  const { page } = alice;
  await openChannel(page, 'Lobby', 'general');
  await fromTheTop(page);

  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to composer' });
  assert.equal(await skip.evaluate((el) => el === document.activeElement), true, 'the skip link comes first');
  const box = await skip.boundingBox();
  assert.ok(box !== null && box.y >= 0 && box.height > 0, 'and is visible when focused');

  // Counting from page load, as a keyboard user goes: Tab until the
  // composer has the focus, taking the skip link (Enter) when it is focused.
  // Without the skip link this was 26 presses here (94 in the count).
  await fromTheTop(page);
  let presses = 0;
  while (presses < 100) {
    const onSkipLink = await skip.evaluate((el) => el === document.activeElement);
    await page.keyboard.press(onSkipLink ? 'Enter' : 'Tab');
    presses += 1;
    if (await page.evaluate(() => document.activeElement?.id === 'composer-input')) break;
  }
  assert.ok(presses <= 10, `${presses} key presses (Tab, and Enter on the skip link) to the composer`);
  assert.equal(presses, 2, 'Tab to the skip link, Enter');
});

test('wording: a DM begins "your conversation with", and one member is "1 member"', async (t) => {
  const people = cast(suite, t);
  const alice = await people.open('alice');
  const bob = await people.open('bob');

  await alice.page.getByRole('button', { name: /Jump to/ }).click();
  const dialog = alice.page.getByRole('dialog', { name: 'Jump to' });
  await dialog.getByRole('combobox').fill('charlie');
  // The person, not the last entry that searches messages for the typed text.
  await dialog.getByRole('option', { name: /charlie/ }).filter({ hasNotText: 'Search messages' }).first().click();
  await alice.page.getByRole('heading', { level: 1, name: /charlie/ }).waitFor();
  await alice.page.getByText('This is the beginning of your conversation with charlie.', { exact: true }).waitFor();

  // A room of alice's own has one member; bob sees it in the directory.
  await alice.page.getByRole('button', { name: 'New room' }).click();
  await alice.page.getByLabel('Room name').fill('Solo');
  await alice.page.getByRole('button', { name: 'Create room' }).click();
  await alice.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
  await alice.page.getByText('This is the beginning of #general.', { exact: true }).waitFor();

  await bob.page.getByRole('button', { name: 'Browse rooms' }).click();
  await bob.page.getByLabel('Search public rooms').fill('Solo');
  const row = bob.page.locator('li', { has: bob.page.getByRole('button', { name: 'Join Solo' }) });
  await row.getByText('· 1 member', { exact: true }).waitFor();
  assert.equal(await row.getByText(/1 members/).count(), 0);
});
