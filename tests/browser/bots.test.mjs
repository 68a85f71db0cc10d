// Bots in real Chromium against the real server: alice, owner of a plain
// room, makes a bot in the room settings' Bots section and sees its token
// once; the token works (the bot sends a message over Socket.IO, which
// arrives in alice's view labelled as a bot); she revokes it after an
// in-app confirmation, and the token fails at once with 401. charlie, a
// member of the room, has no settings and so no Bots section. In Project X,
// whose encrypted channel gives it a signed membership log, a new bot that
// has not started yet is shown waiting for its identity. axe checks the
// settings screen with the section.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cast, confirmInApp, openChannel } from './lib/chat.mjs';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { waitInPage } from './lib/browser.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

/**
 * Sends `text` to `channelId` as the holder of `token`, over Socket.IO v4
 * on a WebSocket opened from `page` (same origin, as the server requires;
 * the token in the CONNECT packet's auth takes precedence over the page's
 * session cookie). Resolves with the send's acknowledgement.
 */
function sendWithToken(page, token, channelId, text) {
  return page.evaluate(
    ({ token, channelId, text }) =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
        const timer = setTimeout(() => reject(new Error('no answer from the socket')), 15_000);
        const finish = (outcome) => {
          clearTimeout(timer);
          ws.close();
          outcome instanceof Error ? reject(outcome) : resolve(outcome);
        };
        ws.onerror = () => finish(new Error('socket error'));
        ws.onmessage = ({ data }) => {
          if (data === '2') ws.send('3');
          else if (data.startsWith('0{')) ws.send(`40${JSON.stringify({ token })}`);
          else if (data.startsWith('44')) finish(new Error(`connection refused: ${data}`));
          else if (data.startsWith('40')) ws.send(`421${JSON.stringify(['send_message', { channel_id: channelId, content: text, client_msg_id: `bot-${Date.now()}` }])}`);
          else if (data.startsWith('431')) finish(JSON.parse(data.slice(3))[0]);
        };
      }),
    { token, channelId, text },
  );
}

/** `GET /api/auth/me` with the bot token alone (no cookies): its status. */
async function meStatus(token) {
  const answer = await fetch(`${suite.server.url}/api/auth/me`, { headers: { Authorization: `Bearer ${token}` } });
  return answer.status;
}

/** alice's new plain room "Bot Room" with charlie as a member: its general channel's id. */
async function botRoom(page) {
  return page.evaluate(async () => {
    const json = { 'Content-Type': 'application/json' };
    const made = await fetch('/api/rooms', { method: 'POST', headers: json, body: JSON.stringify({ name: 'Bot Room', description: '', is_private: true }) });
    const room = await made.json();
    const added = await fetch(`/api/rooms/${room.room.id}/members`, { method: 'POST', headers: json, body: JSON.stringify({ username: 'charlie' }) });
    if (!added.ok) throw new Error(`adding charlie: ${added.status}`);
    return room.channels.find((c) => c.name === 'general').id;
  });
}

test('a room owner makes a bot, its token works once shown, and revoking fails it at once', async (t) => {
  const { open } = cast(suite, t);
  const alice = await open('alice');
  const page = alice.page;
  const general = await botRoom(page);
  await page.reload();
  await openChannel(page, 'Bot Room', 'general');

  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Room settings' });
  const bots = dialog.getByRole('region', { name: 'Bots' });
  await bots.getByText('This room has no bots.').waitFor();
  // A taken name is refused, and says so.
  await bots.getByLabel('Bot username').fill('bob');
  await bots.getByRole('button', { name: 'Create bot' }).click();
  await bots.getByRole('alert').getByText(/username is taken/).waitFor();

  await bots.getByLabel('Bot username').fill('ci-bot');
  await bots.getByRole('button', { name: 'Create bot' }).click();
  const shown = bots.getByLabel('API token for ci-bot');
  await shown.waitFor();
  const token = await shown.inputValue();
  assert.match(token, /^scb_[A-Za-z0-9_-]{43}$/);
  await bots.getByText("Copy this token now: you won't see it again.", { exact: false }).waitFor();
  const item = bots.getByRole('list', { name: 'Bots of this room' }).getByRole('listitem').filter({ hasText: 'ci-bot' });
  await item.getByText(/Created .* by alice/).waitFor();
  await item.getByText('Active', { exact: true }).waitFor();
  await expectNoAxeViolations(page, 'dialog.dialog[open]');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  // The token works: the bot posts, and alice sees the message marked as a bot's.
  assert.equal(await meStatus(token), 200);
  const ack = await sendWithToken(page, token, general, 'build 12 is green');
  assert.equal(ack.success, true, JSON.stringify(ack));
  const text = page.locator('.message[data-message-id] .message-text', { hasText: 'build 12 is green' });
  await text.waitFor();
  const head = page.locator('.group', { has: text }).locator('.group-head');
  assert.equal(await head.locator('.sender').textContent(), 'ci-bot');
  assert.equal(await head.locator('.tag').textContent(), 'bot');

  // Shown once: the settings opened again do not show it.
  await page.getByRole('button', { name: 'Settings' }).click();
  await item.getByText('Active', { exact: true }).waitFor();
  assert.equal(await bots.getByLabel('API token for ci-bot').count(), 0);

  await item.getByRole('button', { name: 'Revoke ci-bot' }).click();
  await confirmInApp(page, 'Revoke');
  await item.getByText(/^Revoked /).waitFor();
  assert.equal(await item.getByRole('button').count(), 0, 'a revoked bot has no actions');
  assert.equal(await meStatus(token), 401, 'a revoked token fails at once');
  await expectNoAxeViolations(page, 'dialog.dialog[open]');
});

// Bot Room is the first test's.
test('a member who does not manage the room has no Bots section', async (t) => {
  const { open } = cast(suite, t);
  const charlie = await open('charlie');
  await openChannel(charlie.page, 'Bot Room', 'general');
  await charlie.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
  assert.equal(await charlie.page.getByRole('button', { name: 'Settings' }).count(), 0);
  assert.equal(await charlie.page.getByRole('region', { name: 'Bots' }).count(), 0);
  const status = await charlie.page.evaluate(async () => {
    const rooms = await (await fetch('/api/rooms')).json();
    const room = rooms.rooms.find((r) => r.name === 'Bot Room');
    return (await fetch(`/api/rooms/${room.id}/bots`)).status;
  });
  assert.equal(status, 403);
});

test('in a room with a signed membership log a new bot waits for its identity', async (t) => {
  const { open } = cast(suite, t);
  const alice = await open('alice');
  const page = alice.page;
  // alice's browser starts Project X's log (it has an encrypted channel) once her keys are ready.
  await openChannel(page, 'Project X', 'secrets');
  // Her keys of the first test stayed in that browser: this one makes new ones.
  await page.getByRole('button', { name: 'Create new keys instead' }).click();
  await confirmInApp(page, 'Create new keys');
  await page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'secrets' }).waitFor();
  await waitInPage(page, async () => {
    const rooms = await (await fetch('/api/rooms')).json();
    const room = rooms.rooms.find((r) => r.name === 'Project X');
    const log = await (await fetch(`/api/rooms/${room.id}/membership_log`)).json();
    return log.entries.length > 0;
  });

  await page.getByRole('button', { name: 'Settings' }).click();
  const bots = page.getByRole('dialog', { name: 'Room settings' }).getByRole('region', { name: 'Bots' });
  await bots.getByLabel('Bot username').fill('vault-bot');
  await bots.getByRole('button', { name: 'Create bot' }).click();
  await bots.getByLabel('API token for vault-bot').waitFor();
  const item = bots.getByRole('list', { name: 'Bots of this room' }).getByRole('listitem').filter({ hasText: 'vault-bot' });
  await item.getByText('Waiting for vault-bot to start once', { exact: false }).waitFor();
  assert.equal(await item.getByRole('button', { name: 'Add vault-bot to the room' }).count(), 0, 'no identity yet, nothing to add');
  await expectNoAxeViolations(page, 'dialog.dialog[open]');
});
