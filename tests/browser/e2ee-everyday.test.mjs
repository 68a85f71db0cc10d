// End-to-end encryption as a team uses it for a week, in real Chromium
// against the real server: an admin speaks first while the owner is online,
// one person sends 250 messages (two key versions used up on the way), the
// page clock moves 8 and then 16 days ahead with a channel and a DM still
// working, and one person writes from two browsers in turn. Every message
// must arrive readable, with no warning, and without anybody clicking
// anything to unblock it. Also measures the time from page load to the
// first decrypted message.
// Project X / secrets (demo data): alice owner, bob admin, charlie member.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serveWebBuild } from './lib/browser.mjs';
import { cast, openChannel, restoreKeys, send } from './lib/chat.mjs';
import { browserSuite, logInThroughForm } from './lib/suite.mjs';

const suite = browserSuite();

const DAY_MS = 24 * 3600 * 1000;
const PASSPHRASE = 'correct horse battery staple';

/** Texts of the committed messages of the open channel that match `pattern`, and the warnings shown. */
async function shown(page, pattern) {
  const texts = await page.locator('.message[data-message-id] .message-text').allTextContents();
  return {
    matching: texts.filter((t) => pattern.test(t)),
    warnings: await page.locator('.message-warning').allTextContents(),
    undecryptable: await page.locator('.undecryptable').count(),
  };
}

/** The channel `secrets` as the server lists it to this page's user. */
function secrets(page) {
  return page.evaluate(async () => {
    const rooms = await (await fetch('/api/rooms')).json();
    return rooms.rooms.flatMap((r) => r.channels).find((c) => c.name === 'secrets');
  });
}

/** Waits until a message with exactly this text is shown, checked and not a warning. */
async function expectReadable(page, text) {
  const row = page.locator('.message[data-message-id]', { has: page.locator('.message-text', { hasText: new RegExp(`^${text}$`) }) });
  await row.first().waitFor();
  assert.equal(await row.locator('.message-warning').count(), 0, `${text} shows no warning`);
}

test('a week of encrypted use: admin first, 250 messages, 8 and 16 days later, two browsers of one person', async (t) => {
  const { people, open } = cast(suite, t);

  // Both make a key backup from the reminder their new keys bring, so other browsers can restore.
  const backedUp = async (name) => {
    const person = await open(name);
    await person.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
    await person.page.getByRole('button', { name: 'Use a passphrase instead' }).click();
    await person.page.getByLabel('Recovery passphrase', { exact: true }).fill(PASSPHRASE);
    await person.page.getByLabel('Confirm recovery passphrase').fill(PASSPHRASE);
    await person.page.getByRole('button', { name: 'Save backup' }).click();
    await person.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor({ state: 'detached' });
    return person;
  };
  const alice = await backedUp('alice');
  const bob = await backedUp('bob');

  await t.test('bob (admin) writes first while alice (owner) is online: alice reads it within 10 s, nobody clicks anything', async () => {
    await openChannel(alice.page, 'Project X', 'secrets');
    await openChannel(bob.page, 'Project X', 'secrets');
    const started = Date.now();
    await send(bob.page, 'bob speaks first');
    await alice.page.locator('.message[data-message-id] .message-text', { hasText: 'bob speaks first' }).waitFor({ timeout: 10_000 });
    t.diagnostic(`bob's first message readable by alice after ${Date.now() - started} ms`);
    await expectReadable(alice.page, 'bob speaks first');
    await expectReadable(bob.page, 'bob speaks first');
    assert.equal(await bob.page.locator('.message.pending').count(), 0, 'nothing is left waiting');
  });

  await t.test('bob sends 250 messages: all delivered and readable by alice, the key renewed on the way', async () => {
    const before = await secrets(bob.page);
    const composer = bob.page.locator('#composer-input');
    for (let i = 1; i <= 250; i += 1) {
      await composer.fill(`bob-${i}`);
      await composer.press('Enter');
    }
    await alice.page.locator('.message[data-message-id] .message-text', { hasText: /^bob-250$/ }).waitFor({ timeout: 60_000 });
    await bob.page.locator('.message.pending').first().waitFor({ state: 'detached', timeout: 30_000 });
    for (const person of [alice, bob]) {
      const view = await shown(person.page, /^bob-\d+$/);
      assert.equal(new Set(view.matching).size, 250, `all 250 are shown once (${view.matching.length} rows)`);
      assert.equal(view.matching.length, 250);
      assert.deepEqual(view.warnings, [], 'no warnings');
      assert.equal(view.undecryptable, 0, 'nothing left undecryptable');
    }
    const after = await secrets(bob.page);
    assert.ok(after.key_version >= before.key_version + 2, `100 messages per key version: ${before.key_version} → ${after.key_version}`);
  });

  await t.test('alice in two browsers writes alternately; nobody sees a warning', async () => {
    const second = await open('alice');
    await restoreKeys(second.page, PASSPHRASE);

    await openChannel(alice.page, 'Project X', 'secrets');
    await openChannel(second.page, 'Project X', 'secrets');
    for (let i = 1; i <= 4; i += 1) {
      await send(alice.page, `first browser ${i}`);
      await expectReadable(second.page, `first browser ${i}`);
      await send(second.page, `second browser ${i}`);
      await expectReadable(alice.page, `second browser ${i}`);
    }
    for (const page of [alice.page, second.page, bob.page]) {
      await expectReadable(page, 'second browser 4');
      const view = await shown(page, /^(first|second) browser \d$/);
      assert.equal(view.matching.length, 8, `all eight shown: ${view.matching.join(', ')}`);
      assert.deepEqual(view.warnings, [], 'no replay warnings');
    }
    // After a reload, the history is read again without warnings.
    await bob.page.reload();
    await openChannel(bob.page, 'Project X', 'secrets');
    await expectReadable(bob.page, 'second browser 4');
    assert.deepEqual((await shown(bob.page, /browser/)).warnings, []);
    assert.deepEqual(await second.close(), []);
    people.splice(people.indexOf(second), 1);
  });

  await t.test('8 and then 16 days later, the channel and a DM still work', async () => {
    // A DM between alice and bob, used on day 0.
    await alice.page.getByRole('button', { name: 'New direct message' }).click();
    await alice.page.getByLabel('Find a person').fill('bob');
    await alice.page.getByRole('button', { name: 'Message bob' }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'bob' }).waitFor();
    await send(alice.page, 'dm day 0');
    const bobDm = bob.page.getByRole('navigation', { name: 'Rooms and direct messages' }).getByRole('link', { name: /alice/ });
    await bobDm.click();
    await expectReadable(bob.page, 'dm day 0');
    const dmPath = new URL(alice.page.url()).pathname;

    const versions = async () => {
      const all = await bob.page.evaluate(async () => (await (await fetch('/api/rooms')).json()).rooms);
      const dm = all.find((r) => r.kind === 'dm' && r.dm_peer?.username === 'alice');
      return { channel: all.flatMap((r) => r.channels).find((c) => c.name === 'secrets').key_version, dm: dm.channels[0].key_version };
    };
    let last = await versions();
    for (const days of [8, 16]) {
      const when = Date.now() + days * DAY_MS;
      for (const person of [alice, bob]) await person.page.clock.setSystemTime(when);
      // The DM.
      await alice.page.goto(dmPath);
      await alice.page.getByRole('heading', { level: 1, name: 'bob' }).waitFor();
      await send(alice.page, `dm day ${days}`);
      await bobDm.click();
      await expectReadable(bob.page, `dm day ${days}`);
      await send(bob.page, `dm reply day ${days}`);
      await expectReadable(alice.page, `dm reply day ${days}`);
      // The channel.
      await openChannel(alice.page, 'Project X', 'secrets');
      await openChannel(bob.page, 'Project X', 'secrets');
      await send(alice.page, `channel day ${days}`);
      await expectReadable(bob.page, `channel day ${days}`);
      await send(bob.page, `channel reply day ${days}`);
      await expectReadable(alice.page, `channel reply day ${days}`);
      for (const person of [alice, bob]) {
        assert.equal(await person.page.locator('.message.pending').count(), 0, `nothing waits on day ${days}`);
        assert.deepEqual((await shown(person.page, /day/)).warnings, []);
      }
      // Each week-old key was replaced by its sender's client, in the channel and in the DM.
      const now = await versions();
      assert.ok(now.channel > last.channel && now.dm > last.dm, `day ${days}: ${JSON.stringify(last)} → ${JSON.stringify(now)}`);
      last = now;
    }
  });

  for (const person of people) assert.deepEqual(person.problems, [], 'no page logged errors');
});

/** A signed-in API session for `username`, from Node (no page, so no client of theirs runs). */
async function apiSession(url, username, password) {
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

test('a message that waits for the owner survives a reload sealed, then goes by itself once the owner is online', async (t) => {
  const url = suite.server.url;
  // alice (offline: no page of hers runs) makes a room with an encrypted channel and bob as admin.
  const asAlice = await apiSession(url, 'alice', 'password123');
  const { room } = await asAlice('POST', '/api/rooms', { name: 'Night shift', description: '', is_private: true });
  const bobId = (await asAlice('GET', '/api/users?q=bob')).users.find((u) => u.username === 'bob').id;
  await asAlice('POST', `/api/rooms/${room.id}/members`, { user_id: bobId });
  await asAlice('PUT', `/api/rooms/${room.id}/members/${bobId}/role`, { role: 'admin' });
  await asAlice('POST', `/api/rooms/${room.id}/channels`, { name: 'vault', is_encrypted: true });

  const { open } = cast(suite, t);
  const bob = await open('bob');
  await restoreKeys(bob.page, PASSPHRASE);
  await openChannel(bob.page, 'Night shift', 'vault');
  // Words that no key, hash, id or time stored beside it can contain by chance.
  const SECRET = 'the vault code is quokka-marigold-8812';
  await send(bob.page, SECRET);
  const waiting = bob.page.locator('.message.pending', { hasText: SECRET });
  await waiting.getByText('Waiting for the owner of Night shift').waitFor();

  // A reload: the message is still there, and nothing stored holds its plaintext.
  await bob.page.reload();
  await openChannel(bob.page, 'Night shift', 'vault');
  await waiting.getByText('Waiting for the owner of Night shift').waitFor();
  const stored = await bob.page.evaluate(async () => {
    const local = JSON.stringify({ ...localStorage });
    const names = (await indexedDB.databases()).map((d) => d.name);
    const dumps = [];
    for (const name of names) {
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      for (const store of db.objectStoreNames) {
        const all = await new Promise((resolve) => {
          const request = db.transaction(store).objectStore(store).getAll();
          request.onsuccess = () => resolve(request.result);
        });
        dumps.push(JSON.stringify(all));
      }
      db.close();
    }
    return `${local}\n${dumps.join('\n')}`;
  });
  assert.ok(stored.length > 0);
  assert.ok(!stored.includes('quokka') && !stored.includes('marigold'), 'the waiting message is stored sealed only');

  // alice comes online: her page starts the room's log, and bob's message goes by itself.
  const alice = await open('alice');
  await restoreKeys(alice.page, PASSPHRASE);
  await openChannel(alice.page, 'Night shift', 'vault');
  await expectReadable(alice.page, SECRET);
  await waiting.waitFor({ state: 'detached' });
  await expectReadable(bob.page, SECRET);
  assert.deepEqual(bob.problems, []);
  assert.deepEqual(alice.problems, []);
});

test('time from page load to the first decrypted message', async (t) => {
  // Two new people and a DM of theirs, made through the UI of the build under test
  // (run the file with WEB_DIST=<an earlier web/dist> to measure that build the same way).
  const url = suite.server.url;
  const password = 'password-for-timing-1';
  for (const username of ['tim', 'tam']) {
    const made = await fetch(`${url}/api/auth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: url },
      body: JSON.stringify({ username, password }),
    });
    assert.ok(made.ok, await made.text());
  }
  const contexts = [];
  t.after(async () => {
    for (const context of contexts) await context.close();
  });
  const person = async (username) => {
    const context = await suite.browser.newContext({ baseURL: url });
    contexts.push(context);
    context.setDefaultTimeout(15_000);
    if (process.env.WEB_DIST !== undefined) await serveWebBuild(context, process.env.WEB_DIST);
    const page = await context.newPage();
    await logInThroughForm(page, username, password);
    await page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
    return page;
  };
  const tam = await person('tam');
  const tim = await person('tim');
  await tim.getByRole('button', { name: 'New direct message' }).click();
  await tim.getByLabel('Find a person').fill('tam');
  await tim.getByRole('button', { name: 'Message tam' }).click();
  await tim.getByRole('heading', { level: 1, name: 'tam' }).waitFor();
  for (let i = 1; i <= 5; i += 1) await send(tim, `timed ${i}`);
  await expectReadable(tim, 'timed 5');
  const dm = new URL(tim.url()).pathname;
  const samples = [];
  for (let i = 0; i < 5; i += 1) {
    const started = Date.now();
    await tam.goto(dm);
    await tam.locator('.message[data-message-id] .message-text', { hasText: /^timed \d$/ }).first().waitFor();
    samples.push(Date.now() - started);
  }
  samples.sort((a, b) => a - b);
  t.diagnostic(`${process.env.WEB_DIST === undefined ? 'this build' : `build in ${process.env.WEB_DIST}`}: load → first decrypted message ${samples.join(' / ')} ms (median ${samples[2]} ms)`);
});
