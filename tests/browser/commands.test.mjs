// Slash commands in real Chromium against the real server (demo data: in
// Project X alice is the owner, charlie a member; #secrets is encrypted):
// typing `/` lists the commands (keyboard-navigable, checked with axe);
// `/me` is shown as an action; `/topic` changes the channel's topic, and a
// member's `/kick` shows the server's refusal; a registered command
// answers ephemerally (only the caller sees it) through a receiver here,
// which checks the form and its token; in an encrypted channel the
// composer refuses registered commands without sending their text.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { cast, openChannel, send } from './lib/chat.mjs';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { browserSuite } from './lib/suite.mjs';

/** The command's receiver: every form it got. */
const forms = [];
const receiver = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    forms.push(form);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ response_type: 'ephemeral', text: `Sunny in ${form.text}` }));
  });
});
await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const receiverPort = receiver.address().port;
const suite = browserSuite({ env: { WEBHOOK_ALLOW_HOSTS: `127.0.0.1:${receiverPort}` } });

/** `alice`'s API session from Node: `(method, path, body)` → the JSON answer. */
async function apiAs(username, password) {
  const url = suite.server.url;
  const login = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: url },
    body: JSON.stringify({ username, password }),
  });
  assert.equal(login.status, 200, await login.clone().text());
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  return async (method, path, body) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', Origin: url, Cookie: cookie },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json();
    assert.ok(response.ok, `${method} ${path}: ${JSON.stringify(answer)}`);
    return answer;
  };
}

test('typing / lists the commands; /me, /topic, /help and a refused /kick', async (t) => {
  const { open } = cast(suite, t);
  const alice = await open('alice');
  const page = alice.page;
  await openChannel(page, 'Project X', 'general');

  const composer = page.locator('#composer-input');
  await composer.fill('/');
  const list = page.getByRole('listbox', { name: 'Commands' });
  await list.waitFor();
  for (const name of ['/me', '/topic', '/invite', '/kick', '/leave', '/mute', '/remind', '/help']) {
    await list.getByRole('option', { name: new RegExp(`^${name}\\b`) }).waitFor();
  }
  await expectNoAxeViolations(page, '.composer');
  // The keyboard picks: Down to /topic, Enter puts it in the box.
  assert.equal(await composer.getAttribute('aria-activedescendant'), 'command-option-me');
  await composer.press('ArrowDown');
  assert.equal(await composer.getAttribute('aria-activedescendant'), 'command-option-topic');
  await composer.press('Enter');
  assert.equal(await composer.inputValue(), '/topic ');
  await list.waitFor({ state: 'detached' });
  await composer.pressSequentially('Release on Friday');
  await composer.press('Enter');
  await page.getByText('Topic set: Release on Friday').waitFor();
  await page.locator('.channel-topic', { hasText: 'Release on Friday' }).waitFor();

  // /me is sent as a message and shown as an action.
  await send(page, '/me waves');
  await page.locator('.message[data-message-id] .message-action', { hasText: '* alice waves' }).waitFor();

  // A member's /kick: the server refuses, the composer says why.
  const charlie = await open('charlie');
  await openChannel(charlie.page, 'Project X', 'general');
  await charlie.page.locator('.message[data-message-id] .message-action', { hasText: '* alice waves' }).waitFor();
  // (A space after the name: Enter right after `@bob` would pick from the mention list.)
  await send(charlie.page, '/kick @bob ');
  await charlie.page.locator('.notice-bar', { hasText: '/kick failed: This needs the admin role in this room' }).waitFor();

  // /help lists them.
  await send(page, '/help');
  await page.locator('.notice-bar', { hasText: 'Commands:' }).waitFor();
});

test('a registered command answers only the caller; in an encrypted channel it is refused unsent', async (t) => {
  t.after(() => receiver.close());
  const api = await apiAs('alice', 'password123');
  const { rooms } = await api('GET', '/api/rooms');
  const room = rooms.find((r) => r.name === 'Project X');
  const made = await api('POST', `/api/rooms/${room.id}/commands`, {
    trigger: 'weather',
    url: `http://127.0.0.1:${receiverPort}/weather`,
    description: 'Today’s weather',
    usage_hint: '[city]',
  });

  const { open } = cast(suite, t);
  const charlie = await open('charlie');
  const page = charlie.page;
  await openChannel(page, 'Project X', 'general');
  const composer = page.locator('#composer-input');
  await composer.fill('/we');
  const option = page.getByRole('listbox', { name: 'Commands' }).getByRole('option', { name: /\/weather/ });
  await option.getByText('Today’s weather').waitFor();
  await composer.press('Tab');
  await composer.pressSequentially('Paris');
  await composer.press('Enter');
  await page.locator('.notice-bar', { hasText: '/weather (only you see this): Sunny in Paris' }).waitFor();
  assert.equal(forms.length, 1);
  assert.equal(forms[0].token, made.token);
  assert.equal(forms[0].command, '/weather');
  assert.equal(forms[0].user_name, 'charlie');
  assert.equal(forms[0].channel_name, 'general');
  // Nobody else sees it: nothing was posted.
  assert.equal(await page.locator('.message[data-message-id]', { hasText: 'Sunny in Paris' }).count(), 0);

  // In an encrypted channel the composer refuses it and sends nothing
  // (bob's first browser: his keys are made here).
  const bob = await open('bob');
  await openChannel(bob.page, 'Project X', 'secrets');
  await send(bob.page, '/weather Lyon');
  await bob.page.locator('.notice-bar', { hasText: 'cannot run in an encrypted channel' }).waitFor();
  assert.equal(await bob.page.locator('#composer-input').inputValue(), '/weather Lyon');
  assert.equal(forms.length, 1);
});
