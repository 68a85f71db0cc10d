// The installable app: the manifest and its icons, the service worker that
// keeps the app shell, the app opening (offline with the chat this browser
// kept, or saying why it cannot sign in) while the server is stopped, then
// coming back; and the app's badge following the unread count. The offline
// screens are checked with axe-core.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { waitInPage } from './lib/browser.mjs';
import { openChannel, send, signIn } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(bytes) {
  assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return `${view.getUint32(16)}x${view.getUint32(20)}`;
}

test('the manifest names the app, how it opens and icons that exist at their stated sizes', async () => {
  const url = suite.server.url;
  const page = await fetch(`${url}/`);
  assert.match(await page.text(), /<link rel="manifest" href="\/manifest.webmanifest">/);
  const response = await fetch(`${url}/manifest.webmanifest`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/manifest\+json/);
  const manifest = await response.json();
  assert.equal(manifest.name, 'Securechat');
  assert.equal(manifest.start_url, '/');
  assert.equal(manifest.display, 'standalone');
  const sizes = new Set();
  for (const icon of manifest.icons) {
    const file = await fetch(new URL(icon.src, url));
    assert.equal(file.status, 200, icon.src);
    if (icon.type !== 'image/png') continue;
    const size = pngSize(new Uint8Array(await file.arrayBuffer()));
    assert.equal(size, icon.sizes, `${icon.src} is ${icon.sizes}`);
    sizes.add(`${size}${icon.purpose === 'maskable' ? ' maskable' : ''}`);
  }
  for (const wanted of ['192x192', '512x512', '512x512 maskable']) assert.ok(sizes.has(wanted), `an icon of ${wanted}`);
});

test('with the server stopped the app still opens, says so, and signs in again once it is back; the badge counts unread messages', async () => {
  const alice = await signIn(suite, 'alice', {
    // The Badging API, recorded (headless Chromium has no app to badge).
    prepare: (context) =>
      context.addInitScript(() => {
        window.badges = [];
        navigator.setAppBadge = (count) => {
          window.badges.push(count ?? 0);
          return Promise.resolve();
        };
        navigator.clearAppBadge = () => {
          window.badges.push(0);
          return Promise.resolve();
        };
      }),
  });
  const bob = await signIn(suite, 'bob');
  try {
    const page = alice.page;
    // The worker is installed and controls the page after a reload.
    await waitInPage(page, async () => (await navigator.serviceWorker.getRegistration())?.active?.state === 'activated');
    await page.reload();
    await page.getByText('Signed in as alice', { exact: true }).waitFor();
    assert.equal(await page.evaluate(() => navigator.serviceWorker.controller !== null), true, 'the page is controlled');

    // A message in a channel alice is not looking at: the badge shows it, and clears once read.
    await openChannel(page, 'Project X', 'general');
    const before = await page.evaluate(() => window.badges.at(-1) ?? 0);
    await openChannel(bob.page, 'Lobby', 'general');
    await send(bob.page, 'badge me');
    await page.getByRole('link', { name: /general.*1 unread/ }).waitFor();
    await waitInPage(page, (n) => window.badges.at(-1) === n, before + 1);
    await openChannel(page, 'Lobby', 'general');
    await waitInPage(page, (n) => (window.badges.at(-1) ?? 0) === n, before);

    // The server stops: a reload still opens the app, with alice's chat as this browser kept it (offline.test.mjs).
    await suite.server.pause();
    await page.reload();
    await page.getByText('Offline — messages will be sent when the server is back.').waitFor();
    await page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
    await expectNoAxeViolations(page);

    // A browser that keeps nobody's chat says it cannot reach the server.
    await page.evaluate(() => localStorage.removeItem('securechat.lastUser'));
    await page.reload();
    await page.getByRole('heading', { name: 'Securechat is unavailable' }).waitFor();
    await page.getByText('Check your connection').waitFor();
    await expectNoAxeViolations(page);

    // Back: "Try again" (or the page's own retry) signs her in where she was.
    await suite.server.resume();
    // The page's own retry may win the race and take the button away: then the click has nothing to do.
    const signedIn = page.getByText('Signed in as alice', { exact: true });
    await Promise.race([page.getByRole('button', { name: 'Try again' }).click().catch(() => undefined), signedIn.waitFor()]);
    await signedIn.waitFor();
    await page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
  } finally {
    await suite.server.resume().catch(() => undefined);
    await bob.close();
    // Requests made while the server was stopped fail; nothing else may.
    const problems = (await alice.close()).filter((p) => !/ERR_CONNECTION_REFUSED|Failed to fetch|NetworkError/.test(p));
    assert.deepEqual(problems, []);
  }
});
