// The sign-in flows of the web UI, in headless Chromium against the real
// server binary with the demo users (alice/password123, ...).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, clickForResponse, expectLoginPage, expectSignedInAs, logInThroughForm, pathname, registerThroughForm } from './lib/suite.mjs';

const suite = browserSuite();

async function meStatus(page) {
  return page.evaluate(async () => (await fetch('/api/auth/me', { credentials: 'same-origin' })).status);
}

test('a signed-out visitor of / is sent to the login page', async () => {
  const { page } = suite;
  await page.goto('/');
  await expectLoginPage(page);
});

test('alice logs in and sees that she is signed in', async () => {
  const { page } = suite;
  await logInThroughForm(page, 'alice', 'password123');
  await expectSignedInAs(page, 'alice');
  await page.getByRole('button', { name: 'Log out' }).waitFor();
  await page.getByRole('navigation', { name: 'Rooms and direct messages' }).getByText('Lobby').waitFor();
  await page.getByRole('link', { name: 'Account', exact: true }).click();
  await page.getByRole('heading', { name: 'Change password' }).waitFor();
});

test('the login form works from the keyboard alone', async () => {
  const { page } = suite;
  await page.goto('/login');
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  // The username field has the focus on arrival; Enter submits.
  await page.keyboard.type('alice');
  await page.keyboard.press('Tab');
  await page.keyboard.type('password123');
  await page.keyboard.press('Enter');
  await expectSignedInAs(page, 'alice');
});

test('a reload keeps alice signed in through the HttpOnly cookie alone', async () => {
  const { page } = suite;
  await logInThroughForm(page, 'alice', 'password123');
  await expectSignedInAs(page, 'alice');

  await page.reload();
  await expectSignedInAs(page, 'alice');

  const cookies = await suite.context.cookies();
  assert.ok(cookies.length > 0, 'the server set a cookie');
  assert.ok(cookies.every((cookie) => cookie.httpOnly), 'every cookie is HttpOnly');
  const stored = await page.evaluate(() => ({
    cookie: document.cookie,
    local: Object.keys(localStorage),
    session: sessionStorage.length,
  }));
  assert.deepEqual(stored, { cookie: '', local: ['securechat.lastUser'], session: 0 }, 'no session secret is visible to scripts');
  // Only who signed in last, for the offline chat (offline.test.mjs): no token, no secret.
  const last = JSON.parse(await page.evaluate(() => localStorage.getItem('securechat.lastUser')));
  assert.deepEqual(Object.keys(last).sort(), ['id', 'is_admin', 'username']);
  assert.equal(last.username, 'alice');
});

test('logging out returns to the login page and ends the session', async () => {
  const { page } = suite;
  await logInThroughForm(page, 'alice', 'password123');
  await expectSignedInAs(page, 'alice');
  assert.equal(await meStatus(page), 200);

  await page.getByRole('button', { name: 'Log out' }).click();
  await expectLoginPage(page);
  await page.getByText('You have logged out.').waitFor();
  assert.equal(await meStatus(page), 401);

  await page.goto('/');
  await expectLoginPage(page);
});

test("a wrong password shows the server's message and no session", async () => {
  const { page } = suite;
  await page.goto('/login');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('not-her-password');
  const response = await clickForResponse(page, 'Log in', '/api/auth/login');
  assert.equal(response.status(), 401);
  const { message } = await response.json();
  assert.ok(typeof message === 'string' && message !== '', 'the API explains the failure');

  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal((await alert.textContent()).trim(), message);
  assert.equal(pathname(page), '/login');
  assert.equal(await page.getByLabel('Password').inputValue(), '', 'the password is cleared for another try');
  assert.equal(await meStatus(page), 401);
});

test('a new user registers and is signed in', async () => {
  const { page } = suite;
  await page.goto('/login');
  await page.getByRole('link', { name: 'Create an account' }).click();
  await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  assert.equal(pathname(page), '/register');

  await page.getByLabel('Username').fill('dave');
  await page.getByLabel('Password', { exact: true }).fill('dave-kettle-orbit-7');
  await page.getByLabel('Confirm password').fill('dave-kettle-orbit-7');
  await page.getByRole('button', { name: 'Create account' }).click();
  await expectSignedInAs(page, 'dave');

  await page.reload();
  await expectSignedInAs(page, 'dave');
});

test('registration rules are checked before anything is sent', async () => {
  const { page } = suite;
  const apiCalls = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/auth/register')) apiCalls.push(request.url());
  });
  await page.goto('/register');
  await page.getByLabel('Username').fill('x!');
  await page.getByLabel('Password', { exact: true }).fill('short');
  await page.getByRole('button', { name: 'Create account' }).click();

  await page.getByText('Username must be 3 to 32 characters long.').waitFor();
  await page.getByText('Password must be at least 8 characters long.').waitFor();
  assert.equal(await page.getByLabel('Username').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'register-username', 'focus moves to the first invalid field');
  assert.deepEqual(apiCalls, []);
});

test("a taken username shows the server's message", async () => {
  const { page } = suite;
  await page.goto('/register');
  await page.getByLabel('Username').fill('ALICE');
  await page.getByLabel('Password', { exact: true }).fill('kettle-orbit-plum-7');
  await page.getByLabel('Confirm password').fill('kettle-orbit-plum-7');
  const response = await clickForResponse(page, 'Create account', '/api/auth/register');
  assert.equal(response.status(), 409);
  const { message } = await response.json();

  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal((await alert.textContent()).trim(), message);
  assert.equal(pathname(page), '/register');
});

test('a user changes the password and logs in with the new one', async () => {
  const { page } = suite;
  await registerThroughForm(page, 'erin', 'first-password');
  await expectSignedInAs(page, 'erin');

  await page.getByRole('link', { name: 'Account', exact: true }).click();
  await page.getByLabel('Current password').fill('first-password');
  await page.getByLabel('New password', { exact: true }).fill('second-password');
  await page.getByLabel('Confirm new password').fill('second-password');
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.getByText('Your password was changed.', { exact: false }).waitFor();
  assert.equal(await page.getByLabel('Current password').inputValue(), '');

  await page.getByRole('button', { name: 'Log out' }).click();
  await expectLoginPage(page);
  await logInThroughForm(page, 'erin', 'first-password');
  await page.getByRole('alert').waitFor();
  await logInThroughForm(page, 'erin', 'second-password');
  await expectSignedInAs(page, 'erin');
});

test('pages are served under the strict Content-Security-Policy', async () => {
  const { page } = suite;
  const response = await page.goto('/login');
  const policy = response.headers()['content-security-policy'] ?? '';
  for (const directive of ["default-src 'self'", "script-src 'self' 'wasm-unsafe-eval'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"]) {
    assert.ok(policy.includes(directive), `CSP has ${directive}: ${policy}`);
  }
  // The UI ran under it: the form rendered and afterEach found no violation.
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
});

test('a reload of a deep link serves the app', async () => {
  const { page } = suite;
  const response = await page.goto('/register');
  assert.equal(response.status(), 200);
  await page.getByRole('heading', { name: 'Create an account' }).waitFor();
});

test('the pages fit a phone screen without sideways scrolling', async () => {
  const { page } = suite;
  await page.setViewportSize({ width: 360, height: 740 });
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

  await page.goto('/register');
  await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  assert.equal(await overflow(), 0, 'register page');

  await logInThroughForm(page, 'alice', 'password123');
  await expectSignedInAs(page, 'alice');
  assert.equal(await overflow(), 0, 'signed-in page');
  assert.ok(await page.getByRole('button', { name: 'Log out' }).isVisible());
});
