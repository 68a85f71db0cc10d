// The browser half of the benchmark scenario "Search in the browser"
// (crates/securechat-bench/src/scenarios/browser_search.rs): not a test, a
// measurement, run by `securechat-bench`, which starts the server, seeds
// the encrypted channel through the SDK and reports what this prints.
//
// It talks to the generator in JSON lines: stdout carries
// `{"event":"ready","user_id":…}` once the reader's browser is one of its
// devices (its identity published, its search index open), then
// `{"event":"done",…}` with the figures; stdin brings one line once the
// channel is seeded: `{"total":…, "queries":[{"kind","q","runs","expect_ids"?}]}`.
// Progress goes to stderr.
//
// 1. The reader (BENCH_USER / BENCH_PASSWORD on BENCH_URL) logs in through
//    the form, the backfill is paused (the UI's own pause, kept in
//    localStorage) and the page closed while the generator seeds.
// 2. A new page of the same browser profile opens the app, the search
//    panel shows "paused at 0", and Resume starts the backfill: its wall
//    time runs from that click to the panel saying every message is
//    indexed (timed in the page, each change of the progress text seen by
//    a MutationObserver), with where the time went (the progress element's
//    `data-spent`).
// 3. Each query is typed into the search box, `runs` times, and the local
//    index's own time for it read from the status line (`data-local-ms`);
//    the rare word's results must be exactly the planted messages.
//
// WEB_DIST=<dir> serves another build of the web UI to the page (as the
// browser tests do); CHROMIUM_PATH another Chromium.

import { createInterface } from 'node:readline';
import { launchBrowser, collectPageProblems, serveWebBuild, waitInPage } from './lib/browser.mjs';

const url = process.env.BENCH_URL;
const username = process.env.BENCH_USER;
const password = process.env.BENCH_PASSWORD;
if (!url || !username || !password) throw new Error('BENCH_URL, BENCH_USER and BENCH_PASSWORD are required');
/** Longest the backfill may take before the run fails. */
const BACKFILL_LIMIT_MS = Number(process.env.BENCH_BACKFILL_LIMIT_MS ?? 600_000);
const ACTION_TIMEOUT_MS = 60_000;

const log = (text) => process.stderr.write(`[browser-search] ${text}\n`);
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function nextLine() {
  const { value, done } = await lines.next();
  if (done) throw new Error('the generator closed stdin before sending the seeded channel');
  return JSON.parse(value);
}

async function openApp(context) {
  const page = await context.newPage();
  const problems = collectPageProblems(page);
  return { page, problems };
}

/**
 * Why a browser may not read the channel: the reader's devices as the server
 * lists them, what waits in each one's mailbox, and the keys the page's E2EE
 * core holds (key versions by channel, never the keys themselves).
 */
async function diagnose(page) {
  return page.evaluate(async () => {
    const me = (await (await fetch('/api/auth/me')).json()).user.id;
    const listed = await (await fetch(`/api/users/${me}/devices`)).json();
    const waiting = {};
    for (const d of listed.devices ?? []) {
      const r = await fetch(`/api/users/me/devices/${d.device_id}/shares`);
      waiting[d.device_id] = r.ok ? (await r.json()).shares.length : r.status;
    }
    const db = await new Promise((resolve, reject) => {
      const request = indexedDB.open(`securechat-e2ee-${me}`);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const doc = await new Promise((resolve) => {
      const get = db.transaction('kv').objectStore('kv').get('state');
      get.onsuccess = () => resolve(get.result);
    });
    const state = typeof doc === 'string' ? JSON.parse(doc) : (doc ?? {});
    const keys = Object.fromEntries(Object.entries(state.channel_keys ?? {}).map(([c, v]) => [c, Object.keys(v ?? {}).length]));
    return JSON.stringify({
      devices: (listed.devices ?? []).map((d) => ({ id: d.device_id, prekey: d.prekey !== null })),
      mailbox: waiting,
      state: Object.keys(state),
      keys,
    });
  });
}

async function main() {
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ baseURL: url });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    if (process.env.WEB_DIST !== undefined) await serveWebBuild(context, process.env.WEB_DIST);

    // 1. Log in; this browser becomes one of the reader's devices.
    const first = await openApp(context);
    await first.page.goto('/login');
    await first.page.getByLabel('Username').fill(username);
    await first.page.getByLabel('Password').fill(password);
    await first.page.getByRole('button', { name: 'Log in' }).click();
    await first.page.getByText(`Signed in as ${username}`, { exact: true }).waitFor();
    const userId = (await (await first.page.request.get('/api/auth/me')).json()).user.id;
    await first.page.evaluate((key) => localStorage.setItem(key, '1'), `securechat-search-paused-${userId}`);
    // Ready once the server lists this browser as a device with its prekey
    // (what senders seal keys to) and the index is open.
    await waitInPage(
      first.page,
      async (id) => {
        const listed = await (await fetch(`/api/users/${id}/devices`)).json();
        const indexed = (await indexedDB.databases()).some((d) => d.name === `securechat-search-${id}`);
        return indexed && (listed.devices ?? []).some((d) => d.prekey !== null);
      },
      userId,
      { timeout: ACTION_TIMEOUT_MS },
    );
    await first.page.close();
    if (first.problems.length > 0) throw new Error(`the page logged errors: ${first.problems.join('; ')}`);
    say({ event: 'ready', user_id: userId });

    const seeded = await nextLine();
    log(`${seeded.total} messages seeded; opening the app`);

    // 2. The backfill, from Resume to done.
    const { page, problems } = await openApp(context);
    if (process.env.BENCH_CONSOLE === '1') page.on('console', (m) => log(`console ${m.type()}: ${m.text()}`));
    await page.goto('/');
    await page.getByText(`Signed in as ${username}`, { exact: true }).waitFor();
    await page.evaluate(() => document.activeElement?.blur());
    await page.keyboard.press('/');
    await page.waitForFunction(() => document.activeElement?.id === 'search-input');
    await page.getByRole('button', { name: 'Resume indexing' }).waitFor();
    const backfill = await page.evaluate(async (limit) => {
      const status = () => document.querySelector('.search-index');
      const samples = [];
      const started = performance.now();
      const finished = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the backfill did not finish within ${limit} ms: ${status()?.textContent}`)), limit);
        const look = () => {
          const el = status();
          const text = el?.textContent ?? '';
          const at = performance.now() - started;
          const indexing = /Indexing encrypted messages: ([\d,]+) of ~([\d,]+)/.exec(text);
          if (indexing) samples.push([Math.round(at), Number(indexing[1].replace(/,/g, ''))]);
          const done = /indexed on this device: ([\d,]+)/.exec(text);
          const failed = /stopped/i.test(text) && !indexing;
          if (done) {
            clearTimeout(timer);
            observer.disconnect();
            resolve({ ms: at, indexed: Number(done[1].replace(/,/g, '')), spent: JSON.parse(el.dataset.spent ?? '{}') });
          } else if (failed) {
            clearTimeout(timer);
            observer.disconnect();
            reject(new Error(`the backfill stopped: ${text}`));
          }
        };
        const observer = new MutationObserver(look);
        observer.observe(document.querySelector('.search-panel'), { subtree: true, childList: true, characterData: true, attributes: true });
      });
      const button = [...document.querySelectorAll('.search-index button')].find((b) => b.textContent === 'Resume indexing');
      button.click();
      const result = await finished;
      return { ...result, samples };
    }, BACKFILL_LIMIT_MS);
    log(`backfill: ${backfill.indexed} messages in ${(backfill.ms / 1000).toFixed(1)} s`);

    // 3. Queries from the search box.
    const input = page.locator('#search-input');
    const queries = [];
    for (const query of seeded.queries) {
      const ms = [];
      let ids = [];
      for (let i = 0; i < query.runs; i++) {
        await input.fill('');
        await input.fill(query.q);
        const status = page.locator(`.search-status[data-query="${query.q.replace(/"/g, '\\"')}"]`);
        await status.waitFor();
        const localMs = Number.parseFloat((await status.getAttribute('data-local-ms')) ?? '');
        if (!Number.isFinite(localMs)) throw new Error(`the local index did not answer "${query.q}": ${await page.locator('.search-panel').textContent()}`);
        ms.push(localMs);
        if (i === 0) {
          ids = (await page.locator('.search-hit[data-message-id]').evaluateAll((rows) => rows.map((r) => Number(r.dataset.messageId)))).sort((a, b) => a - b);
        }
      }
      if (query.expect_ids !== undefined) {
        const want = [...query.expect_ids].sort((a, b) => a - b);
        if (JSON.stringify(ids) !== JSON.stringify(want)) {
          const panel = await page.locator('.search-panel').textContent();
          log(`what this browser holds: ${await diagnose(page)}`);
          throw new Error(`"${query.q}" found ${JSON.stringify(ids)}, the planted messages are ${JSON.stringify(want)}; the panel said: ${panel}`);
        }
      }
      log(`${query.kind}: "${query.q}" × ${query.runs}`);
      queries.push({ kind: query.kind, q: query.q, ms, hits: ids.length });
    }
    await page.close();
    if (problems.length > 0) throw new Error(`the page logged errors: ${problems.join('; ')}`);
    say({ event: 'done', backfill, queries, user_agent: await browser.version() });
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    log(err instanceof Error ? (err.stack ?? err.message) : String(err));
    say({ event: 'failed', error: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  },
);
