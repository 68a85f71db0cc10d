// Files and resources in the browser, against the real server: an image
// uploaded with a visible progress bar in an encrypted channel and shown,
// decrypted in the page, to another member; a plaintext upload downloaded by
// the other member; and a shared link that appears live in the other
// member's Resources panel.
// Demo data: Lobby (plaintext) and Project X / secrets (encrypted); alice and bob belong to both.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cast, openChannel } from './lib/chat.mjs';
import { noisePng } from './lib/png.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

async function waitForNewIdentity(page) {
  await page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
}

test('files and resources: encrypted image with progress, plaintext download, live resources', async (t) => {
  const { people, open } = cast(suite, t);

  const bob = await open('bob');
  await waitForNewIdentity(bob.page);
  const alice = await open('alice');
  await waitForNewIdentity(alice.page);

  await t.test('an image uploaded in an encrypted channel shows a progress bar and is decrypted in bob’s page', async () => {
    await openChannel(alice.page, 'Project X', 'secrets');
    await openChannel(bob.page, 'Project X', 'secrets');
    const png = noisePng(700, 700);
    // Throttled to ~1 MB/s so that the upload takes about a second and a half.
    const cdp = await alice.context.newCDPSession(alice.page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 1_000_000 });

    await alice.page.getByLabel('Attach files').setInputFiles({ name: 'noise.png', mimeType: 'image/png', buffer: png });
    const progress = alice.page.getByRole('progressbar', { name: 'Uploading noise.png' });
    await progress.waitFor();
    // A percentage while the bytes go up, not only the indeterminate "Encrypting…".
    await alice.page.locator('.upload-status', { hasText: /^\d+%$/ }).waitFor();
    await progress.waitFor({ state: 'detached', timeout: 30_000 });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

    const image = bob.page.locator('.message[data-message-id] img.file-thumb[alt="noise.png"]');
    await image.waitFor({ timeout: 20_000 });
    const shown = await image.evaluate(async (img) => {
      await img.decode();
      return { src: img.getAttribute('src'), width: img.naturalWidth, height: img.naturalHeight };
    });
    assert.match(shown.src, /^blob:/, 'bob sees the image decrypted in his page');
    assert.deepEqual([shown.width, shown.height], [700, 700]);
    await alice.page.locator('.message[data-message-id] img.file-thumb[alt="noise.png"]').waitFor();

    // What went up and what the server serves is ciphertext: neither the PNG's header nor its pixels.
    const id = await bob.page.locator('.message[data-message-id] .file-chip').first().getAttribute('data-file-id');
    const response = await bob.context.request.get(`/api/files/${id}`);
    assert.equal(response.status(), 200);
    const stored = await response.body();
    assert.ok(stored.length > png.length, 'the stored file is the (longer) ciphertext');
    assert.ok(!stored.includes(png.subarray(0, 16)), 'the PNG header is not stored');
    assert.ok(!stored.includes(png.subarray(100_000, 100_064)), 'nor its pixel data');
  });

  await t.test('a plaintext upload is downloaded by bob with its name and bytes', async () => {
    await openChannel(alice.page, 'Lobby', 'general');
    await openChannel(bob.page, 'Lobby', 'general');
    const text = `meeting notes ${Date.now()}\nline two\n`;
    await alice.page.getByLabel('Attach files').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
    const link = bob.page.locator('.message[data-message-id] a.file-link', { hasText: 'notes.txt' });
    await link.waitFor();
    const [download] = await Promise.all([bob.page.waitForEvent('download'), link.click()]);
    assert.equal(download.suggestedFilename(), 'notes.txt');
    const stream = await download.createReadStream();
    const parts = [];
    for await (const part of stream) parts.push(part);
    assert.equal(Buffer.concat(parts).toString('utf8'), text);

    // It is listed in the channel's Files.
    await bob.page.getByRole('button', { name: 'Files', exact: true }).click();
    await bob.page.locator('.files-panel a.file-link', { hasText: 'notes.txt' }).waitFor();
    await bob.page.locator('.files-panel').getByRole('button', { name: 'Close' }).click();
  });

  await t.test('an upload cancelled before it completes leaves no file and no message', async () => {
    // The upload is held in the browser until Cancel is pressed, then let go:
    // a client that did not really abort it would deliver it then. (What the
    // server does with a body cut off midway is tested in tests/files.rs.)
    let release;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    let sent = false;
    await alice.page.route('**/api/channels/*/files*', async (route) => {
      if (route.request().method() !== 'POST') return route.fallback();
      await held;
      sent = await route.continue().then(
        () => true,
        () => false,
      );
    });
    await alice.page.getByLabel('Attach files').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(2_000_000, 7) });
    const item = alice.page.locator('.upload', { hasText: 'big.bin' });
    await item.locator('.upload-status', { hasText: /^\d+%$/ }).waitFor();
    await item.getByRole('button', { name: 'Cancel' }).click();
    await item.waitFor({ state: 'detached' });
    release();
    await alice.page.unroute('**/api/channels/*/files*');
    const names = await alice.page.evaluate(async () => {
      const rooms = await (await fetch('/api/rooms')).json();
      const channel = rooms.rooms.flatMap((r) => r.channels).find((c) => c.name === 'general');
      const answer = await (await fetch(`/api/channels/${channel.id}/files`)).json();
      return answer.files.map((f) => f.name);
    });
    assert.ok(names.includes('notes.txt') && !names.includes('big.bin'), `files after cancelling: ${names.join(', ')} (request sent after cancel: ${sent})`);
    assert.equal(await bob.page.locator('.file-link', { hasText: 'big.bin' }).count(), 0);
  });

  await t.test('a resource added by alice appears live in bob’s Resources panel', async () => {
    await bob.page.getByRole('button', { name: 'Resources', exact: true }).click();
    await alice.page.getByRole('button', { name: 'Resources', exact: true }).click();
    await bob.page.locator('.resources-panel').getByText('No resources yet.').waitFor();

    await alice.page.getByRole('button', { name: 'Add link' }).click();
    const form = alice.page.locator('.resource-form');
    await form.getByLabel('Title').fill('Style guide');
    await form.getByLabel('Link').fill('https://example.org/style');
    await form.getByLabel('Description').fill('How we write');
    await form.getByRole('button', { name: 'Save' }).click();

    const link = bob.page.locator('.resources-panel a', { hasText: 'Style guide' });
    await link.waitFor();
    assert.equal(await link.getAttribute('href'), 'https://example.org/style');
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    await bob.page.locator('.resources-panel').getByText('Added by alice').waitFor();

    // A javascript: link is refused in the form, before reaching the server.
    await alice.page.getByRole('button', { name: 'Add link' }).click();
    await form.getByLabel('Title').fill('Bad');
    await form.getByLabel('Link').fill('javascript:alert(1)');
    await form.getByRole('button', { name: 'Save' }).click();
    await alice.page.locator('.resource-form').getByText('Only http:// and https:// links can be shared.').waitFor();
    await form.getByRole('button', { name: 'Cancel' }).click();

    // Pinned by its author, and the pin shows for bob too.
    const aliceItem = alice.page.locator('.resources-panel .resource', { hasText: 'Style guide' });
    await aliceItem.getByRole('button', { name: 'Pin' }).click();
    await bob.page.locator('.resources-panel .resource', { hasText: 'Style guide' }).locator('.pin').waitFor();
  });
});
