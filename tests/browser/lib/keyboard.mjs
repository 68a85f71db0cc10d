// Helpers for the keyboard and accessibility tests: signing in without the
// form (so they work in any language), and counting Tab presses from the top.

import assert from 'node:assert/strict';
import { PASSWORDS } from './chat.mjs';

/**
 * Signs `username` in through the API (`context`'s pages share the
 * cookie) and returns `channel(room, name)`, which finds a channel of theirs.
 */
export async function signInByApi(context, username) {
  const login = await context.request.post('/api/auth/login', { data: { username, password: PASSWORDS[username] } });
  assert.equal(login.status(), 200, `log in ${username}`);
  const { rooms } = await (await context.request.get('/api/rooms')).json();
  return (room, name) => rooms.find((r) => r.name === room).channels.find((c) => c.name === name);
}

/**
 * Opens a channel by its address and waits until it is live (and, unless
 * `composer` is false, its composer is there: a browser without the keys
 * shows none in an encrypted channel).
 */
export async function openChannelPage(page, channel, { composer = true } = {}) {
  await page.goto(`/channels/${channel.id}`);
  await page.locator('#channel-title').waitFor();
  if (composer) await page.locator('#composer-input').waitFor();
  await page.locator('.connection-banner').waitFor({ state: 'detached' });
}

/**
 * Reloads the page and takes the focus back to the top of the document, as
 * when Tab comes in from the address bar (opening a channel focuses the
 * composer; the count is from the top).
 */
export async function fromTheTop(page) {
  await page.reload();
  await page.locator('#composer-input').waitFor();
  await page.evaluate(() => {
    document.body.tabIndex = -1;
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });
}

/** What has the focus, in a few words: for a failure's message. */
export function describeFocus(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (el === null || el === document.body) return 'body';
    const name = el.getAttribute('aria-label') ?? el.textContent?.trim().slice(0, 30) ?? '';
    return `${el.tagName.toLowerCase()}${el.id !== '' ? `#${el.id}` : ''}${el.getAttribute('role') !== null ? `[role=${el.getAttribute('role')}]` : ''} "${name}"`;
  });
}
