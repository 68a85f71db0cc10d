// The phone layout (issue 24), measured at 390×780: the top bars take at most
// 15% of the height, the encryption panels fold into one expandable line, the
// message list shows over at least 60% of the height, nothing scrolls
// sideways, the composer's text box is at least 70% of the width, and a
// message's actions sit behind its "⋯" button. Desktop keeps its layout.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { cast, openChannel, send } from './lib/chat.mjs';
import { browserSuite, expectSignedInAs, registerThroughForm } from './lib/suite.mjs';

const suite = browserSuite({ env: { DEFAULT_ROOMS: 'Lobby' } });

const PHONE = { width: 390, height: 780 };

/** What the phone test measures, in CSS pixels of the viewport. */
async function measure(page) {
  return page.evaluate(() => {
    const vh = window.innerHeight;
    const list = document.querySelector('.messages').getBoundingClientRect();
    const box = document.querySelector('#composer-input');
    const visibleList = Math.max(0, Math.min(list.bottom, vh) - Math.max(list.top, 0));
    return {
      viewport: [window.innerWidth, vh],
      scrollWidth: document.documentElement.scrollWidth,
      topBars: Math.round(list.top),
      messageList: Math.round(visibleList),
      composerWidth: Math.round(box.getBoundingClientRect().width),
      placeholderClipped: box.scrollWidth > box.clientWidth,
      heights: Object.fromEntries(['.topbar', '.e2ee-panels', '.channel-head', '.composer'].map((s) => [s, Math.round(document.querySelector(s)?.getBoundingClientRect().height ?? 0)])),
    };
  });
}

function expectPhoneLayout(m, who) {
  const [width, height] = m.viewport;
  console.log(`${who} at ${width}×${height}: ${JSON.stringify(m)}`);
  assert.ok(m.topBars <= 0.15 * height, `${who}: the top bars take ${m.topBars} px, more than 15% of ${height}`);
  assert.ok(m.messageList >= 0.6 * height, `${who}: the message list shows over ${m.messageList} px, less than 60% of ${height}`);
  assert.ok(m.scrollWidth <= width, `${who}: the page scrolls sideways (${m.scrollWidth} > ${width})`);
  assert.ok(m.composerWidth >= 0.7 * width, `${who}: the composer is ${m.composerWidth} px wide, less than 70% of ${width}`);
  assert.equal(m.placeholderClipped, false, `${who}: the composer's placeholder is clipped`);
}

/** The encryption panels fold into one line: a button with aria-expanded shows and hides them. */
async function expectFoldedBanner(page, heading) {
  const fold = page.getByRole('button', { name: 'Encryption needs your attention' });
  await fold.waitFor();
  assert.equal(await fold.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.getByRole('heading', { name: heading }).isVisible(), false, 'folded away');
  await fold.click();
  const hide = page.getByRole('button', { name: 'Hide encryption notices' });
  assert.equal(await hide.getAttribute('aria-expanded'), 'true');
  await page.getByRole('heading', { name: heading }).waitFor();
  await expectNoAxeViolations(page);
  await hide.click();
  await page.getByRole('heading', { name: heading }).waitFor({ state: 'hidden' });
  assert.equal(await fold.getAttribute('aria-expanded'), 'false');
}

/** A message's actions are behind its "⋯" menu button: the keyboard opens it, moves into it, and Escape closes it. */
async function expectActionsMenu(page, text) {
  const message = page.locator('.message[data-message-id]', { hasText: text });
  await message.waitFor();
  assert.equal(await message.getByRole('button', { name: 'Reply', exact: true }).isVisible(), false, 'the actions are not shown under every message');
  const more = message.getByRole('button', { name: 'Message actions' });
  assert.equal(await more.getAttribute('aria-expanded'), 'false');
  await more.focus();
  await page.keyboard.press('Enter');
  const reply = message.getByRole('menuitem', { name: 'Reply', exact: true });
  await reply.waitFor();
  assert.equal(await more.getAttribute('aria-expanded'), 'true');
  assert.equal(await reply.evaluate((el) => el === document.activeElement), true, 'the focus moves to the first action');
  for (const name of ['React', 'Edit', 'Delete']) assert.equal(await message.getByRole('menuitem', { name, exact: true }).isVisible(), true, `${name} is in the menu`);
  await expectNoAxeViolations(page);
  await page.keyboard.press('Escape');
  await reply.waitFor({ state: 'detached' });
  assert.equal(await more.evaluate((el) => el === document.activeElement), true, 'Escape gives the focus back to "⋯"');
  // Choosing an action closes the menu: Reply starts a reply in the composer.
  await more.click();
  await reply.click();
  await reply.waitFor({ state: 'hidden' });
  await page.getByRole('status').filter({ hasText: 'Replying to' }).waitFor();
  await page.getByRole('button', { name: 'Cancel reply' }).click();
}

test('phone: a new account sees its messages over most of the screen', async () => {
  const { page } = suite;
  await page.setViewportSize(PHONE);
  await registerThroughForm(page, 'frank', 'frank-kettle-orbit-7');
  await expectSignedInAs(page, 'frank');
  await openChannel(page, 'Lobby', 'general');
  await expectFoldedBanner(page, 'Back up your encryption keys');
  for (let i = 1; i <= 3; i++) await send(page, `phone message ${i}`);
  await page.locator('.message[data-message-id]', { hasText: 'phone message 3' }).waitFor();
  expectPhoneLayout(await measure(page), 'a new account');
  await expectActionsMenu(page, 'phone message 2');
  await expectNoAxeViolations(page);
});

test('phone: alice in Project X / secrets with the backup reminder up', async (t) => {
  const people = cast(suite, t);
  const alice = await people.open('alice');
  const { page } = alice;
  await page.setViewportSize(PHONE);
  await openChannel(page, 'Project X', 'secrets');
  await page.getByRole('button', { name: 'Encryption needs your attention' }).waitFor();
  await send(page, 'a secret from a phone');
  // The channel's first encrypted message also sets up its key for every
  // member: on a CI machine running three suites on two cores that has
  // taken longer than the default wait.
  await page.locator('.message[data-message-id]', { hasText: 'a secret from a phone' }).waitFor({ timeout: 60_000 });
  expectPhoneLayout(await measure(page), 'alice in secrets');
  await expectFoldedBanner(page, 'Back up your encryption keys');
  await expectActionsMenu(page, 'a secret from a phone');
  await expectNoAxeViolations(page);
});

test('desktop: the panels and message actions are as before', async (t) => {
  const people = cast(suite, t);
  const bob = await people.open('bob');
  const { page } = bob;
  await page.setViewportSize({ width: 1280, height: 800 });
  await openChannel(page, 'Lobby', 'general');
  await page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  assert.equal(await page.getByRole('button', { name: 'Encryption needs your attention' }).isVisible(), false, 'no fold on desktop');
  await send(page, 'hello from a desk');
  const message = page.locator('.message[data-message-id]', { hasText: 'hello from a desk' });
  await message.waitFor();
  const opacity = (name) => message.getByRole('button', { name, exact: true }).evaluate((el) => getComputedStyle(el.closest('.message-actions, .message-more')).opacity);
  assert.equal(await opacity('Message actions'), '0', '"⋯" waits for the pointer or the focus');
  await message.hover();
  assert.equal(await opacity('Reply'), '1', 'the actions show on hover');
  assert.equal(await opacity('Message actions'), '1', 'and "⋯" beside them');
  const m = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, composer: document.querySelector('#composer-input').getBoundingClientRect().width }));
  assert.ok(m.scrollWidth <= 1280);
  assert.ok(m.composer >= 600, `the composer is ${m.composer} px wide`);
  await expectNoAxeViolations(page);
});

/**
 * What the desktop test measures: the header title's left edge, the sidebar
 * buttons' lines of text, the channel header's height and the encryption
 * notices' total height, in CSS pixels.
 */
function measureDesktop(page) {
  return page.evaluate(() => {
    const lines = (el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top))).size;
    };
    const button = (name) => [...document.querySelectorAll('.sidebar-actions .button')].find((b) => b.textContent.trim() === name);
    const browse = button('Browse rooms');
    const newRoom = button('New room');
    return {
      titleX: Math.round(document.querySelector('.topbar .brand').getBoundingClientRect().left),
      headerWidth: Math.round(document.querySelector('.topbar-inner').getBoundingClientRect().width),
      browseLines: lines(browse),
      browseHeight: Math.round(browse.getBoundingClientRect().height),
      newRoomHeight: Math.round(newRoom.getBoundingClientRect().height),
      channelHead: Math.round(document.querySelector('.channel-head').getBoundingClientRect().height),
      headButtonRows: new Set([...document.querySelectorAll('.channel-head .button')].filter((b) => b.offsetParent !== null).map((b) => Math.round(b.getBoundingClientRect().top))).size,
      banners: Math.round(document.querySelector('.e2ee-panels')?.getBoundingClientRect().height ?? 0),
      scrollWidth: document.documentElement.scrollWidth,
    };
  });
}

/** Encryption notices above the chat, in total, at 1280×800 (the backup reminder took 240 px before issue 24; 57 px after). */
const BANNER_BUDGET_PX = 64;

/** Puts a signed-in person's page at 1280×800 in a channel, and returns it. */
async function atDesk(person, roomName, channelName) {
  await person.page.setViewportSize({ width: 1280, height: 800 });
  await openChannel(person.page, roomName, channelName);
  return person.page;
}

test('desktop: a full-width header, one-line sidebar buttons, a compact encryption notice, a DM’s avatar and presence', async (t) => {
  const people = cast(suite, t);
  // charlie is new to this server's browsers, so his keys are new and the backup reminder is up.
  const charlie = await people.open('charlie');
  const bob = await people.open('bob');
  const page = await atDesk(charlie, 'Lobby', 'general');
  await page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();

  const m = await measureDesktop(page);
  console.log(`charlie at 1280×800: ${JSON.stringify(m)}`);
  assert.ok(m.titleX <= 24, `the header's title starts at x=${m.titleX}`);
  assert.ok(m.headerWidth >= 1280 - 2 * 24, `the header spans ${m.headerWidth} px of 1280`);
  assert.equal(m.browseLines, 1, '"Browse rooms" is on one line');
  assert.equal(m.browseHeight, m.newRoomHeight, '"Browse rooms" is as high as the one-line "New room"');
  assert.ok(m.banners > 0 && m.banners <= BANNER_BUDGET_PX, `the encryption notices take ${m.banners} px (budget ${BANNER_BUDGET_PX})`);
  assert.ok(m.scrollWidth <= 1280);

  // The reminder's explanation is behind "Details".
  const details = page.locator('.e2ee-panels').getByRole('button', { name: 'Details' });
  assert.equal(await details.getAttribute('aria-expanded'), 'false');
  await details.click();
  await page.getByText('Your encryption keys are only in this browser').waitFor();
  await expectNoAxeViolations(page);
  await page.locator('.e2ee-panels').getByRole('button', { name: 'Hide details' }).click();
  await page.getByText('Your encryption keys are only in this browser').waitFor({ state: 'hidden' });

  // A DM in the sidebar: bob's avatar, and his presence said in words ("online", then "offline").
  await page.getByRole('button', { name: 'New direct message' }).click();
  await page.getByLabel('Find a person').fill('bob');
  await page.getByRole('button', { name: 'Message bob' }).click();
  await page.getByRole('heading', { level: 1, name: 'bob' }).waitFor();
  const dm = page.locator('.sidebar .channel-link', { hasText: 'bob' });
  await dm.locator('.avatar', { hasText: 'BO' }).waitFor();
  await dm.locator('.presence[title="online"]').waitFor();
  await bob.page.close();
  await dm.locator('.presence[title="offline"]').waitFor({ timeout: 15_000 });
  await expectNoAxeViolations(page);
});

test('desktop: the members panel squeezes nothing; avatars with presence in the members panel and at the head of each message group', async (t) => {
  const people = cast(suite, t);
  // bob is online (his page is open); charlie is not (his page was closed).
  await people.open('bob');
  const page = await atDesk(await people.open('alice'), 'Project X', 'general');
  await send(page, 'first of a group');
  await send(page, 'second of the same group');
  await page.locator('.message[data-message-id]', { hasText: 'second of the same group' }).waitFor();

  const before = await measureDesktop(page);
  await page.getByRole('button', { name: 'Members', exact: true }).click();
  const panel = page.getByRole('complementary', { name: 'Members of Project X' });
  const bobRow = panel.getByRole('listitem').filter({ hasText: 'bob' });
  await bobRow.getByRole('button', { name: 'Kick bob' }).waitFor();
  const after = await measureDesktop(page);
  console.log(`alice at 1280×800, without and with the members panel: ${JSON.stringify({ before, after })}`);
  assert.equal(after.channelHead, before.channelHead, 'the channel header keeps its height');
  assert.equal(after.headButtonRows, 1, 'the header actions stay on one line');
  const roleLinks = await bobRow.locator('.member-actions button').evaluateAll((buttons) =>
    buttons.map((b) => {
      const range = document.createRange();
      range.selectNodeContents(b);
      return { text: b.textContent, lines: new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size, top: Math.round(b.getBoundingClientRect().top) };
    }),
  );
  assert.deepEqual(
    roleLinks.map((l) => l.text),
    ['Make member', 'Make owner', 'Kick', 'Ban'],
  );
  assert.ok(roleLinks.every((l) => l.lines === 1 && l.top === roleLinks[0].top), `the role links are on one line: ${JSON.stringify(roleLinks)}`);

  // Avatars with presence in words: bob online, charlie offline; one colour per person wherever shown.
  await bobRow.locator('.avatar', { hasText: 'BO' }).waitFor();
  await bobRow.getByRole('img', { name: 'online' }).waitFor();
  const charlieRow = panel.getByRole('listitem').filter({ hasText: 'charlie' });
  await charlieRow.locator('.avatar', { hasText: 'CH' }).waitFor();
  await charlieRow.getByRole('img', { name: 'offline' }).waitFor();
  assert.equal(await charlieRow.locator('.presence').getAttribute('title'), 'offline');
  // One avatar at the head of alice's group, none on its second line.
  const group = page.locator('.group', { hasText: 'second of the same group' });
  assert.equal(await group.locator('.avatar').count(), 1, 'one avatar per group');
  await group.locator('.group-head .avatar', { hasText: 'AL' }).waitFor();
  const aliceInPanel = panel.getByRole('listitem').filter({ hasText: '(you)' }).locator('.avatar');
  const colour = (locator) => locator.evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.equal(await colour(group.locator('.avatar')), await colour(aliceInPanel), 'alice has one colour');
  assert.notEqual(await colour(bobRow.locator('.avatar')), await colour(charlieRow.locator('.avatar')), 'bob and charlie differ');
  await expectNoAxeViolations(page);
});
