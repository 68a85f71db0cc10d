// Message search (issue 25) in the web UI, against the real server:
// - a plaintext channel: a message found from the search box (opened with
//   `/`) with the word marked, filters shown as chips that remove their
//   token, the server's refusal of a bad filter shown in its words, the
//   quick switcher's "Search messages for …" entry, and "Jump to message"
//   bringing up a message 250 newer messages back, highlighted; axe on the
//   panel in light and dark; at phone width the panel covers the screen;
// - the encrypted channel `secrets`: a message bob wrote is found by alice
//   from the search box after her index was rebuilt by the backfill alone
//   (her page never opened the channel), Latin and Chinese words alike; the
//   raw IndexedDB contents of her page (every database, store, key and
//   value) hold neither the secret word nor any of its trigrams; bob's edit
//   and delete reach her index; logging out deletes the index database.
// Demo data: Lobby / random (plaintext) and Project X / secrets (encrypted); alice and bob belong to both.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { waitInPage } from './lib/browser.mjs';
import { cast, confirmInApp, expectMessage, openChannel, send } from './lib/chat.mjs';
import { browserSuite, expectLoginPage } from './lib/suite.mjs';

const suite = browserSuite({ env: { SEND_RATE_LIMIT: 'off' } });

/** Every trigram is spelt with a letter outside base64's alphabet, so no key or ciphertext string can hold one by chance. */
const SECRET = 'päläxüjöq';
const CJK = '加密聊天很安全';

/** The ids of the page's user's channels, by "Room/channel". */
async function channelIds(page) {
  const { rooms } = await (await page.request.get('/api/rooms')).json();
  return Object.fromEntries(rooms.flatMap((r) => r.channels.map((c) => [`${r.name}/${c.name}`, c.id])));
}

/**
 * Sends plaintext messages as the page's user through a Socket.IO
 * connection of its own (the session cookie goes with it), one after the
 * other, each acknowledged: hundreds in a second or two.
 */
async function sendMany(page, channelId, texts) {
  return page.evaluate(
    async ({ channelId, texts }) => {
      const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
      const acks = new Map();
      await new Promise((resolve, reject) => {
        ws.onmessage = (event) => {
          const data = String(event.data);
          if (data.startsWith('0{')) ws.send('40');
          else if (data === '2') ws.send('3');
          else if (data.startsWith('40')) resolve();
          else if (data.startsWith('44')) reject(new Error(data));
          else if (data.startsWith('43')) {
            const m = /^43(\d+)([\s\S]*)$/.exec(data);
            acks.get(Number(m[1]))?.(JSON.parse(m[2])[0]);
          }
        };
        ws.onerror = () => reject(new Error('the socket failed'));
      });
      const ids = [];
      for (const [i, content] of texts.entries()) {
        const answer = await new Promise((resolve) => {
          acks.set(i, resolve);
          ws.send(`42${i}${JSON.stringify(['send_message', { channel_id: channelId, content, client_msg_id: crypto.randomUUID() }])}`);
        });
        if (answer?.success !== true) throw new Error(`send ${i}: ${JSON.stringify(answer)}`);
        ids.push(answer.message.id);
      }
      ws.close();
      return ids;
    },
    { channelId, texts },
  );
}

/** Opens the search panel with `/` from outside any field and types `query`. */
async function search(page, query) {
  if ((await page.locator('#search-input').count()) === 0) {
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('/');
    // `/` opens the panel with the focus in its box.
    await page.waitForFunction(() => document.activeElement?.id === 'search-input');
  }
  await page.locator('#search-input').fill(query);
}

/** Whether the panel says nothing matches. */
function noMatch(page) {
  return () => page.getByText('No messages match.', { exact: false }).count().then((n) => n === 1);
}

/** Searches for `query` again and again (the index takes a change in a moment later) until `done()`, for up to 10 s. */
async function searchUntil(page, query, done) {
  const input = page.locator('#search-input');
  for (const until = Date.now() + 10_000; ; ) {
    await input.fill('');
    await input.fill(query);
    // The status names the query its results are for once both sources answered.
    await page.waitForFunction((q) => document.querySelector('.search-status')?.dataset.query === q, query);
    if (await done()) return;
    if (Date.now() > until) throw new Error(`searching for "${query}" never gave the expected result`);
    await page.waitForTimeout(250);
  }
}

/** Waits for a result of message `id` and returns it. */
async function hit(page, id) {
  const row = page.locator(`.search-hit[data-message-id="${id}"]`);
  await row.waitFor();
  return row;
}

/** Whether the element's box is inside the message list's visible part. */
function inView(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const list = document.querySelector('.messages');
    if (el === null || list === null) return false;
    const a = el.getBoundingClientRect();
    const b = list.getBoundingClientRect();
    return a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  }, selector);
}

/**
 * Every IndexedDB database of the page, every object store, every key and
 * value, read raw: strings as they are, binary (ArrayBuffer, typed arrays)
 * as its bytes, so the test can look for text in either form.
 */
async function rawIndexedDb(page) {
  return page.evaluate(async () => {
    const strings = [];
    const blobs = [];
    const names = [];
    const walk = (v) => {
      if (typeof v === 'string') strings.push(v);
      else if (typeof v === 'number' || typeof v === 'boolean' || v == null) strings.push(String(v));
      else if (v instanceof ArrayBuffer) blobs.push(Array.from(new Uint8Array(v)));
      else if (ArrayBuffer.isView(v)) blobs.push(Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)));
      else if (Array.isArray(v)) v.forEach(walk);
      else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) (strings.push(k), walk(x));
    };
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      for (const store of db.objectStoreNames) {
        names.push(`${name}/${store}`);
        const tx = db.transaction(store, 'readonly');
        const [keys, values] = await Promise.all(
          ['getAllKeys', 'getAll'].map(
            (op) =>
              new Promise((resolve, reject) => {
                const request = tx.objectStore(store)[op]();
                request.onsuccess = () => resolve(request.result);
                request.onerror = () => reject(request.error);
              }),
          ),
        );
        walk(keys);
        walk(values);
      }
      db.close();
    }
    return { names, text: strings.join('\n'), blobs };
  });
}

/** Whether `bytes` contains `needle` (both arrays of numbers). */
function containsBytes(bytes, needle) {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function trigramsOf(word) {
  const chars = [...word];
  return chars.slice(0, -2).map((_, i) => chars.slice(i, i + 3).join(''));
}

test('search: plaintext found and jumped to 250 messages back; encrypted found from a local index that holds no plaintext', async (t) => {
  const { people, open } = cast(suite, t);
  const bob = await open('bob');
  const ids = await channelIds(bob.page);
  // Written before alice's page opens: it loads the newest page only.
  const [target] = await sendMany(bob.page, ids['Lobby/random'], ['The quokka census report is ready for review']);
  await sendMany(bob.page, ids['Lobby/random'], Array.from({ length: 250 }, (_, i) => `filler message ${i + 1}`));
  const alice = await open('alice');
  const page = alice.page;
  t.afterEach(async (t2) => {
    if (process.env.SEARCH_SHOTS) await page.screenshot({ path: `/tmp/search-${t2.name.slice(0, 20).replace(/\W/g, '_')}.png` });
  });

  await t.test('a plaintext message is found with its word marked, and Jump to message brings it up from 250 messages back', async () => {
    await openChannel(page, 'Lobby', 'random');
    await expectMessage(page, 'filler message 250');
    assert.equal(await page.locator(`.message[data-message-id="${target}"]`).count(), 0, 'the target is not loaded before the jump');

    await search(page, 'Quokka');
    const row = await hit(page, target);
    assert.equal(await row.locator('mark').first().textContent(), 'quokka', 'the word is marked');
    assert.match(await row.textContent(), /bob/);
    assert.match(await page.locator('.search-group-title').first().textContent(), /#random · Lobby/);
    await expectNoAxeViolations(page, '.search-panel');
    await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'dark'));
    await expectNoAxeViolations(page, '.search-panel');
    await page.evaluate(() => document.documentElement.removeAttribute('data-theme'));

    // Filters show as chips; removing one takes exactly its token out.
    await page.locator('#search-input').fill('quokka from:bob in:random');
    await page.getByRole('button', { name: 'Remove filter from:bob' }).waitFor();
    await hit(page, target);
    await page.getByRole('button', { name: 'Remove filter in:random' }).click();
    assert.equal(await page.locator('#search-input').inputValue(), 'quokka from:bob');
    await page.locator('#search-input').fill('quokka from:alice');
    await page.getByText('No messages match.', { exact: false }).waitFor();
    // The server's refusal, in its words.
    await page.locator('#search-input').fill('quokka has:image');
    await page.locator('.search-panel [role="alert"], .search-panel .alert').filter({ hasText: 'has:file or has:link' }).first().waitFor();

    // A page at a time: 20, then 20 more through the server's `next`.
    await searchUntil(page, '"filler message"', () => page.locator('.search-hit').count().then((n) => n === 20));
    await page.getByRole('button', { name: 'Load more' }).click();
    await page.waitForFunction(() => document.querySelectorAll('.search-hit').length === 40);

    await page.locator('#search-input').fill('quokka');
    await (await hit(page, target)).getByRole('button', { name: 'Jump to message' }).click();
    const message = `.message[data-message-id="${target}"]`;
    await page.locator(message).waitFor();
    await page.waitForFunction((sel) => document.querySelector(sel)?.classList.contains('highlighted'), message);
    assert.ok(await inView(page, message), 'the message is scrolled into view');
    // The history between it and the newest message is there, in one piece.
    assert.equal(await page.locator('.message[data-message-id] .message-text', { hasText: /^filler message \d+$/ }).count(), 250);
    await page.locator('.search-panel').getByRole('button', { name: 'Close', exact: true }).click();
    await page.locator('.search-panel').waitFor({ state: 'detached' });
  });

  await t.test('Ctrl+K reaches search through its last entry', async () => {
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('Control+k');
    await page.locator('#switcher-input').fill('quokka census');
    const entry = page.getByRole('option', { name: /Search messages for “quokka census”/ });
    await entry.waitFor();
    await page.keyboard.press('ArrowUp');
    assert.equal(await entry.getAttribute('aria-selected'), 'true', 'it is the last entry');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('#search-input').inputValue(), 'quokka census');
    await page.locator('.search-hit').first().waitFor();
    await page.locator('.search-panel').getByRole('button', { name: 'Close', exact: true }).click();
  });

  await t.test('a message in the encrypted channel is found from this device’s index, rebuilt by the backfill', async () => {
    await openChannel(page, 'Project X', 'secrets');
    await send(page, 'hello team');
    await expectMessage(page, 'hello team');
    await openChannel(bob.page, 'Project X', 'secrets');
    await expectMessage(bob.page, 'hello team');
    await send(bob.page, `Codeword ${SECRET} — ${CJK}`);
    await expectMessage(page, SECRET);

    // A fresh index, and a page that never opens the channel: only the backfill can find bob's message.
    await openChannel(page, 'Lobby', 'random');
    const userId = (await (await page.request.get('/api/auth/me')).json()).user.id;
    // Paused before the reload: the pause holds across it, and nothing is indexed until Resume.
    await page.evaluate(
      ({ name, paused }) => {
        void indexedDB.deleteDatabase(name);
        localStorage.setItem(paused, '1');
      },
      { name: `securechat-search-${userId}`, paused: `securechat-search-paused-${userId}` },
    );
    await page.reload();
    await page.locator('#channel-title').waitFor();
    await search(page, SECRET);
    await page.getByText(/Indexing encrypted messages paused at 0 of ~0/).waitFor();
    await page.getByText('No messages match.', { exact: false }).waitFor();

    const started = Date.now();
    await page.getByRole('button', { name: 'Resume indexing' }).click();
    const found = page.locator('.search-hit', { hasText: SECRET });
    await searchUntil(page, SECRET, () => found.count().then((n) => n === 1));
    t.diagnostic(`found by the local index ${Date.now() - started} ms after Resume`);
    assert.equal(await found.locator('mark').first().textContent(), SECRET);
    assert.match(await page.locator('.search-group-title', { hasText: 'secrets' }).textContent(), /#secrets · Project X/);
    // Chinese: a trigram query, and a two-character one (its own token).
    for (const q of ['加密聊天', '聊天']) {
      await page.locator('#search-input').fill(q);
      await page.locator('.search-hit mark', { hasText: q }).first().waitFor();
    }
    // from: is looked up by the sender's own token: bob's message, and nothing of alice's.
    await page.locator('#search-input').fill(`from:bob ${SECRET}`);
    await found.first().waitFor();
    await searchUntil(page, `from:alice ${SECRET}`, noMatch(page));
    await page.getByText(/Encrypted messages indexed on this device: \d+|Indexing encrypted messages/).waitFor();
    await expectNoAxeViolations(page, '.search-panel');

    // Jump to it: the channel opens at the message.
    await page.locator('#search-input').fill(SECRET);
    await found.getByRole('button', { name: 'Jump to message' }).click();
    await page.getByRole('heading', { level: 1, name: 'secrets' }).waitFor();
    await page.locator('.message.highlighted', { hasText: SECRET }).waitFor();
  });

  await t.test('the raw IndexedDB contents hold neither the secret word nor any trigram of it', async () => {
    const raw = await rawIndexedDb(page);
    assert.ok(raw.names.some((n) => n.startsWith('securechat-search-')), `the index database is there: ${raw.names.join(', ')}`);
    const encoder = new TextEncoder();
    // The sender token is blinded like every other.
    assert.ok(!raw.text.includes('from:bob') && !raw.blobs.some((b) => containsBytes(b, Array.from(new TextEncoder().encode('from:bob')))), 'a sender token in the clear');
    for (const word of [SECRET, CJK]) {
      for (const piece of [word, ...trigramsOf(word)]) {
        assert.ok(!raw.text.includes(piece), `"${piece}" appears in IndexedDB text`);
        const bytes = Array.from(encoder.encode(piece));
        assert.ok(!raw.blobs.some((b) => containsBytes(b, bytes)), `"${piece}" appears in IndexedDB binary data`);
      }
    }
  });

  await t.test('an edit and a delete of the encrypted message update the index', async () => {
    const own = bob.page.locator('.message[data-message-id]', { hasText: SECRET });
    await own.hover();
    await own.getByRole('button', { name: 'Edit' }).click();
    await bob.page.getByLabel('Edit message').fill('Codeword withdrawn');
    await bob.page.getByLabel('Edit message').press('Enter');
    await searchUntil(page, 'withdrawn', () => page.locator('.search-hit', { hasText: 'withdrawn' }).count().then((n) => n === 1));
    await searchUntil(page, SECRET, noMatch(page));

    const edited = bob.page.locator('.message[data-message-id]', { hasText: 'Codeword withdrawn' });
    await edited.hover();
    await edited.getByRole('button', { name: 'Delete' }).click();
    await confirmInApp(bob.page, 'Delete message');
    await searchUntil(page, 'withdrawn', noMatch(page));
  });

  await t.test('at phone width the panel covers the screen and a jump closes it to show the message', async () => {
    await page.setViewportSize({ width: 390, height: 780 });
    await search(page, 'quokka');
    const panel = await page.locator('.search-panel').boundingBox();
    assert.ok(panel.width >= 380, `the panel is the screen's width: ${panel.width}`);
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth + 1);
    assert.equal(sideways, false, 'nothing scrolls sideways');
    await expectNoAxeViolations(page, '.search-panel');
    await page.locator('.search-hit').first().getByRole('button', { name: 'Jump to message' }).click();
    await page.locator('.search-panel').waitFor({ state: 'detached' });
    await page.locator('.message.highlighted', { hasText: 'quokka' }).waitFor();
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('logging out deletes the index database', async () => {
    const name = `securechat-search-${(await (await page.request.get('/api/auth/me')).json()).user.id}`;
    assert.ok((await page.evaluate(() => indexedDB.databases())).some((d) => d.name === name));
    await page.getByRole('button', { name: 'Log out' }).click();
    await expectLoginPage(page);
    await waitInPage(page, async (n) => !(await indexedDB.databases()).some((d) => d.name === n), name);
  });

  for (const person of people) assert.deepEqual(person.problems, [], 'no page logged errors');
});
