// Web Push on the web client, in real Chromium against the real server:
// the Account page's Notifications card (the permission asked for only on
// a click, a push service that cannot be reached said plainly, the
// account's "no text" and do-not-disturb hours), the channel's
// notification dialog, the `viewing` reports, and the service worker's
// notifications.
//
// Headless Chromium reaches no push service, so pushes are delivered to the
// registered service worker through the DevTools protocol
// (`ServiceWorker.deliverPushMessage`) with the payloads the server sends
// (crates/securechat-server/src/webpush/payload.rs), about real messages
// sent through the UI. Notifications are read with
// `registration.getNotifications()`; alice's Chromium shows them through a
// desktop notification server on a D-Bus session bus of the test's own
// (lib/notification-daemon.mjs), which clicks one the way a desktop does.
// Her browser has a profile on disk: Chromium delivers a desktop click
// only to a regular profile, not to the off-the-record ones that
// `browser.newContext()` makes.
// Demo data: Lobby (#general; alice, bob, charlie), Project X (alice's;
// #general and the encrypted #secrets; bob admin, charlie member).

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { CHROMIUM_ARGS, collectPageProblems, waitInPage } from './lib/browser.mjs';
import { captureOutgoing, openChannel, PASSWORDS, send, signIn } from './lib/chat.mjs';
import { startNotificationDaemon } from './lib/notification-daemon.mjs';
import { ACTION_TIMEOUT_MS, browserSuite, logInThroughForm, pathname } from './lib/suite.mjs';

const suite = browserSuite();

/** How long a push that must show nothing is given to show something anyway. */
const QUIET_MS = 3000;

/**
 * Waits for the service worker to control `page` (whose Chromium shows
 * notifications through `daemon`, if given), and returns
 * `deliver(payload)` (a push to its registration, through CDP) and
 * `notifications()` (what `getNotifications()` lists: title, body, tag, data).
 */
async function pushable(context, page, origin, daemon) {
  await waitInPage(page, async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated');
  const cdp = await context.newCDPSession(page);
  const registrations = new Map();
  cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => {
    for (const r of event.registrations) registrations.set(r.registrationId, r);
  });
  await cdp.send('ServiceWorker.enable');
  const deadline = Date.now() + ACTION_TIMEOUT_MS;
  let registration;
  while ((registration = [...registrations.values()].find((r) => !r.isDeleted && r.scopeURL === `${origin}/`)) === undefined) {
    if (Date.now() > deadline) throw new Error('no service worker registration was reported');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const push = {
    /** The desktop notification server Chromium shows notifications through, if any. */
    daemon,
    shownBefore: 0,
    deliver: (payload) => {
      push.shownBefore = daemon?.shown.length ?? 0;
      return cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: registration.registrationId, data: JSON.stringify(payload) });
    },
    notifications: () =>
      page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }))),
  };
  return push;
}

/**
 * Waits until a notification about message `id` is listed, and returns it.
 * With a desktop notification server (`push.daemon`), first until the
 * desktop shows one more notification than before the push: Chromium drops
 * from `getNotifications()` a notification it is still handing to the
 * desktop when that call comes, so asking earlier can lose it for good.
 */
async function notificationAbout(push, id) {
  const deadline = Date.now() + ACTION_TIMEOUT_MS;
  while (push.daemon !== undefined && push.daemon.shown.length <= push.shownBefore) {
    if (Date.now() > deadline) throw new Error(`nothing reached the desktop about message ${id}: ${JSON.stringify(push.daemon.shown)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (push.daemon !== undefined) await new Promise((resolve) => setTimeout(resolve, 500));
  for (;;) {
    const found = (await push.notifications()).find((n) => n.data?.messageId === id);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no notification about message ${id}: ${JSON.stringify(await push.notifications())}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The id of the newest committed message with exactly this text in the open channel. */
async function messageId(page, text) {
  const row = page.locator('.message[data-message-id]', { has: page.locator('.message-text', { hasText: new RegExp(`^${text}$`) }) }).last();
  await row.waitFor();
  return Number(await row.getAttribute('data-message-id'));
}

/** Room and channel ids by name, as the server lists them to this page's user. */
async function channelIds(page, roomName, channelName) {
  return page.evaluate(
    async ({ roomName, channelName }) => {
      const { rooms } = await (await fetch('/api/rooms')).json();
      const room = rooms.find((r) => r.name === roomName);
      return { room_id: room.id, channel_id: room.channels.find((c) => c.name === channelName).id };
    },
    { roomName, channelName },
  );
}

/** Opens the channel's notification dialog, picks `option` and waits for the server's answer. */
async function chooseLevel(page, option) {
  await page.getByRole('button', { name: 'Notifications', exact: true }).click();
  const dialog = page.getByRole('dialog');
  const radio = dialog.getByRole('radio', { name: option, exact: true });
  await radio.waitFor();
  const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'PUT' && /\/notifications$/.test(r.url())), radio.check()]);
  assert.equal(response.status(), 200);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await dialog.waitFor({ state: 'detached' });
}

test('the Notifications card asks for the permission on a click, says when no push service answers, and keeps the hours in the browser time zone; the channel dialog sets the level and mutes', async (t) => {
  const origin = suite.server.url;
  // In UTC+8, whatever the machine's zone: the hours are sent in the browser's.
  const context = await suite.browser.newContext({ baseURL: origin, timezoneId: 'Asia/Shanghai' });
  t.after(() => context.close());
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  await context.grantPermissions(['notifications'], { origin });
  const page = await context.newPage();
  const problems = collectPageProblems(page);
  // charlie: bob and alice start with fresh keys in the next test.
  await logInThroughForm(page, 'charlie', PASSWORDS.charlie);
  await page.getByText('Signed in as charlie', { exact: true }).waitFor();
  const asked = [];
  await page.exposeFunction('permissionAsked', () => asked.push(Date.now()));
  await page.addInitScript(() => {
    const request = Notification.requestPermission.bind(Notification);
    Notification.requestPermission = (...args) => {
      window.permissionAsked();
      return request(...args);
    };
  });

  // The tab reports the channel it shows, and again when it changes.
  const outgoing = await captureOutgoing(page);
  await openChannel(page, 'Lobby', 'general');
  const lobby = await channelIds(page, 'Lobby', 'general');
  const viewing = () => outgoing.frames.filter((f) => f.includes('"viewing"')).map((f) => JSON.parse(f.replace(/^\d+/, '')));
  const deadline = Date.now() + ACTION_TIMEOUT_MS;
  while (!viewing().some(([, v]) => v.channel_id === lobby.channel_id && v.visible === true)) {
    if (Date.now() > deadline) throw new Error(`no viewing report for the open channel: ${JSON.stringify(viewing())}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // Again after a reconnection: the server forgot the old socket's view with it.
  const reports = viewing().length;
  await suite.server.pause();
  await page.locator('.connection-banner').waitFor();
  await suite.server.resume();
  await page.locator('.connection-banner').waitFor({ state: 'detached' });
  while (!viewing().slice(reports).some(([, v]) => v.channel_id === lobby.channel_id && v.visible === true)) {
    if (Date.now() > deadline + ACTION_TIMEOUT_MS) throw new Error(`no viewing report after the reconnection: ${JSON.stringify(viewing())}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // The channel dialog: the default shown, a level chosen, muted and unmuted.
  await page.getByRole('button', { name: 'Notifications', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Notifications for general' });
  await dialog.getByRole('radio', { name: 'The default: Mentions of me' }).waitFor();
  assert.equal(await dialog.getByRole('radio', { name: 'The default: Mentions of me' }).isChecked(), true);
  await expectNoAxeViolations(page, 'dialog');
  await dialog.getByRole('radio', { name: 'Every message', exact: true }).check();
  await dialog.getByRole('button', { name: 'For 8 hours' }).click();
  await dialog.getByText(/^Muted until /).waitFor();
  // The dialog shows a choice at once; the server has it once the save is answered.
  const stored = await waitInPage(
    page,
    async (id) => {
      const answer = await (await fetch(`/api/channels/${id}/notifications`)).json();
      return answer.mute_until !== null && answer;
    },
    lobby.channel_id,
  );
  assert.equal(stored.level, 'all');
  const muted = Date.parse(stored.mute_until) - Date.now();
  assert.ok(muted > 7.9 * 3600_000 && muted <= 8 * 3600_000, `muted for 8 hours, not ${muted} ms`);
  await dialog.getByRole('button', { name: 'Unmute', exact: true }).click();
  await dialog.getByText('Not muted.').waitFor();
  await dialog.getByRole('button', { name: 'Until I unmute' }).click();
  await dialog.getByText('Muted until you unmute.').waitFor();
  await dialog.getByRole('button', { name: 'Unmute', exact: true }).click();
  await dialog.getByText('Not muted.').waitFor();
  // Closed once the last save is answered (the buttons are disabled while one is under way).
  await dialog.getByRole('button', { name: 'Until I unmute' }).and(page.locator(':enabled')).waitFor();
  await dialog.getByRole('button', { name: 'Close' }).click();
  assert.deepEqual(await page.evaluate(async (id) => (await fetch(`/api/channels/${id}/notifications`)).json(), lobby.channel_id), { success: true, channel_id: lobby.channel_id, level: 'all', effective_level: 'all', mute_until: null });

  // The card: nothing asked on the way in; the click asks; this context's push service refuses, and the card says so.
  await page.goto('/account');
  const card = page.locator('section', { has: page.getByRole('heading', { name: 'Notifications' }) });
  await card.getByText('Push notifications are off in this browser.').waitFor();
  await page.waitForLoadState('networkidle');
  assert.deepEqual(asked, [], 'no permission asked for before the click');
  await expectNoAxeViolations(page);
  await card.getByRole('button', { name: 'Turn on notifications in this browser' }).click();
  await card.getByRole('alert').filter({ hasText: 'The browser could not subscribe to its push service, so notifications stay off:' }).waitFor();
  assert.equal(asked.length, 1, 'the click asked for the permission');
  assert.equal(await page.evaluate(async () => (await (await navigator.serviceWorker.ready).pushManager.getSubscription()) === null), true);
  await card.getByText('Push notifications are off in this browser.').waitFor();

  // The account's settings, in this browser's time zone (UTC+8 here).
  await card.getByLabel("Don't show message text in notifications").check();
  await card.getByLabel('From').fill('22:00');
  await card.getByRole('button', { name: 'Save notification settings' }).click();
  await card.getByRole('alert').filter({ hasText: 'Set both times, or neither.' }).waitFor();
  await card.getByLabel('Until').fill('07:30');
  await card.getByRole('button', { name: 'Save notification settings' }).click();
  await card.getByText('Saved.').waitFor();
  await expectNoAxeViolations(page);
  const settings = await page.evaluate(async () => (await fetch('/api/push/settings')).json());
  assert.deepEqual(settings, { success: true, no_content: true, dnd: { start: 22 * 60, end: 7 * 60 + 30, utc_offset: 480 } });
  await page.reload();
  assert.equal(await card.getByLabel('From').inputValue(), '22:00');
  assert.equal(await card.getByLabel('Until').inputValue(), '07:30');
  assert.equal(await card.getByLabel("Don't show message text in notifications").isChecked(), true);
  // Chromium says why it refused the subscription, as a console error: that refusal is this test's subject.
  // While the server was down, a reconnection attempt may be refused: that is the pause, not a fault.
  const incognito = 'Chrome currently does not support the Push API in incognito mode';
  const refused = (p) => /WebSocket connection to .* failed: .*ERR_CONNECTION_REFUSED/.test(p);
  const errors = problems.filter((p) => !refused(p));
  assert.deepEqual(errors.filter((p) => !p.includes(incognito)), [], "charlie's page logged errors");
  assert.equal(errors.length, 1, 'the refusal was logged once');
});

test('pushes become notifications: plaintext as sent, encrypted decrypted on the device, mentions-only decided after decrypting, a click opens the message', async (t) => {
  const origin = suite.server.url;
  const daemon = await startNotificationDaemon();
  const profile = await mkdtemp(path.join(tmpdir(), 'securechat-push-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: daemon.address },
    baseURL: origin,
    locale: 'en-US',
  });
  t.after(async () => {
    await context.close();
    await daemon.stop();
    await rm(profile, { recursive: true, force: true });
  });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  await context.grantPermissions(['notifications'], { origin });
  const alice = context.pages()[0] ?? (await context.newPage());
  const problems = collectPageProblems(alice);
  // bob first, so that the key alice makes for #secrets is shared with him.
  const bob = await signIn(suite, 'bob');
  t.after(() => bob.context.close());
  await logInThroughForm(alice, 'alice', PASSWORDS.alice);
  await alice.getByText('Signed in as alice', { exact: true }).waitFor();
  const push = await pushable(context, alice, origin, daemon);

  // alice speaks first in #secrets (making its key) and hears every message there.
  await openChannel(alice, 'Project X', 'secrets');
  await send(alice, 'alice opens the channel');
  await messageId(alice, 'alice opens the channel');
  await chooseLevel(alice, 'Every message');
  await openChannel(bob.page, 'Project X', 'secrets');
  await messageId(bob.page, 'alice opens the channel');
  const secrets = await channelIds(alice, 'Project X', 'secrets');
  const lobby = await channelIds(alice, 'Lobby', 'general');
  await alice.goto('/account');
  await alice.getByRole('heading', { level: 1, name: 'Account' }).waitFor();

  await t.test('a plaintext push shows who wrote where and the text, or no text', async () => {
    await openChannel(bob.page, 'Lobby', 'general');
    await send(bob.page, 'plain hello');
    const id = await messageId(bob.page, 'plain hello');
    await push.deliver({ type: 'message', message_id: id, ...lobby, room: 'Lobby', channel: 'general', sender: 'bob', text: 'plain hello' });
    const shown = await notificationAbout(push, id);
    assert.deepEqual(shown, { title: 'bob in #general', body: 'plain hello', tag: `securechat-channel-${lobby.channel_id}`, data: { channelId: lobby.channel_id, messageId: id } });
    await send(bob.page, 'no text wanted');
    const quiet = await messageId(bob.page, 'no text wanted');
    await push.deliver({ type: 'message', message_id: quiet, ...lobby, room: 'Lobby', channel: 'general', sender: 'bob' });
    const bare = await notificationAbout(push, quiet);
    assert.equal(bare.body, '');
    // One per channel: the newer replaced the older.
    assert.equal((await push.notifications()).filter((n) => n.tag === `securechat-channel-${lobby.channel_id}`).length, 1);
  });

  let secretId;
  await t.test('an encrypted push carries ids only; the worker decrypts the message with the keys of this browser', async () => {
    await openChannel(bob.page, 'Project X', 'secrets');
    await send(bob.page, 'meet at noon');
    secretId = await messageId(bob.page, 'meet at noon');
    await push.deliver({ type: 'message', message_id: secretId, ...secrets, encrypted: true });
    const shown = await notificationAbout(push, secretId);
    assert.deepEqual(shown, { title: 'bob in #secrets', body: 'meet at noon', tag: `securechat-channel-${secrets.channel_id}`, data: { channelId: secrets.channel_id, messageId: secretId } });
    const onDesktop = daemon.shown.findLast((n) => n.summary === 'bob in #secrets');
    assert.ok(onDesktop !== undefined && onDesktop.body.endsWith('meet at noon'), 'shown on the desktop');
  });

  await t.test('a browser without the key (charlie\'s second, his keys in the first) says only "New encrypted message"', async () => {
    const charlie = await signIn(suite, 'charlie', { prepare: (c) => c.grantPermissions(['notifications'], { origin }) });
    t.after(() => charlie.close());
    const charliePush = await pushable(charlie.context, charlie.page, origin);
    await charliePush.deliver({ type: 'message', message_id: secretId, ...secrets, encrypted: true });
    const shown = await notificationAbout(charliePush, secretId);
    assert.equal(shown.title, 'New encrypted message');
    assert.equal(shown.body, '');
  });

  await t.test('mentions only: the worker shows the message only when it mentions alice', async () => {
    await alice.goto(`/channels/${secrets.channel_id}`);
    await alice.getByRole('heading', { level: 1, name: 'secrets' }).waitFor();
    await chooseLevel(alice, 'Mentions of me');
    await alice.goto('/account');
    await alice.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
    await send(bob.page, 'lunch anyone?');
    const plain = await messageId(bob.page, 'lunch anyone\\?');
    await push.deliver({ type: 'message', message_id: plain, ...secrets, encrypted: true });
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    assert.equal((await push.notifications()).some((n) => n.data?.messageId === plain), false, 'no notification without a mention');
    // What Chromium put on the desktop meanwhile (its own "updated in the background" notice, if its userVisibleOnly budget ran out).
    t.diagnostic(`desktop notifications so far: ${JSON.stringify(daemon.shown.map((n) => n.summary))}`);
    await send(bob.page, '@alice can you review?');
    const mention = await messageId(bob.page, '@alice can you review\\?');
    await push.deliver({ type: 'message', message_id: mention, ...secrets, encrypted: true });
    const shown = await notificationAbout(push, mention);
    assert.equal(shown.title, 'bob in #secrets');
    assert.equal(shown.body, '@alice can you review?');
    secretId = mention;
  });

  await t.test('clicking the notification on the desktop opens the channel at the message', async () => {
    const onDesktop = daemon.shown.findLast((n) => n.summary === 'bob in #secrets' && n.body.endsWith('@alice can you review?'));
    assert.ok(onDesktop !== undefined, 'the notification is on the desktop');
    assert.equal(pathname(alice), '/account');
    // Which rows the jump highlights (it lasts 2.5 s): recorded in the page, which stays loaded.
    await alice.evaluate(() => {
      window.jumpedTo = [];
      new MutationObserver((changes) => {
        for (const change of changes) {
          if (change.target.classList?.contains('search-jumped')) window.jumpedTo.push(change.target.getAttribute('data-message-id'));
        }
      }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['class'] });
    });
    daemon.click(onDesktop.id);
    await alice.getByRole('heading', { level: 1, name: 'secrets' }).waitFor();
    assert.equal(pathname(alice), `/channels/${secrets.channel_id}`);
    const row = alice.locator(`.message[data-message-id="${secretId}"]`);
    await row.waitFor();
    await waitInPage(alice, (id) => window.jumpedTo.includes(String(id)), secretId);
    await waitInPage(alice, async (id) => !(await (await navigator.serviceWorker.ready).getNotifications()).some((n) => n.data?.messageId === id), secretId);
  });

  await t.test('with no tab of the app open, the click opens a window at the message', async () => {
    await alice.goto('/account');
    await alice.getByRole('heading', { level: 1, name: 'Account' }).waitFor();
    await send(bob.page, '@alice one more thing');
    const id = await messageId(bob.page, '@alice one more thing');
    await push.deliver({ type: 'message', message_id: id, ...secrets, encrypted: true });
    await notificationAbout(push, id);
    const onDesktop = daemon.shown.findLast((n) => n.body.endsWith('@alice one more thing'));
    assert.ok(onDesktop !== undefined, 'the notification is on the desktop');
    // The jump's highlight, recorded from the new window's first moment.
    await context.addInitScript(() => {
      window.jumpedTo = [];
      new MutationObserver((changes) => {
        for (const change of changes) {
          if (change.target.classList?.contains('search-jumped')) window.jumpedTo.push(change.target.getAttribute('data-message-id'));
        }
      }).observe(document, { subtree: true, attributes: true, attributeFilter: ['class'] });
    });
    await alice.close();
    const [opened] = await Promise.all([context.waitForEvent('page'), Promise.resolve().then(() => daemon.click(onDesktop.id))]);
    const openedProblems = collectPageProblems(opened);
    await opened.getByRole('heading', { level: 1, name: 'secrets' }).waitFor();
    await waitInPage(opened, (id) => window.jumpedTo.includes(String(id)), id);
    // The address is the channel's: the message was a one-time jump.
    assert.equal(new URL(opened.url()).search, '');
    assert.equal(pathname(opened), `/channels/${secrets.channel_id}`);
    assert.deepEqual(openedProblems, [], 'the opened window logged errors');
  });

  assert.deepEqual(problems, [], "alice's page logged errors");
  assert.deepEqual(bob.problems, [], "bob's page logged errors");
});
