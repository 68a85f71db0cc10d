// Languages: a browser whose language is Simplified Chinese gets the whole
// UI in Chinese — the sign-in and registration pages, the chat with a
// channel open, the members panel, room settings, the Account page with its
// encryption and devices cards, the quick switcher, the shortcuts help and a
// confirmation dialog — with no English left on any of them, dates and times
// in Chinese form, and axe-core finding nothing in light or dark. And an
// English reader switches to 简体中文 on the Account page: the UI changes at
// once, without a reload, downloads the Chinese catalogue only then, and
// keeps the choice over a reload.
// Demo data: Lobby (admin's; alice, bob and charlie are members) and
// Project X (alice's) with #general and the encrypted #secrets.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { cast, expectMessage, openChannel, PASSWORDS, send } from './lib/chat.mjs';
import { collectPageProblems, serveWebBuild } from './lib/browser.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

/**
 * Words that stay as they are in the Chinese UI: the product's name, the
 * demo's people, rooms and channels, keycaps, and each language's own name
 * in the language picker.
 */
const PROPER_NAMES = ['Securechat', 'admin', 'alice', 'bob', 'charlie', 'Lobby', 'Project', 'general', 'random', 'secrets', 'Ctrl', 'Alt', 'Shift', 'Enter', 'Escape', 'English'];

/**
 * The English left on the page: every run of two or more Latin letters in
 * what a person sees or hears — text of visible elements (screen-reader-only
 * text included), and their placeholders, aria-labels, titles and alt
 * texts, and the document title — that is not an allowed name. What people
 * wrote is left out: message bodies, and the demo's room descriptions and
 * channel topics (passed in `content`, removed from text wherever they
 * stand). Also left out: codes and fingerprints (hex digits).
 */
async function englishOnPage(page, allowed = [], content = []) {
  return page.evaluate(
    ({ names, phrases }) => {
      const skip = 'script, style, code, pre, .fingerprint, .sas, .code, .recovery-words, .safety-number, .avatar';
      const userText = (el) => el.closest('div.message-text') !== null && el.closest('.edited') === null;
      const shown = (el) => el.checkVisibility({ visibilityProperty: true }) || el.closest('.visually-hidden') !== null;
      const found = [];
      const look = (text, where, removePhrases) => {
        let rest = text;
        if (removePhrases) for (const phrase of phrases) rest = rest.split(phrase).join(' ');
        // Mention keywords (@channel, @here…) are typed as they are in every language.
        rest = rest.replace(/@[A-Za-z]+/g, ' ');
        for (const [word] of rest.matchAll(/[A-Za-z]{2,}/g)) {
          if (!names.includes(word.toLowerCase())) found.push(`${word} — in ${where}: "${text.trim().slice(0, 80)}"`);
        }
      };
      const describe = (el) => `${el.tagName.toLowerCase()}${el.id !== '' ? `#${el.id}` : ''}${typeof el.className === 'string' && el.className !== '' ? `.${el.className.split(' ')[0]}` : ''}`;
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
        const el = node.parentElement;
        if (el === null || el.closest(skip) !== null || userText(el) || !shown(el)) continue;
        look(node.textContent ?? '', describe(el), true);
      }
      for (const el of document.body.querySelectorAll('[placeholder], [aria-label], [title], [alt]')) {
        if (el.closest(skip) !== null || !shown(el)) continue;
        for (const attribute of ['placeholder', 'aria-label', 'title', 'alt']) {
          const value = el.getAttribute(attribute);
          if (value !== null) look(value, `${describe(el)}[${attribute}]`, false);
        }
      }
      look(document.title, 'the document title', false);
      return found;
    },
    { names: [...PROPER_NAMES, ...allowed].map((name) => name.toLowerCase()), phrases: content },
  );
}

/** Fails, listing each English word and where it is, when the page has any. */
async function expectNoEnglish(page, screen, allowed, content) {
  assert.deepEqual(await englishOnPage(page, allowed, content), [], `English left on ${screen}`);
}

/** axe-core on the page in the light and the dark theme (as the system's preference). */
async function expectAccessibleInBothThemes(page) {
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await expectNoAxeViolations(page);
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

/** The demo's room descriptions and channel topics, which are what people wrote, not the UI's. */
async function demoContent(page) {
  return page.evaluate(async () => {
    const answer = await (await fetch('/api/rooms')).json();
    return answer.rooms.flatMap((room) => [room.description, ...room.channels.map((channel) => channel.topic)]).filter((text) => text !== '');
  });
}

/** A new context whose browser prefers Simplified Chinese. */
async function chineseBrowser(t) {
  const context = await suite.browser.newContext({ baseURL: suite.server.url, locale: 'zh-CN', viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(10_000);
  if (process.env.WEB_DIST !== undefined) await serveWebBuild(context, process.env.WEB_DIST);
  const page = await context.newPage();
  const problems = collectPageProblems(page);
  t.after(async () => {
    await context.close();
    assert.deepEqual(problems, [], 'the page logged errors');
  });
  return page;
}

test('a browser in Simplified Chinese shows the sign-in pages, the chat and its dialogs, and the Account page in Chinese', async (t) => {
  const page = await chineseBrowser(t);

  await t.test('registration and sign-in pages', async () => {
    await page.goto('/register');
    await page.getByRole('heading', { name: '注册账号' }).waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    // A refused form shows its errors in Chinese too.
    await page.getByRole('button', { name: '注册' }).click();
    await page.getByText('请输入用户名。').waitFor();
    await expectNoEnglish(page, 'the registration page');
    await expectAccessibleInBothThemes(page);

    await page.getByRole('link', { name: '登录' }).click();
    await page.getByRole('heading', { name: '登录' }).waitFor();
    assert.equal(await page.title(), '登录 · Securechat');
    // The server's answer to a wrong password is shown by its code, in Chinese.
    await page.getByLabel('用户名').fill('alice');
    await page.getByLabel('密码').fill('not-her-password');
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await page.getByText('用户名或密码错误').waitFor();
    await expectNoEnglish(page, 'the sign-in page');
    await expectAccessibleInBothThemes(page);

    await page.getByLabel('密码').fill(PASSWORDS.alice);
    await page.getByRole('button', { name: '登录', exact: true }).click();
    await page.getByText('当前登录：alice', { exact: true }).waitFor();
  });

  await t.test('the Account page, with its encryption and devices cards', async () => {
    await page.getByRole('link', { name: '账号', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: '账号' }).waitFor();
    await page.getByText('密钥已就绪。').waitFor();
    await page.getByRole('heading', { name: '设备', exact: true }).waitFor();
    await page.getByText('此浏览器', { exact: true }).first().waitFor();
    assert.equal(await page.getByLabel('界面语言').inputValue(), 'zh-CN');
    await expectNoEnglish(page, 'the Account page');
    await expectAccessibleInBothThemes(page);
    await page.getByRole('link', { name: '返回聊天' }).click();
  });

  const content = await demoContent(page);

  await t.test('the chat with a channel open: Chinese dates and times', async () => {
    await page.getByRole('heading', { name: '备份你的加密密钥' }).waitFor();
    await openChannel(page, 'Lobby', 'general');
    await send(page, '大家好');
    await expectMessage(page, '大家好');
    const mine = page.locator('.message[data-message-id]', { hasText: '大家好' }).last();
    // A 24-hour clock, as zh-CN writes it (en-US would say "02:05 PM").
    const time = (await page.locator('.group-head time').last().textContent()).trim();
    assert.match(time, /^\d{2}:\d{2}$/, `the time beside a message: "${time}"`);
    assert.match(await mine.getAttribute('aria-label'), /^alice，\d{2}:\d{2}$/);
    assert.equal((await page.locator('.day-label').last().textContent()).trim(), '今天');
    assert.equal(await page.title(), '#general · Lobby · Securechat');
    await expectNoEnglish(page, 'the chat', [], content);
    await expectAccessibleInBothThemes(page);

    // At phone width the encryption notices fold behind a button of their own.
    await page.setViewportSize({ width: 390, height: 780 });
    await page.getByRole('button', { name: '加密需要你处理' }).waitFor();
    await expectNoEnglish(page, 'the chat at phone width', [], content);
    await expectNoAxeViolations(page);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('the members panel', async () => {
    await page.getByRole('button', { name: '成员', exact: true }).click();
    await page.getByRole('heading', { name: 'Lobby 的成员' }).waitFor();
    await page.getByRole('button', { name: '验证 bob' }).waitFor();
    await expectNoEnglish(page, 'the members panel', [], content);
    await expectAccessibleInBothThemes(page);
    await page.locator('.members').getByRole('button', { name: '关闭' }).click();
  });

  await t.test('room settings, and a confirmation dialog', async () => {
    await openChannel(page, 'Project X', 'general');
    await page.getByRole('button', { name: '设置', exact: true }).click();
    const settings = page.getByRole('dialog', { name: '房间设置' });
    await settings.waitFor();
    await expectNoEnglish(page, 'room settings', [], content);
    await expectAccessibleInBothThemes(page);

    await settings.getByRole('form', { name: '频道 general' }).getByRole('button', { name: '删除频道' }).click();
    const confirm = page.getByRole('dialog', { name: '要删除 #general 吗？' });
    await confirm.waitFor();
    await confirm.getByText('此频道及其所有消息将对所有人删除。此操作无法撤销。').waitFor();
    await expectNoEnglish(page, 'the confirmation dialog', [], content);
    await expectAccessibleInBothThemes(page);
    await confirm.getByRole('button', { name: '取消' }).click();
    await confirm.waitFor({ state: 'detached' });
    await settings.getByRole('button', { name: '关闭' }).click();
  });

  await t.test('the quick switcher and the shortcuts help', async () => {
    await page.keyboard.press('Control+K');
    const switcher = page.getByRole('dialog', { name: '跳转到' });
    await switcher.waitFor();
    await page.getByLabel('房间、频道或用户').fill('secrets');
    await switcher.getByRole('option', { name: /secrets/ }).getByText('Project X 中的频道').waitFor();
    await switcher.getByText('1 个匹配结果。按 ↑ 和 ↓ 选择，按 Enter 跳转。').waitFor();
    await expectNoEnglish(page, 'the quick switcher', [], content);
    await expectAccessibleInBothThemes(page);
    await page.keyboard.press('Escape');
    await switcher.waitFor({ state: 'detached' });

    await page.locator('main').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: '键盘快捷键' });
    await help.waitFor();
    await help.getByText('跳转到房间、频道或用户').waitFor();
    await expectNoEnglish(page, 'the shortcuts help', [], content);
    await expectAccessibleInBothThemes(page);
    await page.keyboard.press('Escape');
  });
});

test('an English reader switches to 简体中文 on the Account page: at once, fetched only then, kept over a reload', async (t) => {
  const { open } = cast(suite, t);
  const bob = await open('bob');
  const { page } = bob;
  const catalogue = [];
  page.on('request', (request) => {
    if (/\/assets\/zh-CN-[\w-]+\.js$/.test(new URL(request.url()).pathname)) catalogue.push(request.url());
  });
  await page.getByRole('link', { name: 'Account', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  assert.deepEqual(catalogue, [], 'an English reader does not download the Chinese catalogue');

  await page.getByLabel('Language of the interface').selectOption('zh-CN');
  // No reload: the same page, now in Chinese.
  await page.getByRole('heading', { level: 1, name: '账号' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
  assert.equal(catalogue.length, 1, 'the Chinese catalogue is fetched when chosen');
  await page.getByText('当前登录：bob', { exact: true }).waitFor();
  await expectNoEnglish(page, 'the Account page after switching');

  await page.reload();
  await page.getByRole('heading', { level: 1, name: '账号' }).waitFor();
  assert.equal(await page.getByLabel('界面语言').inputValue(), 'zh-CN');
  assert.equal(await page.title(), '账号 · Securechat');

  await page.getByLabel('界面语言').selectOption('en');
  await page.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
});
