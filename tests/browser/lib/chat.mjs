// Helpers for the chat tests: more signed-in people in their own browser
// contexts, and the recurring steps of the chat UI.

import { collectPageProblems, serveWebBuild } from './browser.mjs';
import { ACTION_TIMEOUT_MS, logInThroughForm } from './suite.mjs';

export const PASSWORDS = { alice: 'password123', bob: 'password456', charlie: 'password789' };

/**
 * Opens a fresh browser context (its own cookies, storage and socket) and
 * signs `username` in (`prepare(context)` runs first, before any request;
 * `password` for an account other than the demo users).
 * `close()` closes it and returns the page's problems.
 */
export async function signIn(suite, username, { prepare, password = PASSWORDS[username] } = {}) {
  const context = await suite.browser.newContext({ baseURL: suite.server.url });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  await prepare?.(context);
  if (process.env.WEB_DIST !== undefined) await serveWebBuild(context, process.env.WEB_DIST);
  const page = await context.newPage();
  const problems = collectPageProblems(page);
  await logInThroughForm(page, username, password);
  await page.getByText(`Signed in as ${username}`, { exact: true }).waitFor();
  return {
    context,
    page,
    problems,
    async close() {
      await context.close();
      return problems;
    },
  };
}

/**
 * The people of one test: `open(name)` signs someone in (their own context,
 * kept in `people`); every context is closed when the test `t` ends.
 */
export function cast(suite, t) {
  const people = [];
  t.after(async () => {
    for (const person of people) await person.context.close();
  });
  return {
    people,
    async open(name, options) {
      const person = await signIn(suite, name, options);
      people.push(person);
      return person;
    },
  };
}

/** Restores this browser's encryption keys from the recovery passphrase (the chat's restore panel). */
export async function restoreKeys(page, passphrase) {
  const panel = page.getByRole('heading', { name: 'Read your encrypted messages here' });
  await panel.waitFor();
  await page.getByLabel('Recovery passphrase').fill(passphrase);
  await page.getByRole('button', { name: 'Restore' }).click();
  await panel.waitFor({ state: 'detached' });
}

/**
 * Records what a page sends from now on: WebSocket frames, and HTTP requests
 * (method, path, body), through CDP. `all()` is every frame and body as one
 * text, to search for plaintext.
 */
export async function captureOutgoing(page) {
  const frames = [];
  const requests = [];
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketFrameSent', (event) => frames.push(event.response.payloadData));
  page.on('request', (request) => requests.push({ method: request.method(), path: new URL(request.url()).pathname, body: request.postData() ?? '' }));
  return { frames, requests, all: () => [...frames, ...requests.map((r) => r.body)].join('\n') };
}

/**
 * Puts a proxy between the page and the server's Socket.IO (from the page's
 * next connection): the returned function pushes a forged event to the
 * page, as a lying server would.
 */
export async function lyingSocket(page) {
  let toPage = null;
  await page.routeWebSocket(/\/socket\.io\//, (ws) => {
    ws.connectToServer();
    toPage = (event, data) => ws.send(`42${JSON.stringify([event, data])}`);
  });
  return (event, data) => {
    if (toPage === null) throw new Error('the page has not connected through the proxy yet: reload it first');
    toPage(event, data);
  };
}

/** Opens a channel from the sidebar by its room and channel name. */
export async function openChannel(page, roomName, channelName) {
  const room = page.locator('.room', { has: page.locator('.room-name', { hasText: roomName }) });
  await room.getByRole('link', { name: channelName }).click();
  await page.getByRole('heading', { level: 1, name: channelName }).waitFor();
  await waitOnline(page);
}

/** Waits until the live connection is up (the banner is gone). */
export async function waitOnline(page) {
  await page.locator('.connection-banner').waitFor({ state: 'detached' });
}

export async function send(page, text) {
  const composer = page.locator('#composer-input');
  await composer.fill(text);
  await composer.press('Enter');
}

/** The committed messages of the open channel, as their text. */
export async function messageTexts(page) {
  return page.locator('.message[data-message-id] .message-text').allTextContents();
}

/** Waits for a committed message with exactly this text. */
export async function expectMessage(page, text) {
  await page.locator('.message[data-message-id] .message-text', { hasText: text }).first().waitFor();
}

/**
 * Answers the app's in-app confirmation (components/ConfirmDialog.tsx) by
 * clicking its action button, named for the action ("Delete message"), and
 * waits until the dialog is gone. A native `confirm()` would not be
 * answered here (Playwright dismisses it), so the action would not happen.
 */
export async function confirmInApp(page, action) {
  const dialog = page.getByRole('dialog').filter({ has: page.getByRole('button', { name: action, exact: true }) });
  await dialog.getByRole('button', { name: action, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}
