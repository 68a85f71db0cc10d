// Regenerates the screenshots in docs/screenshots/ (`make screenshots`):
// the real server with the demo data, headless Chromium, a short scripted
// conversation, then one picture per main screen.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from './lib/browser.mjs';
import { PASSWORDS, expectMessage, openChannel, send } from './lib/chat.mjs';
import { logInThroughForm } from './lib/suite.mjs';
import { startServer } from './lib/server.mjs';

const OUT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'screenshots');
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 780 };

async function person(browser, server, username, viewport = DESKTOP) {
  const context = await browser.newContext({ baseURL: server.url, viewport, colorScheme: 'light', deviceScaleFactor: 1 });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  await logInThroughForm(page, username, PASSWORDS[username]);
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  return { context, page };
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
  console.log(`docs/screenshots/${name}.png`);
}

const server = await startServer();
const browser = await launchBrowser();
try {
  await mkdir(OUT, { recursive: true });

  const visitor = await browser.newContext({ baseURL: server.url, viewport: DESKTOP, colorScheme: 'light' });
  const login = await visitor.newPage();
  await login.goto('/login');
  await login.getByRole('heading', { name: 'Log in' }).waitFor();
  await shot(login, 'login');
  await visitor.close();

  const bob = await person(browser, server, 'bob');
  await bob.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  const alice = await person(browser, server, 'alice');
  await alice.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  await alice.page.getByRole('button', { name: 'Later' }).click();
  await bob.page.getByRole('button', { name: 'Later' }).click();

  await openChannel(alice.page, 'Lobby', 'general');
  await openChannel(bob.page, 'Lobby', 'general');
  await send(alice.page, 'Morning! The release notes draft is at https://example.org/notes');
  await send(bob.page, 'Thanks @alice, reading it now.');
  await send(bob.page, 'One question about the migration section.');
  await expectMessage(alice.page, 'One question');
  const question = alice.page.locator('.message[data-message-id]', { hasText: 'One question' });
  await question.hover();
  await question.getByRole('button', { name: 'Reply', exact: true }).click();
  await send(alice.page, 'Sure, go ahead.');
  const notes = bob.page.locator('.message[data-message-id]', { hasText: 'release notes draft' });
  await notes.hover();
  await notes.getByRole('button', { name: 'React', exact: true }).click();
  await notes.getByRole('button', { name: 'React with thumbs up', exact: true }).first().click();
  await alice.page.getByRole('button', { name: 'thumbs up: 1' }).waitFor();
  await alice.page.locator('.reply-quote', { hasText: 'One question' }).waitFor();
  // Typing is announced at most every few seconds, and bob just sent a message.
  await bob.page.waitForTimeout(3_500);
  await bob.page.locator('#composer-input').pressSequentially('The rollback');
  await alice.page.getByText('bob is typing…').waitFor();
  await shot(alice.page, 'chat');
  // The same screen in the dark theme (the default theme follows the system's).
  await alice.page.emulateMedia({ colorScheme: 'dark' });
  await shot(alice.page, 'chat-dark');
  await alice.page.emulateMedia({ colorScheme: 'light' });

  await alice.page.getByRole('button', { name: 'Members' }).click();
  await alice.page.getByRole('heading', { name: /Members of/ }).waitFor();
  await shot(alice.page, 'members');
  await alice.page.getByRole('button', { name: 'Close' }).click();

  await openChannel(alice.page, 'Project X', 'secrets');
  await openChannel(bob.page, 'Project X', 'secrets');
  await send(alice.page, 'Only the two of us can read this.');
  await expectMessage(bob.page, 'Only the two of us');
  await send(bob.page, 'And the server only sees ciphertext.');
  await expectMessage(alice.page, 'server only sees');
  await shot(alice.page, 'encrypted-channel');

  await alice.page.getByRole('button', { name: 'Settings' }).click();
  await alice.page.getByRole('dialog', { name: 'Room settings' }).waitFor();
  await shot(alice.page, 'room-settings');
  await alice.page.keyboard.press('Escape');

  await alice.page.getByRole('button', { name: 'Members' }).click();
  await alice.page.getByRole('button', { name: 'Verify bob' }).click();
  await alice.page.getByLabel('Safety number').waitFor();
  await shot(alice.page, 'verify');
  await alice.page.keyboard.press('Escape');

  await alice.page.getByRole('button', { name: 'Browse rooms' }).click();
  await alice.page.getByRole('list', { name: 'Public rooms' }).getByText('Lobby').waitFor();
  await shot(alice.page, 'directory');
  await alice.page.keyboard.press('Escape');

  const phone = await person(browser, server, 'charlie', PHONE);
  await openChannel(phone.page, 'Lobby', 'general');
  // The backup reminder, when it is up at this width, is put off for the picture.
  const later = phone.page.getByRole('button', { name: 'Later' });
  if (await later.isVisible()) await later.click();
  await shot(phone.page, 'phone');
  await phone.page.emulateMedia({ colorScheme: 'dark' });
  await shot(phone.page, 'phone-dark');

  for (const p of [alice, bob, phone]) await p.context.close();
} finally {
  await browser.close();
  await server.stop();
}
