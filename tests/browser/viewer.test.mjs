// The image viewer (issue 24): a click on an image opens it fitted to the
// screen; it zooms (buttons, + and -, a 100%/fit toggle) and a zoomed image
// pans; ←/→ and the buttons page through the channel's images ("2 of 4",
// disabled at the ends); Download saves the original file under its name;
// the focus stays in the viewer, and Escape gives it back to the thumbnail.
// In an encrypted channel the viewer shows the image decrypted in the page
// and downloads the decrypted file, and nothing decrypted is sent anywhere.
// An image that cannot be shown is one compact row, with Download and Retry.
// Checked with axe in light and dark, at 1280×800 and 390×780.
// Demo data: Lobby (plaintext) and Project X / secrets (encrypted).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { captureOutgoing, cast, openChannel } from './lib/chat.mjs';
import { solidPng } from './lib/png.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 780 };

/** Attaches a file in the open channel and waits for its message. */
async function upload(page, name, buffer, mimeType = 'image/png') {
  await page.getByLabel('Attach files').setInputFiles({ name, mimeType, buffer });
  await page.locator('.message[data-message-id] .file-chip', { hasText: name }).waitFor({ timeout: 20_000 });
}

function thumb(page, name) {
  return page.getByRole('button', { name: `View ${name}`, exact: true });
}

function viewer(page) {
  return page.getByRole('dialog');
}

/** The viewer's image and stage sizes, and whether the stage can be panned. */
function stage(page) {
  return page.locator('.viewer-stage').evaluate((el) => {
    const img = el.querySelector('img');
    return {
      stage: [el.clientWidth, el.clientHeight],
      image: img === null ? null : [Math.round(img.getBoundingClientRect().width), Math.round(img.getBoundingClientRect().height)],
      natural: img === null ? null : [img.naturalWidth, img.naturalHeight],
      src: img?.getAttribute('src') ?? null,
      pans: el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1,
    };
  });
}

async function expectShowing(page, name, count) {
  await viewer(page).getByRole('heading', { name, exact: true }).waitFor();
  await viewer(page).getByText(count, { exact: true }).waitFor();
  await page.locator('.viewer-image').evaluate((img) => img.decode());
}

/** Every Tab and Shift+Tab keeps the focus inside the viewer. */
async function expectFocusTrapped(page) {
  for (const key of [...Array(10).fill('Tab'), ...Array(4).fill('Shift+Tab')]) {
    await page.keyboard.press(key);
    assert.equal(await page.evaluate(() => document.activeElement?.closest('dialog.viewer') !== null), true, `the focus left the viewer after ${key}`);
  }
}

async function download(page, action) {
  const [file] = await Promise.all([page.waitForEvent('download'), action()]);
  const parts = [];
  for await (const part of await file.createReadStream()) parts.push(part);
  return { name: file.suggestedFilename(), bytes: Buffer.concat(parts) };
}

const RED = solidPng(1600, 1200, [200, 30, 30]);
const GREEN = solidPng(300, 200, [30, 160, 60]);
const BLUE = solidPng(200, 400, [30, 60, 200]);
const BROKEN = Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.from('this is not a picture')]);

test('plaintext channel: the viewer pages, zooms, downloads, traps the focus and closes back to the image', async (t) => {
  const { open } = cast(suite, t);
  // charlie here, so that alice and bob meet encryption for the first time in the next test.
  const charlie = await open('charlie');
  const { page } = charlie;
  await page.setViewportSize(DESKTOP);
  await openChannel(page, 'Lobby', 'general');
  await upload(page, 'red.png', RED);
  await upload(page, 'green.png', GREEN);
  await upload(page, 'blue.png', BLUE);
  // A PNG signature (the server takes it for an image) followed by no picture: it cannot be shown.
  await upload(page, 'broken.png', BROKEN);

  await t.test('an image that cannot be shown is one compact row, not an empty box', async () => {
    const row = page.locator('.message[data-message-id] .image-broken', { hasText: 'broken.png' });
    await row.getByText('Image could not be shown').waitFor();
    assert.equal(await page.locator('img.file-thumb[alt="broken.png"]').count(), 0, 'no empty image box');
    const height = await row.evaluate((el) => el.getBoundingClientRect().height);
    assert.ok(height <= 48, `the row is ${height} px high`);
    const saved = await download(page, () => row.getByRole('link', { name: 'Download' }).click());
    assert.equal(saved.name, 'broken.png');
    assert.ok(saved.bytes.equals(BROKEN));
    // Retry asks again; it is still not an image, so the row comes back.
    await row.getByRole('button', { name: 'Retry' }).click();
    await row.getByText('Image could not be shown').waitFor();
    await expectNoAxeViolations(page);
  });

  await t.test('thumbnails keep the image’s aspect ratio once its size is known', async () => {
    const box = await thumb(page, 'blue.png').locator('img').evaluate(async (img) => {
      await img.decode();
      const r = img.getBoundingClientRect();
      return { ratio: r.width / r.height, attrs: [img.getAttribute('width'), img.getAttribute('height')] };
    });
    assert.ok(Math.abs(box.ratio - 0.5) < 0.02, `blue.png (200×400) is shown at ratio ${box.ratio}`);
  });

  await t.test('the viewer opens on the clicked image, with its sender, time and place among the channel’s images', async () => {
    await thumb(page, 'green.png').click();
    await expectShowing(page, 'green.png', '2 of 4');
    const dialog = viewer(page);
    await dialog.locator('.viewer-sender', { hasText: 'charlie' }).waitFor();
    assert.notEqual(await dialog.locator('time').getAttribute('datetime'), null);
    await expectNoAxeViolations(page);
    await expectFocusTrapped(page);
  });

  await t.test('←/→ and the buttons page through the images, disabled at the ends', async () => {
    await page.keyboard.press('ArrowRight');
    await expectShowing(page, 'blue.png', '3 of 4');
    // The last one cannot be shown: the viewer says so, and offers the file.
    await viewer(page).getByRole('button', { name: 'Next image' }).click();
    await viewer(page).getByRole('heading', { name: 'broken.png', exact: true }).waitFor();
    await viewer(page).getByText('4 of 4', { exact: true }).waitFor();
    await viewer(page).getByText('Image could not be shown').waitFor();
    assert.equal(await viewer(page).getByRole('button', { name: 'Next image' }).isDisabled(), true);
    await page.keyboard.press('ArrowRight');
    await viewer(page).getByText('4 of 4', { exact: true }).waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.closest('dialog.viewer') !== null), true, 'the focus stays in the viewer at the end');
    await page.keyboard.press('ArrowLeft');
    await expectShowing(page, 'blue.png', '3 of 4');
    await viewer(page).getByRole('button', { name: 'Previous image' }).click();
    await expectShowing(page, 'green.png', '2 of 4');
    await page.keyboard.press('ArrowLeft');
    await expectShowing(page, 'red.png', '1 of 4');
    assert.equal(await viewer(page).getByRole('button', { name: 'Previous image' }).isDisabled(), true);
    assert.equal(await viewer(page).getByRole('button', { name: 'Next image' }).isDisabled(), false);
  });

  await t.test('a large image is fitted; + zooms and the zoomed image pans; 100% and Fit toggle', async () => {
    const fitted = await stage(page);
    assert.deepEqual(fitted.natural, [1600, 1200]);
    assert.ok(fitted.image[0] <= fitted.stage[0] && fitted.image[1] <= fitted.stage[1], `fitted: ${JSON.stringify(fitted)}`);
    assert.equal(fitted.pans, false);
    const level = viewer(page).getByRole('status', { name: 'Zoom level' });
    const fitLevel = await level.textContent();
    await page.keyboard.press('+');
    await page.waitForFunction((before) => document.querySelector('.viewer-zoom')?.textContent !== before, fitLevel);
    const zoomed = await stage(page);
    assert.ok(zoomed.image[0] > fitted.image[0], `zoomed in: ${JSON.stringify(zoomed)}`);
    assert.equal(zoomed.pans, true, 'the zoomed image can be panned');
    // Dragging pans it.
    const before = await page.locator('.viewer-stage').evaluate((el) => el.scrollLeft);
    const box = await page.locator('.viewer-stage').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - 120, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    assert.ok((await page.locator('.viewer-stage').evaluate((el) => el.scrollLeft)) > before, 'a drag pans the image');
    await page.keyboard.press('-');
    await page.waitForFunction((fit) => document.querySelector('.viewer-zoom')?.textContent === fit, fitLevel);
    await viewer(page).getByRole('button', { name: '100%' }).click();
    await level.filter({ hasText: '100%' }).waitFor();
    assert.deepEqual((await stage(page)).image, [1600, 1200], 'actual size');
    await viewer(page).getByRole('button', { name: 'Fit' }).click();
    assert.deepEqual((await stage(page)).image, fitted.image, 'fitted again');
  });

  await t.test('Download saves the original file under its name', async () => {
    const saved = await download(page, () => viewer(page).getByRole('link', { name: 'Download' }).click());
    assert.equal(saved.name, 'red.png');
    assert.ok(saved.bytes.equals(RED), 'the original bytes');
  });

  await t.test('Escape closes the viewer and the focus goes back to the image that opened it', async () => {
    await page.keyboard.press('Escape');
    await viewer(page).waitFor({ state: 'detached' });
    assert.equal(await thumb(page, 'green.png').evaluate((el) => el === document.activeElement), true, 'the focus is on green.png’s thumbnail');
    // Enter on the focused thumbnail opens it again; Close closes it.
    await page.keyboard.press('Enter');
    await expectShowing(page, 'green.png', '2 of 4');
    await viewer(page).getByRole('button', { name: 'Close' }).click();
    await viewer(page).waitFor({ state: 'detached' });
    assert.equal(await thumb(page, 'green.png').evaluate((el) => el === document.activeElement), true);
  });

  await t.test('dark theme, and a phone', async () => {
    await page.getByLabel('Theme').selectOption('dark');
    await thumb(page, 'red.png').click();
    await expectShowing(page, 'red.png', '1 of 4');
    await expectNoAxeViolations(page);
    await page.keyboard.press('Escape');
    await page.setViewportSize(PHONE);
    await thumb(page, 'blue.png').click();
    await expectShowing(page, 'blue.png', '3 of 4');
    const m = await stage(page);
    const width = await page.evaluate(() => document.querySelector('dialog.viewer').scrollWidth);
    assert.ok(width <= PHONE.width, `the viewer is ${width} px wide`);
    assert.ok(m.image[0] <= PHONE.width && m.image[1] <= m.stage[1], `the image fits the phone: ${JSON.stringify(m)}`);
    for (const name of ['Previous image', 'Next image', 'Zoom in', 'Close']) {
      const b = await viewer(page).getByRole('button', { name, exact: true }).boundingBox();
      assert.ok(b.x >= 0 && b.x + b.width <= PHONE.width, `${name} is on screen`);
    }
    await expectNoAxeViolations(page);
    await page.keyboard.press('Escape');
    await viewer(page).waitFor({ state: 'detached' });
  });
});

test('encrypted channel: the viewer shows and downloads the image decrypted in the page, and nothing decrypted leaves it', async (t) => {
  const { open } = cast(suite, t);
  const bob = await open('bob');
  await bob.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  const alice = await open('alice');
  const { page } = alice;
  await page.setViewportSize(DESKTOP);
  await page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  await openChannel(page, 'Project X', 'secrets');
  await upload(page, 'one.png', GREEN);
  await upload(page, 'two.png', BLUE);
  const sent = await captureOutgoing(page);

  await t.test('the viewer pages through the decrypted images and downloads the decrypted file', async () => {
    await thumb(page, 'two.png').click();
    await expectShowing(page, 'two.png', '2 of 2');
    assert.match((await stage(page)).src, /^blob:/, 'the image decrypted in the page');
    const saved = await download(page, () => viewer(page).getByRole('link', { name: 'Download' }).click());
    assert.equal(saved.name, 'two.png');
    assert.ok(saved.bytes.equals(BLUE), 'the decrypted bytes');
    await page.keyboard.press('ArrowLeft');
    await expectShowing(page, 'one.png', '1 of 2');
    await expectNoAxeViolations(page);
    await page.keyboard.press('Escape');
    await viewer(page).waitFor({ state: 'detached' });
    assert.equal(await thumb(page, 'two.png').evaluate((el) => el === document.activeElement), true);
    const all = sent.all();
    assert.ok(!all.includes(BLUE.subarray(0, 16).toString('latin1')) && !all.includes(BLUE.toString('base64').slice(0, 40)), 'no decrypted bytes were sent');
  });

  await t.test('an image that fails to decrypt is a compact row whose Retry shows it once it decrypts', async () => {
    // The file's ciphertext comes back altered until the route is removed.
    let altered = true;
    await page.route(/\/api\/files\/\d+$/, async (route) => {
      if (!altered || route.request().method() !== 'GET') return route.fallback();
      const response = await route.fetch();
      const body = await response.body();
      body[body.length - 1] ^= 0xff;
      await route.fulfill({ response, body });
    });
    await upload(page, 'three.png', RED);
    const row = page.locator('.message[data-message-id] .image-broken', { hasText: 'three.png' });
    await row.getByText('Image could not be shown').waitFor({ timeout: 20_000 });
    await row.getByText('The file does not decrypt').waitFor();
    await expectNoAxeViolations(page);
    altered = false;
    await row.getByRole('button', { name: 'Retry' }).click();
    await thumb(page, 'three.png').waitFor({ timeout: 20_000 });
  });
});
