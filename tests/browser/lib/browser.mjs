// Headless Debian Chromium driven by playwright-core (no downloaded browser).

import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  // The machine has no network but loopback: keep Chromium from calling home.
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser() {
  // A page served by `serveWebBuild` has no network address of its own, so
  // Chromium would treat its connections to the loopback server as a public
  // page reaching into the local network, and block the WebSocket.
  const otherBuild = process.env.WEB_DIST !== undefined;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: otherBuild ? [...CHROMIUM_ARGS, '--disable-features=LocalNetworkAccessChecks'] : CHROMIUM_ARGS,
  });
  // The UI follows the browser's languages, and the tests read its English
  // texts: every context is en-US unless a test asks for another locale
  // (i18n.test.mjs), whatever the machine's own language settings.
  const newContext = browser.newContext.bind(browser);
  browser.newContext = (options = {}) => newContext({ locale: 'en-US', ...options });
  return browser;
}

/**
 * Collects what would show in the developer console as a fault: uncaught
 * exceptions and console errors, which include Content-Security-Policy
 * violations. Failed HTTP statuses are left out: a 401 from
 * `/api/auth/me` is how a signed-out page learns that it is signed out.
 */
export function collectPageProblems(page) {
  const problems = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (message.text().startsWith('Failed to load resource')) return;
    problems.push(`console: ${message.text()}`);
  });
  return problems;
}

/**
 * Serves another build of the web UI (a `web/dist` folder: `index.html` and
 * `assets/`) to every page of `context`, against the same server: the page
 * and its assets come from `dir`, the API and Socket.IO from the server.
 * Used to measure an earlier release beside this one in the same run, and to
 * show that a test fails on it (`WEB_DIST=<dir>`).
 */
export async function serveWebBuild(context, dir) {
  const { existsSync, readFileSync, statSync } = await import('node:fs');
  const path = await import('node:path');
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml', '.html': 'text/html' };
  await context.route(
    (url) => !url.pathname.startsWith('/api/') && !url.pathname.startsWith('/socket.io/'),
    async (route) => {
      const wanted = new URL(route.request().url()).pathname;
      const file = path.join(dir, path.normalize(wanted));
      const isFile = file.startsWith(dir) && existsSync(file) && statSync(file).isFile();
      const served = isFile ? file : path.join(dir, 'index.html');
      await route.fulfill({ body: readFileSync(served), contentType: types[path.extname(served)] ?? 'application/octet-stream' });
    },
  );
}

/**
 * Waits until `fn`, run in the page (it may be async), returns a truthy
 * value, polling every `interval` ms, and returns that value. Playwright's
 * waitForFunction cannot wait on an async check: it takes the Promise such a
 * function returns as a truthy answer at once.
 */
export async function waitInPage(page, fn, arg, { timeout = 20_000, interval = 200 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate(fn, arg);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waited ${timeout} ms in the page for ${fn.toString().slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
