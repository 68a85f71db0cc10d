// Webhooks in real Chromium against the real server (demo data: in
// Project X alice is the owner): alice makes an incoming webhook for
// #general in the room settings' Integrations, copies its URL (shown once),
// a tool posts to it, and the message arrives live, shown as the
// integration's name with a "bot" badge; she registers an outgoing webhook
// with a keyword, a message with it reaches a receiver here, which checks
// its signature with Node's own HMAC, and the delivery log says so. axe
// checks the Integrations section.

import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { cast, openChannel, send } from './lib/chat.mjs';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { waitInPage } from './lib/browser.mjs';
import { browserSuite } from './lib/suite.mjs';

/** The outgoing webhook's receiver: every delivery, with its headers and raw body. */
const deliveries = [];
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    res.writeHead(204).end();
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverPort = receiver.address().port;
const suite = browserSuite({ env: { WEBHOOK_ALLOW_HOSTS: `127.0.0.1:${receiverPort}` } });

test('an incoming webhook made in the settings posts a message that arrives live as a bot', async (t) => {
  const { open } = cast(suite, t);
  const alice = await open('alice');
  const page = alice.page;
  await openChannel(page, 'Project X', 'general');

  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Room settings' });
  const general = dialog.locator('li', { has: page.getByRole('form', { name: /general/ }) }).first();
  await general.locator('summary', { hasText: 'Integrations' }).click();
  await general.getByLabel('Name shown on its messages').fill('CI');
  await general.getByRole('button', { name: 'Create webhook' }).click();
  const shown = general.getByLabel('Webhook URL');
  await shown.waitFor();
  const url = await shown.inputValue();
  assert.match(url, /\/api\/hooks\/[A-Za-z0-9_-]{43}$/);
  await general.getByText('Copy it now: it is not shown again.').waitFor();
  await general.getByRole('list', { name: 'Incoming webhooks' }).getByText('CI', { exact: true }).waitFor();
  await expectNoAxeViolations(page, '.settings-integrations[open]');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  // A tool posts with the URL alone.
  const posted = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ text: '**Build 7** passed', username: 'Jenkins' }),
  });
  assert.equal(posted.status, 200, await posted.text());

  const text = page.locator('.message[data-message-id] .message-text', { hasText: 'Build 7 passed' });
  await text.waitFor();
  assert.equal(await text.locator('strong').textContent(), 'Build 7', 'markdown is rendered');
  const head = page.locator('.group', { has: text }).locator('.group-head');
  assert.equal(await head.locator('.sender').textContent(), 'Jenkins');
  assert.equal(await head.locator('.tag').textContent(), 'bot');
});

test('an outgoing webhook with a keyword delivers a signed message and logs it', async (t) => {
  t.after(() => receiver.close());
  const { open } = cast(suite, t);
  const alice = await open('alice');
  const page = alice.page;
  await openChannel(page, 'Project X', 'general');

  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Room settings' });
  const general = dialog.locator('li', { has: page.getByRole('form', { name: /general/ }) }).first();
  await general.locator('summary', { hasText: 'Integrations' }).click();
  await general.getByLabel('URL to send messages to').fill(`http://127.0.0.1:${receiverPort}/hook`);
  await general.getByLabel('Keywords (optional, separated by spaces)').fill('deploy');
  await general.getByRole('button', { name: 'Add outgoing webhook' }).click();
  const shown = general.getByLabel('Signing secret');
  await shown.waitFor();
  const secret = await shown.inputValue();
  await general.getByRole('list', { name: 'Outgoing webhooks' }).getByText(`http://127.0.0.1:${receiverPort}/hook`).waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  await send(page, 'nothing to see');
  await send(page, 'time to deploy');
  for (let i = 0; i < 100 && deliveries.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(deliveries.length, 1, 'one delivery, for the keyword');
  const [delivery] = deliveries;
  const timestamp = delivery.headers['x-securechat-timestamp'];
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${delivery.body}`).digest('hex')}`;
  const given = delivery.headers['x-securechat-signature'];
  assert.ok(timingSafeEqual(Buffer.from(given), Buffer.from(expected)), `${given} is not ${expected}`);
  assert.equal(JSON.parse(delivery.body).message.text, 'time to deploy');

  // The receiver answered; the server records the outcome right after.
  await waitInPage(page, async () => {
    const rooms = await (await fetch('/api/rooms')).json();
    const channel = rooms.rooms.find((r) => r.name === 'Project X').channels.find((c) => c.name === 'general');
    const hooks = await (await fetch(`/api/channels/${channel.id}/outgoing_webhooks`)).json();
    const log = await (await fetch(`/api/channels/${channel.id}/outgoing_webhooks/${hooks.webhooks[0].id}/deliveries`)).json();
    return log.deliveries[0]?.status === 'delivered';
  });
  await page.getByRole('button', { name: 'Settings' }).click();
  await general.locator('summary', { hasText: 'Integrations' }).click();
  await general.locator('summary', { hasText: 'Delivery log' }).click();
  await general.getByText(/Delivered · 1 attempt · HTTP 204/).waitFor();
  await expectNoAxeViolations(page, '.settings-integrations[open]');
});
