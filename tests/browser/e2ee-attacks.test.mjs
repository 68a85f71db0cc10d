// A server that lies to the browser, in real Chromium: a key share from an
// account the server made (not in the signed membership log), a channel the
// server suddenly lists as plaintext, and a membership log the server
// serves empty to the owner who saw it. Each time the page's E2EE core must
// refuse, warn, and send nothing it should not: every WebSocket frame and
// request body is captured through CDP and searched for plaintext.
// Project X / secrets (demo data): alice owner, bob admin, charlie member.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadCrypto } from '../compat/lib/crypto.mjs';
import { captureOutgoing, cast, expectMessage, lyingSocket, openChannel, send } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();
const DAY_MS = 24 * 3600 * 1000;

/** A signed-in API session from Node for a new account (no page of theirs runs). */
async function newAccount(url, username) {
  const headers = { 'Content-Type': 'application/json', Origin: url };
  const credentials = JSON.stringify({ username, password: 'password-for-tests-1' });
  const made = await fetch(`${url}/api/auth/register`, { method: 'POST', headers, body: credentials });
  assert.ok(made.ok, await made.text());
  const login = await fetch(`${url}/api/auth/login`, { method: 'POST', headers, body: credentials });
  assert.ok(login.ok, await login.clone().text());
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const me = await (await fetch(`${url}/api/auth/me`, { headers: { ...headers, Cookie: cookie } })).json();
  return {
    id: me.user.id,
    call: async (method, path, body) => {
      const response = await fetch(`${url}${path}`, { method, headers: { ...headers, Cookie: cookie }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: response.status, body: await response.json() };
    },
  };
}

/** The channel `secrets` and the ids of the people, as this page's user sees them. */
function facts(page) {
  return page.evaluate(async () => {
    const rooms = await (await fetch('/api/rooms')).json();
    const channel = rooms.rooms.flatMap((r) => r.channels).find((c) => c.name === 'secrets');
    const members = await (await fetch(`/api/rooms/${channel.room_id}/members`)).json();
    return { channel, users: Object.fromEntries(members.members.map((m) => [m.username, m.user_id])) };
  });
}

test('a lying server: a key nobody asked for, a downgrade to plaintext, a reset membership log', async (t) => {
  const { people, open } = cast(suite, t);
  const alice = await open('alice');
  await alice.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  const bob = await open('bob');
  await bob.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  await openChannel(alice.page, 'Project X', 'secrets');
  await openChannel(bob.page, 'Project X', 'secrets');
  await send(alice.page, 'established under the first key');
  await expectMessage(bob.page, 'established under the first key');

  await t.test('attack 1: a share from an account outside the signed log is refused, and bob keeps sending under his key', async () => {
    const sc = await loadCrypto();
    const { channel, users } = await facts(bob.page);
    // The server makes an account and "adds" it without a signed entry; it hands bob a key of its own.
    const eve = await newAccount(suite.server.url, 'eve');
    const eveIdentity = sc.Identity.generate(eve.id);
    assert.equal((await eve.call('PUT', '/api/users/me/public_key', { public_key: eveIdentity.bundle() })).status, 200);
    const bobBundle = (await eve.call('GET', `/api/users/${users.bob}/public_key`)).body.public_key;
    const next = channel.key_version + 1;
    const forged = sc.sealShare(eveIdentity, bobBundle, users.bob, channel.id, next, 'rotation', undefined, sc.generateChannelKey());

    const toPage = await lyingSocket(bob.page);
    await bob.page.reload();
    await openChannel(bob.page, 'Project X', 'secrets');
    await expectMessage(bob.page, 'established under the first key');
    const sent = await captureOutgoing(bob.page);
    toPage('channel_key_share', { channel_id: channel.id, encrypted_key: forged, key_version: next, is_key_rotation: true, sender_id: eve.id });
    await bob.page.getByText(/A key share was refused: .*not a member/).waitFor();
    await send(bob.page, 'still under the real key');
    await expectMessage(alice.page, 'still under the real key');
    const frame = sent.frames.find((f) => f.includes('"send_message"'));
    assert.ok(frame !== undefined, 'bob sent');
    assert.match(frame, new RegExp(`"key_version":${channel.key_version}[,}]`), 'under the version the log justifies, not the forged one');
    assert.equal(await alice.page.locator('.message-warning').count(), 0);
  });

  await t.test('attack 3: the server lists secrets as plaintext; bob’s page keeps it encrypted and no plaintext leaves', async () => {
    const { channel } = await facts(bob.page);
    const asPlaintext = (body) => {
      const rewrite = (c) => (c.id === channel.id ? { ...c, is_encrypted: false } : c);
      if (Array.isArray(body.rooms)) return { ...body, rooms: body.rooms.map((r) => ({ ...r, channels: r.channels.map(rewrite) })) };
      if (Array.isArray(body.channels)) return { ...body, channels: body.channels.map(rewrite) };
      return body;
    };
    await bob.page.route(
      (url) => url.pathname === '/api/rooms' || url.pathname.startsWith('/api/rooms/'),
      async (route) => {
        const response = await route.fetch();
        const text = await response.text();
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          return route.fulfill({ response, body: text });
        }
        return route.fulfill({ response, json: asPlaintext(body) });
      },
    );
    const toPage = await lyingSocket(bob.page);
    const sent = await captureOutgoing(bob.page);
    await bob.page.reload();
    await openChannel(bob.page, 'Project X', 'secrets');
    await bob.page.getByText('The server now says this channel is not encrypted.').waitFor();
    await bob.page.getByRole('img', { name: 'Encrypted channel' }).waitFor();

    const SECRET = 'the safe code is 5150';
    await send(bob.page, SECRET);
    await expectMessage(alice.page, SECRET);
    const everything = sent.all();
    assert.ok(!everything.includes('5150'), 'no plaintext left the page');
    assert.match(sent.frames.find((f) => f.includes('"send_message"')) ?? '', /"envelope":"/, 'sealed as before');

    // Plaintext the server pushes into the channel shows as injected, never as a message.
    const real = await bob.page.evaluate(async (id) => (await (await fetch(`/api/channels/${id}/messages`)).json()).messages[0], channel.id);
    toPage('new_message', { ...real, id: real.id + 500, client_msg_id: 'lie-downgrade', content: 'INJECTED in the clear', envelope: null, key_version: null });
    await bob.page.locator('.message-warning', { hasText: 'Sent without encryption in an encrypted channel' }).waitFor();
    assert.equal(await bob.page.locator('.message-text', { hasText: 'INJECTED in the clear' }).count(), 0);
    // And nothing of the channel's plaintext is kept in localStorage either.
    const stored = await bob.page.evaluate(() => JSON.stringify({ ...localStorage }));
    assert.ok(!stored.includes('5150'));
    await bob.page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  await t.test('attack 4: the server serves an empty log to the owner who saw it; her page starts no new log and shares no key', async () => {
    const { channel } = await facts(alice.page);
    await alice.page.route(`**/api/rooms/${channel.room_id}/membership_log`, async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      return route.fulfill({ json: { success: true, room_id: channel.room_id, entries: [], head: null } });
    });
    const sent = await captureOutgoing(alice.page);
    await alice.page.reload();
    await openChannel(alice.page, 'Project X', 'secrets');
    // A week later her key is used up: a new one would have to be shared by the log she cannot see.
    await alice.page.clock.setSystemTime(Date.now() + 8 * DAY_MS);
    await send(alice.page, 'after the reset 777');
    const failed = alice.page.locator('.message.pending.failed', { hasText: 'after the reset 777' });
    await failed.getByText(/shows no membership log .* nothing is shared there/).waitFor();
    await failed.getByRole('button', { name: 'Retry' }).waitFor();
    const posted = sent.requests.filter((r) => r.method === 'POST').map((r) => r.path);
    assert.ok(!posted.some((p) => p.endsWith('/membership_log')), `no new log was started: ${posted.join(', ')}`);
    assert.ok(!posted.includes('/api/channels/share_key'), 'no key was shared');
    assert.ok(!sent.all().includes('after the reset 777'), 'no plaintext left the page');
  });

  for (const person of people) assert.deepEqual(person.problems, [], 'no page logged errors');
});
