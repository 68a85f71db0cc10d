// The installable app offline: with the server stopped, a reload opens the
// chat of the person signed in last, with their rooms and the messages they
// wrote (plaintext and encrypted channels), which survive another reload and
// are sent exactly once, in order, when the server is back, a reload in the
// middle of sending included (checked from another person's browser and
// through the API). The encrypted channel's pending messages are never
// stored readable. Logging out with unsent messages asks first, then deletes
// what this browser kept; the next person on the same browser sees nothing
// of it. axe-core runs on the offline chat and the logout question.
// Demo data: Lobby (everyone), Project X / secrets (encrypted; alice owner,
// bob admin, charlie member).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { waitInPage } from './lib/browser.mjs';
import { cast, expectMessage, messageTexts, openChannel, PASSWORDS, send } from './lib/chat.mjs';
import { browserSuite, logInThroughForm } from './lib/suite.mjs';

const suite = browserSuite();

const BANNER = 'Offline — messages will be sent when the server is back.';
const SECRET = /offline secret \d/;
/** What alice writes in Lobby / general while the server is stopped, in this order. */
const PLAIN = Array.from({ length: 12 }, (_, i) => `offline plain ${i + 1}`);

/** Opens a channel from the sidebar while offline (no history to wait for, no connection). */
async function openOffline(page, roomName, channelName) {
  const room = page.locator('.room', { has: page.locator('.room-name', { hasText: roomName }) });
  await room.getByRole('link', { name: channelName }).click();
  await page.getByRole('heading', { level: 1, name: channelName }).waitFor();
}

/** The texts of the open channel's pending messages. */
function pendingTexts(page) {
  return page.locator('.message.pending .message-text').allTextContents();
}

/** Everything this origin keeps in IndexedDB and localStorage, as one text (to look for plaintext). */
function storedText(page) {
  return page.evaluate(async () => {
    const out = [JSON.stringify({ ...localStorage })];
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      for (const store of db.objectStoreNames) {
        const values = await new Promise((resolve, reject) => {
          const request = db.transaction(store).objectStore(store).getAll();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        out.push(`${name}/${store}: ${JSON.stringify(values)}`);
      }
      db.close();
    }
    return out.join('\n');
  });
}

/** Whether this browser keeps rooms for the user `id` to open offline. */
function roomsKept(page, id) {
  return waitInPage(
    page,
    async (id) => {
      const name = `securechat-offline-${id}`;
      if (!(await indexedDB.databases()).some((d) => d.name === name)) return false;
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      try {
        if (!db.objectStoreNames.contains('kv')) return false;
        const rooms = await new Promise((resolve) => {
          const request = db.transaction('kv').objectStore('kv').get('rooms');
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => resolve(undefined);
        });
        return Array.isArray(rooms) && rooms.length > 0;
      } finally {
        db.close();
      }
    },
    id,
  );
}

/** The names of this origin's IndexedDB databases. */
function databases(page) {
  return page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
}

/** A channel's messages as the server holds them, fetched by the page's session. */
function history(page, roomName, channelName) {
  return page.evaluate(
    async ([roomName, channelName]) => {
      const rooms = await (await fetch('/api/rooms')).json();
      const channel = rooms.rooms.find((r) => r.name === roomName).channels.find((c) => c.name === channelName);
      return (await (await fetch(`/api/channels/${channel.id}/messages`)).json()).messages;
    },
    [roomName, channelName],
  );
}

test('offline: cached rooms and pending messages after reloads, sent once and in order when the server is back; logging out wipes them', async (t) => {
  const { open } = cast(suite, t);
  const bob = await open('bob');
  await bob.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  const alice = await open('alice');
  await alice.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  const page = alice.page;
  const aliceId = await page.evaluate(async () => (await (await fetch('/api/auth/me')).json()).user.id);

  // Online first: the channel key exists, the rooms are listed (and kept), the app shell is cached.
  await openChannel(bob.page, 'Project X', 'secrets');
  await openChannel(page, 'Project X', 'secrets');
  await send(page, 'online secret');
  await expectMessage(bob.page, 'online secret');
  await openChannel(page, 'Lobby', 'general');
  await waitInPage(page, async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated');
  await roomsKept(page, aliceId);

  await t.test('with the server stopped, the open page keeps the composer and a reload opens the offline chat', async (t) => {
    await suite.server.pause();
    await page.locator('.connection-banner').waitFor();
    await send(page, 'offline plain 1');
    await page.locator('.message.pending', { hasText: 'offline plain 1' }).waitFor();

    const reloaded = Date.now();
    await page.reload();
    await page.getByText(BANNER).waitFor();
    await page.getByText('Signed in as alice', { exact: true }).waitFor();
    // The rooms as last listed, and the message written before the reload.
    await page.locator('.room-name', { hasText: 'Project X' }).waitFor();
    await page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
    await page.locator('.message.pending', { hasText: 'offline plain 1' }).waitFor();
    t.diagnostic(`offline chat with its pending message shown ${Date.now() - reloaded} ms after the reload began`);
    await send(page, 'offline plain 2');
    await page.locator('.message.pending', { hasText: 'offline plain 2' }).waitFor();

    await openOffline(page, 'Project X', 'secrets');
    await send(page, 'offline secret 1');
    await send(page, 'offline secret 2');
    await page.locator('.message.pending', { hasText: 'offline secret 2' }).waitFor();
    await expectNoAxeViolations(page);
  });

  await t.test('another reload while the server is still down keeps every pending message, the encrypted ones never stored readable', async (t) => {
    const reloaded = Date.now();
    await page.reload();
    await page.getByText(BANNER).waitFor();
    await page.getByRole('heading', { level: 1, name: 'secrets' }).waitFor();
    await page.locator('.message.pending', { hasText: 'offline secret 2' }).waitFor();
    t.diagnostic(`sealed pending messages shown ${Date.now() - reloaded} ms after the reload began`);
    assert.deepEqual(await pendingTexts(page), ['offline secret 1', 'offline secret 2']);
    await openOffline(page, 'Lobby', 'general');
    assert.deepEqual(await pendingTexts(page), ['offline plain 1', 'offline plain 2']);
    // More, so that the server's return finds a queue to send one by one.
    for (const text of PLAIN.slice(2)) await send(page, text);
    await page.locator('.message.pending', { hasText: PLAIN.at(-1) }).waitFor();
    assert.deepEqual(await pendingTexts(page), PLAIN);

    const stored = await storedText(page);
    assert.ok(stored.includes('offline plain 1'), 'the plaintext channel’s outbox is kept');
    assert.ok(!SECRET.test(stored), 'no pending message of the encrypted channel is stored readable');
    assert.ok((await databases(page)).includes(`securechat-offline-${aliceId}`));
  });

  await t.test('the server is back: everything is sent once, in order, with a reload while it goes; bob reads it', async (t) => {
    await suite.server.resume();
    // The banner's button; it may be gone already if the app's own retry got there first.
    await page
      .getByRole('button', { name: 'Try now' })
      .click({ timeout: 5_000 })
      .catch(() => undefined);
    // A reload as soon as the first of them is in: the rest goes after it, each once.
    const committed = () => [...document.querySelectorAll('.message[data-message-id] .message-text')].filter((e) => e.textContent.startsWith('offline plain')).length;
    const sentBefore = await waitInPage(page, committed, undefined, { interval: 10 });
    const back = Date.now();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
    await page.locator('.connection-banner').waitFor({ state: 'detached' });
    await page.locator('.message.pending').first().waitFor({ state: 'detached', timeout: 30_000 });
    t.diagnostic(`${sentBefore} of ${PLAIN.length} sent before the reload; the rest ${Date.now() - back} ms after it`);
    await openChannel(page, 'Project X', 'secrets');
    await page.locator('.message.pending').first().waitFor({ state: 'detached', timeout: 30_000 });

    await openChannel(bob.page, 'Project X', 'secrets');
    await expectMessage(bob.page, 'offline secret 2');
    assert.deepEqual((await messageTexts(bob.page)).filter((text) => SECRET.test(text)), ['offline secret 1', 'offline secret 2']);
    await openChannel(bob.page, 'Lobby', 'general');
    await expectMessage(bob.page, PLAIN.at(-1));
    assert.deepEqual((await messageTexts(bob.page)).filter((text) => /offline plain/.test(text)), PLAIN);

    // The server holds each exactly once, in the order written.
    const plain = (await history(bob.page, 'Lobby', 'general')).filter((m) => /offline plain/.test(m.content ?? '')).sort((a, b) => a.id - b.id);
    assert.deepEqual(
      plain.map((m) => m.content),
      PLAIN,
    );
    const secrets = (await history(bob.page, 'Project X', 'secrets')).filter((m) => m.sender_id === aliceId);
    assert.equal(secrets.length, 3, 'the online message and the two written offline, no duplicate');
    assert.ok(secrets.every((m) => m.content === null && typeof m.envelope === 'string'), 'sealed on the server');

    // A reload sends nothing again.
    await page.reload();
    await openChannel(page, 'Lobby', 'general');
    assert.deepEqual(await pendingTexts(page), []);
    assert.deepEqual((await messageTexts(page)).filter((text) => /offline plain/.test(text)), PLAIN);
  });

  await t.test('logging out with an unsent message asks first, then deletes what this browser kept; charlie sees nothing of it', async () => {
    // From the next page load, the page's sends never reach the server (everything else does): the message stays unsent.
    await page.routeWebSocket(/\/socket\.io\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        if (!String(message).includes('"send_message"')) server.send(message);
      });
    });
    await page.reload();
    await openChannel(page, 'Lobby', 'general');
    await send(page, 'never to be sent');
    await page.locator('.message.pending', { hasText: 'never to be sent' }).waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    const dialog = page.getByRole('dialog', { name: 'Discard unsent messages?' });
    await dialog.getByText('1 message has not been sent yet.', { exact: false }).waitFor();
    await expectNoAxeViolations(page);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.message.pending', { hasText: 'never to be sent' }).waitFor();

    await page.getByRole('button', { name: 'Log out' }).click();
    await dialog.getByRole('button', { name: 'Discard and log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    assert.ok(!(await databases(page)).includes(`securechat-offline-${aliceId}`), 'alice’s offline database is gone');
    const stored = await storedText(page);
    assert.ok(!stored.includes('never to be sent') && !stored.includes('offline plain'), 'nothing of alice’s outbox is left');
    assert.equal(await page.evaluate(() => localStorage.getItem('securechat.lastUser')), null, 'the browser no longer opens offline for alice');

    // charlie on the same browser (a new tab, with a live connection), online then offline: only charlie's rooms, no pending message.
    await page.close();
    const next = await alice.context.newPage();
    await logInThroughForm(next, 'charlie', PASSWORDS.charlie);
    await next.getByText('Signed in as charlie', { exact: true }).waitFor();
    await next.locator('.room-name', { hasText: 'Project X' }).waitFor();
    const charlieId = await next.evaluate(async () => (await (await fetch('/api/auth/me')).json()).user.id);
    await roomsKept(next, charlieId);
    await suite.server.pause();
    await next.reload();
    await next.getByText(BANNER).waitFor();
    await next.getByText('Signed in as charlie', { exact: true }).waitFor();
    await openOffline(next, 'Lobby', 'general');
    assert.equal(await next.locator('.message.pending').count(), 0);
    assert.ok(!(await next.locator('body').innerText()).includes('never to be sent'));
    await suite.server.resume();
  });
  await suite.server.resume();
  // Requests made while the server was stopped fail; nothing else may.
  const problems = alice.problems.filter((p) => !/ERR_CONNECTION_REFUSED|Failed to fetch|NetworkError|WebSocket/.test(p));
  assert.deepEqual(problems, []);
});
