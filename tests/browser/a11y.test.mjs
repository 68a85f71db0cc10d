// axe-core (through @axe-core/playwright, lib/axe.mjs) on every main screen,
// in the light and the dark theme and in English and Simplified Chinese:
// log in, register, the chat with a plaintext and an encrypted channel
// open, the members panel, room settings, the account page, the quick
// switcher, the shortcuts help, a confirmation dialog, a message's actions
// menu, and the chat at phone width. Any violation fails the test.
//
// The screens are reached in either language: buttons are found by their
// English text or its translation in the catalogues (web/src/i18n/locales),
// so a string translated later is still found.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { collectPageProblems } from './lib/browser.mjs';
import { openChannelPage, signInByApi } from './lib/keyboard.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite({ env: { SEND_RATE_LIMIT: 'off' } });

const LOCALES = new URL('../../web/src/i18n/locales/', import.meta.url);

/** A catalogue as key path → text ("chat.members" → "Members"), or empty when it is not there. */
function catalogue(name) {
  const file = new URL(`${name}.json`, LOCALES);
  if (!existsSync(file)) return new Map();
  const flat = new Map();
  const walk = (node, path) => {
    for (const [key, value] of Object.entries(node)) {
      if (typeof value === 'string') flat.set(`${path}${key}`, value);
      else walk(value, `${path}${key}.`);
    }
  };
  walk(JSON.parse(readFileSync(file, 'utf8')), '');
  return flat;
}

const EN = catalogue('en');
const ZH = catalogue('zh-CN');
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Matches an English UI text or any of its Simplified Chinese translations. */
function text(english) {
  const forms = new Set([english]);
  for (const [key, value] of EN) if (value === english && ZH.has(key)) forms.add(ZH.get(key));
  return new RegExp(`^\\s*(${[...forms].map(escape).join('|')})\\s*$`);
}

/** Checks with axe, naming the screen, theme and locale in the failure. */
async function check(page, screen, combo, selector) {
  try {
    await expectNoAxeViolations(page, selector);
  } catch (err) {
    err.message = `${screen} (${combo}): ${err.message}`;
    throw err;
  }
}

/** Opens a dialog, waits for `ready(dialog)`, checks it, and closes it with Escape. */
async function checkDialog(page, screen, combo, open, ready) {
  await open();
  const dialog = page.getByRole('dialog');
  await ready(dialog).waitFor();
  await check(page, screen, combo);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
}

for (const locale of ['en-US', 'zh-CN']) {
  for (const theme of ['light', 'dark']) {
    const combo = `${theme}, ${locale}`;
    test(`axe finds no violations on the main screens: ${combo}`, async () => {
      const context = await suite.browser.newContext({ baseURL: suite.server.url, locale, viewport: { width: 1280, height: 800 } });
      context.setDefaultTimeout(10_000);
      await context.addInitScript((chosen) => localStorage.setItem('securechat.theme', chosen), theme);
      const page = await context.newPage();
      const problems = collectPageProblems(page);
      try {
        await page.goto('/login');
        await page.locator('form input[autocomplete="username"]').waitFor();
        assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), theme);
        if (locale === 'zh-CN' && ZH.size > 0) assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN', 'the UI speaks Chinese');
        await check(page, 'log in', combo);
        await page.goto('/register');
        await page.locator('form input[autocomplete="new-password"]').first().waitFor();
        await check(page, 'register', combo);

        const channel = await signInByApi(context, 'alice');
        const general = channel('Lobby', 'general');
        const secrets = channel('Project X', 'secrets');
        await openChannelPage(page, general);
        const composer = page.locator('#composer-input');
        await composer.fill(`hello in ${combo}`);
        await composer.press('Enter');
        const mine = page.locator('.message[data-message-id]', { hasText: `hello in ${combo}` });
        await mine.waitFor();
        await check(page, 'plaintext channel', combo);

        // The message's actions menu, from the keyboard, and the confirmation it leads to.
        await mine.focus();
        await page.keyboard.press('Enter');
        const menu = mine.getByRole('menu');
        await menu.waitFor();
        await check(page, 'message actions menu', combo);
        const deleting = () => menu.getByRole('menuitem', { name: text('Delete') }).click();
        await checkDialog(page, 'confirmation dialog', combo, deleting, (dialog) => dialog);
        await checkDialog(page, 'quick switcher', combo, () => page.keyboard.press('Control+k'), (dialog) => dialog.getByRole('combobox'));
        await page.locator('#channel-title').click();
        await checkDialog(page, 'shortcuts help', combo, () => page.keyboard.press('?'), (dialog) => dialog.locator('kbd').first());

        // Project X, alice's own room: its encrypted channel, members and settings.
        await openChannelPage(page, secrets, { composer: false });
        await check(page, 'encrypted channel', combo);
        await page.getByRole('button', { name: text('Members') }).click();
        await page.locator('aside.members').waitFor();
        await check(page, 'members panel', combo);
        await checkDialog(page, 'room settings', combo, () => page.getByRole('button', { name: text('Settings') }).click(), (dialog) => dialog);

        await page.goto('/account');
        await page.locator('main.home h1').waitFor();
        await check(page, 'account page', combo);

        await page.setViewportSize({ width: 390, height: 780 });
        await openChannelPage(page, general);
        await check(page, 'chat at phone width', combo);
        await mine.locator('.message-more').click();
        await mine.getByRole('menu').waitFor();
        await check(page, 'actions menu at phone width', combo);
      } finally {
        await context.close();
      }
      assert.deepEqual(problems, [], 'the page logged errors');
    });
  }
}
