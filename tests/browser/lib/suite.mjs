// Shared set-up of a browser test file: one server and one browser for the
// file, a fresh browser context and page for each test.

import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach } from 'node:test';
import { collectPageProblems, launchBrowser } from './browser.mjs';
import { startServer } from './server.mjs';

/**
 * How long an action or a wait may take before it fails. `make test` runs
 * two browser files at a time beside the Rust and API suites on a 2-core
 * machine, where opening a channel has taken over 10 s; waits for
 * something to stay absent use their own, shorter windows.
 */
export const ACTION_TIMEOUT_MS = 20_000;

/**
 * Registers the hooks and returns an object whose `server`, `context` and
 * `page` are set while a test runs. A test fails if its page logged errors.
 * `options` go to `startServer` (e.g. `{ env: { DEFAULT_ROOMS: 'Lobby' } }`).
 */
export function browserSuite(options) {
  const suite = { server: undefined, browser: undefined, context: undefined, page: undefined };
  let problems = [];

  before(async () => {
    suite.server = await startServer(options);
    // One clear failure instead of every test timing out on an empty page.
    const page = await fetch(`${suite.server.url}/`);
    if (page.status !== 200) {
      throw new Error(`GET / answered ${page.status}, not the web app: ${(await page.text()).slice(0, 300)}`);
    }
    suite.browser = await launchBrowser();
  });

  after(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
  });

  beforeEach(async () => {
    suite.context = await suite.browser.newContext({ baseURL: suite.server.url });
    suite.context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    suite.page = await suite.context.newPage();
    problems = collectPageProblems(suite.page);
  });

  afterEach(async () => {
    await suite.context.close();
    assert.deepEqual(problems, [], 'the page logged errors');
  });

  return suite;
}

export function pathname(page) {
  return new URL(page.url()).pathname;
}

export async function logInThroughForm(page, username, password) {
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Creates an account through the registration form (signed in afterwards). */
export async function registerThroughForm(page, username, password) {
  await page.goto('/register');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByLabel('Confirm password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

export async function expectSignedInAs(page, username) {
  await page.getByText(`Signed in as ${username}`, { exact: true }).waitFor();
  assert.equal(pathname(page), '/');
}

export async function expectLoginPage(page) {
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  assert.equal(pathname(page), '/login');
}

/** Clicks a button and returns the answer of the API call it causes. */
export async function clickForResponse(page, buttonName, apiPath) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === apiPath),
    page.getByRole('button', { name: buttonName }).click(),
  ]);
  return response;
}
