// The keyboard: Tab alone (passing over the skip link) reaches the composer
// in at most 10 presses with a long channel open (it took 26 before the
// sidebar, the channel's toolbar and the message list became one tab stop
// each); the message list's arrow keys, Page Up/Down and Home/End; the focus
// kept on its message when others arrive and when a pending message becomes
// a sent one; the sidebar's arrow keys with Alt+Down still changing channel;
// each message's "⋯" menu button (WAI-ARIA APG menu button) from the
// keyboard; and the same menu on a long press on a touch screen, but not on
// a tap or a scroll.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { cast, expectMessage, openChannel, send } from './lib/chat.mjs';
import { describeFocus, fromTheTop, openChannelPage, signInByApi } from './lib/keyboard.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite({ env: { SEND_RATE_LIMIT: 'off' } });

const focusedMessageId = (page) => page.evaluate(() => document.activeElement?.closest('.message')?.getAttribute('data-message-id') ?? null);
/** Shift+Tab from the composer (past its Attach button) into the message list. */
async function backToList(page) {
  for (let i = 0; i < 3 && !(await page.evaluate(() => document.activeElement?.closest('.messages') != null)); i += 1) await page.keyboard.press('Shift+Tab');
}
const messageIds = (page) => page.locator('.message[data-message-id]').evaluateAll((els) => els.map((el) => el.getAttribute('data-message-id')));

test('Tab alone reaches the composer in at most 10 presses; the list, sidebar and toolbar are one stop each', async (t) => {
  const people = cast(suite, t);
  const alice = await people.open('alice');
  const bob = await people.open('bob');
  const { page } = alice;
  await page.setViewportSize({ width: 1280, height: 800 });
  await openChannel(page, 'Lobby', 'general');
  await openChannel(bob.page, 'Lobby', 'general');
  for (let i = 1; i <= 55; i += 1) await send(page, `line ${i}`);
  await expectMessage(page, /^line 55$/);
  await page.locator('.message.pending').first().waitFor({ state: 'detached' });

  await t.test('Tab alone, from the top of the page', async (t) => {
    await fromTheTop(page);
    const path = [];
    let presses = 0;
    while (presses < 40) {
      await page.keyboard.press('Tab');
      presses += 1;
      path.push(await describeFocus(page));
      if (await page.evaluate(() => document.activeElement?.id === 'composer-input')) break;
    }
    t.diagnostic(`${presses} Tab presses to the composer: ${path.join(' → ')}`);
    assert.ok(presses <= 10, `${presses} Tab presses to the composer: ${path.join(' → ')}`);
    // The sidebar's stop is the open channel; the list's is the newest message.
    assert.match(path.join(' | '), /a "#?\s*general/, `the sidebar's stop is the open channel: ${path.join(' → ')}`);
  });

  await t.test('the message list: Shift+Tab to the newest, arrows, Page Up/Down, Home/End', async () => {
    const ids = await messageIds(page);
    await backToList(page);
    assert.equal(await focusedMessageId(page), ids.at(-1), `Shift+Tab from the composer lands on the newest message, not ${await describeFocus(page)}`);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused message shows the focus');
    await page.keyboard.press('ArrowUp');
    assert.equal(await focusedMessageId(page), ids.at(-2));
    await page.keyboard.press('PageUp');
    assert.equal(await focusedMessageId(page), ids.at(-12), 'Page Up moves ten messages');
    await page.keyboard.press('PageDown');
    assert.equal(await focusedMessageId(page), ids.at(-2));
    await page.keyboard.press('End');
    assert.equal(await focusedMessageId(page), ids.at(-1));
    // Home goes to the first message loaded; the list scrolls to the top and loads the older ones.
    await page.keyboard.press('Home');
    await page.locator('.history-start').waitFor();
    await page.keyboard.press('Home');
    assert.equal(await page.locator('.message[data-message-id]').first().evaluate((el) => el === document.activeElement), true, 'Home goes to the first message');
    assert.equal(await page.evaluate(() => document.activeElement.querySelector('.message-text')?.textContent), 'line 1');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    const held = await focusedMessageId(page);

    // Tab from a message leaves the list for the composer (its Attach button first).
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.closest('.composer') != null), true, `Tab leaves the list for the composer, not ${await describeFocus(page)}`);
    await backToList(page);
    assert.equal(await focusedMessageId(page), (await messageIds(page)).at(-1), 'coming back lands on the newest again');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    assert.equal(await focusedMessageId(page), held);

    // A message from bob arrives: the focus stays where alice is.
    await send(bob.page, 'bob says hi');
    await expectMessage(page, 'bob says hi');
    assert.equal(await focusedMessageId(page), held, 'the focus stays on its message when another arrives');
  });

  await t.test('a pending message that becomes a sent one keeps the focus', async () => {
    await alice.context.setOffline(true);
    await page.locator('.connection-banner').waitFor();
    await send(page, 'written offline');
    const pendingRow = page.locator('.message.pending', { hasText: 'written offline' });
    await pendingRow.waitFor();
    await backToList(page);
    assert.equal(await pendingRow.evaluate((el) => el === document.activeElement), true, 'the pending message is the newest stop');
    await alice.context.setOffline(false);
    await pendingRow.waitFor({ state: 'detached', timeout: 20_000 });
    const sent = page.locator('.message[data-message-id]', { hasText: 'written offline' });
    await sent.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement === document.body), false, `the focus did not fall to the page (${await describeFocus(page)})`);
    assert.equal(await sent.evaluate((el) => el === document.activeElement), true, 'the sent message has the focus');
  });

  await t.test('the sidebar: one stop on the open channel, arrows inside, Alt+Down still changes channel', async () => {
    await fromTheTop(page);
    const current = page.locator('.sidebar a[aria-current="page"]');
    for (let i = 0; i < 10 && !(await current.evaluate((el) => el === document.activeElement)); i += 1) await page.keyboard.press('Tab');
    assert.equal(await current.evaluate((el) => el === document.activeElement), true, 'Tab reaches the open channel');
    assert.equal(await page.locator('.sidebar [tabindex="0"]').count(), 1, 'one stop in the sidebar');
    await page.keyboard.press('ArrowDown');
    assert.match(await describeFocus(page), /random/, 'Down goes to the next channel link');
    await page.keyboard.press('ArrowUp');
    assert.equal(await current.evaluate((el) => el === document.activeElement), true);
    await page.keyboard.press('Alt+ArrowDown');
    await page.getByRole('heading', { level: 1, name: 'random' }).waitFor();
    await page.keyboard.press('Alt+ArrowUp');
    await page.getByRole('heading', { level: 1, name: 'general' }).waitFor();

    // The channel's toolbar: one stop, Left/Right between its buttons.
    const toolbar = page.getByRole('toolbar', { name: 'Channel' });
    await toolbar.getByRole('button', { name: 'Files' }).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await toolbar.getByRole('button', { name: 'Resources' }).evaluate((el) => el === document.activeElement), true);
    assert.equal(await toolbar.locator('[tabindex="0"]').count(), 1, 'one stop in the toolbar');
  });
});

test('the "⋯" menu button: ARIA, arrows, Home/End, type-ahead, Escape and Tab close, and a chosen action', async (t) => {
  const people = cast(suite, t);
  const { page } = await people.open('alice');
  await page.setViewportSize({ width: 1280, height: 800 });
  await openChannel(page, 'Lobby', 'random');
  await send(page, 'menu me');
  const message = page.locator('.message[data-message-id]', { hasText: 'menu me' });
  await message.waitFor();
  const more = message.getByRole('button', { name: 'Message actions' });
  assert.equal(await more.getAttribute('aria-haspopup'), 'menu');
  assert.equal(await more.getAttribute('aria-expanded'), 'false');

  // From the keyboard: Shift+Tab from the composer to the message, Enter opens its menu.
  await page.locator('#composer-input').focus();
  await backToList(page);
  assert.equal(await message.evaluate((el) => el === document.activeElement), true);
  await page.keyboard.press('Enter');
  const menu = message.getByRole('menu');
  await menu.waitFor();
  assert.equal(await more.getAttribute('aria-expanded'), 'true');
  assert.equal(await menu.getAttribute('aria-labelledby'), await more.getAttribute('id'));
  assert.equal(await more.getAttribute('aria-controls'), await menu.getAttribute('id'));
  const items = await menu.getByRole('menuitem').allTextContents();
  assert.deepEqual(items, ['Reply', 'Reply in thread', 'React', 'Edit', 'Save', 'Delete']);
  const focused = () => page.evaluate(() => (document.activeElement?.getAttribute('role') === 'menuitem' ? document.activeElement.textContent : null));
  assert.equal(await focused(), 'Reply', 'the first item has the focus');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), 'Reply in thread');
  await page.keyboard.press('End');
  assert.equal(await focused(), 'Delete');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), 'Reply', 'Down wraps to the first');
  await page.keyboard.press('ArrowUp');
  assert.equal(await focused(), 'Delete', 'Up wraps to the last');
  await page.keyboard.press('Home');
  assert.equal(await focused(), 'Reply');
  await page.keyboard.press('e');
  assert.equal(await focused(), 'Edit', 'a letter goes to the item it starts');
  await expectNoAxeViolations(page);

  await page.keyboard.press('Escape');
  await menu.waitFor({ state: 'detached' });
  assert.equal(await more.getAttribute('aria-expanded'), 'false');
  assert.equal(await more.evaluate((el) => el === document.activeElement), true, 'Escape gives the focus back to "⋯"');

  // Down on the button opens it too; Tab closes it and goes on.
  await page.keyboard.press('ArrowDown');
  await menu.waitFor();
  await page.keyboard.press('Tab');
  await menu.waitFor({ state: 'detached' });
  assert.equal(await more.getAttribute('aria-expanded'), 'false');

  // A click elsewhere closes it; choosing Reply starts a reply in the composer.
  await more.click();
  await menu.waitFor();
  await page.locator('#channel-title').click();
  await menu.waitFor({ state: 'detached' });
  await more.click();
  await menu.getByRole('menuitem', { name: 'Reply', exact: true }).click();
  await menu.waitFor({ state: 'detached' });
  await page.locator('.composer').getByText('menu me').waitFor();
});

test('a long press opens the menu on a touch screen; a tap or a scroll does not', async () => {
  const context = await suite.browser.newContext({ baseURL: suite.server.url, hasTouch: true, isMobile: true, viewport: { width: 390, height: 780 } });
  context.setDefaultTimeout(10_000);
  try {
    // charlie: his first browser in this file, so no "restore your keys" panel covers the list.
    const channel = await signInByApi(context, 'charlie');
    const page = await context.newPage();
    await openChannelPage(page, channel('Lobby', 'random'));
    for (let i = 1; i <= 12; i += 1) await send(page, `touch ${i}`);
    await expectMessage(page, /^touch 12$/);
    const message = page.locator('.message[data-message-id]').filter({ has: page.locator('.message-text', { hasText: /^touch 11$/ }) });
    const menu = message.getByRole('menu');
    const cdp = await context.newCDPSession(page);
    const touch = async (type, point) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: point === undefined ? [] : [point] });
    const box = await message.boundingBox();
    const at = { x: box.x + 40, y: box.y + box.height / 2 };

    // A tap: nothing.
    await touch('touchStart', at);
    await page.waitForTimeout(100);
    await touch('touchEnd');
    await page.waitForTimeout(600);
    assert.equal(await menu.count(), 0, 'a tap opens no menu');

    // A scroll (the finger moves): nothing.
    await touch('touchStart', at);
    for (let dy = 10; dy <= 80; dy += 10) {
      await page.waitForTimeout(60);
      await touch('touchMove', { x: at.x, y: at.y + dy });
    }
    await touch('touchEnd');
    await page.waitForTimeout(600);
    assert.equal(await menu.count(), 0, 'a scroll opens no menu');

    // A held finger: the menu.
    await message.evaluate((el) => el.scrollIntoView({ block: 'center' }));
    const again = await message.boundingBox();
    const hold = { x: again.x + 40, y: again.y + again.height / 2 };
    const hit = await page.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.closest('.message')?.textContent ?? document.elementFromPoint(x, y)?.outerHTML, hold);
    assert.match(hit, /^touch 11/, 'the finger lands on the message');
    await touch('touchStart', hold);
    await page.waitForTimeout(700);
    await touch('touchEnd');
    await menu.waitFor();
    assert.equal(await message.getByRole('button', { name: 'Message actions' }).getAttribute('aria-expanded'), 'true');
    assert.deepEqual(await menu.getByRole('menuitem').allTextContents(), ['Reply', 'Reply in thread', 'React', 'Edit', 'Save', 'Delete']);
    // No hover shortcuts on a touch screen: the menu is the way.
    assert.equal(await message.locator('.message-actions').isVisible(), false);
    await expectNoAxeViolations(page);
  } finally {
    await context.close();
  }
});
