// The admin console in headless Chromium against the real server binary,
// registering by invitation only (REGISTRATION_MODE=invite-only): the site
// administrator makes an invitation link in the Admin page, someone new
// registers through it in a browser of their own and reaches the chat;
// registering without the link is refused; every admin screen passes axe;
// and the Admin link shows only to site administrators.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { browserSuite, expectSignedInAs, logInThroughForm, registerThroughForm } from './lib/suite.mjs';

const suite = browserSuite({ env: { REGISTRATION_MODE: 'invite-only', DEFAULT_ROOMS: 'Lobby' } });

async function openAdmin(page) {
  await logInThroughForm(page, 'admin', 'admin123');
  // The header's Admin badge follows the name, hence no exact match.
  await page.getByText('Signed in as admin', { exact: false }).waitFor();
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await page.getByRole('heading', { name: 'Admin console' }).waitFor();
}

test('an invitation link made in the Admin page lets someone new register and chat', async () => {
  const { page } = suite;
  await openAdmin(page);
  await page.getByRole('tab', { name: 'Invitations' }).click();
  await page.getByLabel('Number of uses').fill('1');
  await page.getByRole('button', { name: 'Create link' }).click();
  const link = await page.getByLabel('Invitation link').inputValue();
  assert.match(link, /\/register\?invite=[A-Za-z0-9_-]{43}$/);
  await page.getByRole('cell', { name: '0 of 1' }).waitFor();

  // A browser of the invitee's own.
  const invitee = await suite.browser.newContext({ baseURL: suite.server.url });
  try {
    const other = await invitee.newPage();
    await other.goto(link);
    await other.getByText('You were invited: choose a username and password.').waitFor();
    await expectNoAxeViolations(other);
    await other.getByLabel('Username').fill('newcomer');
    await other.getByLabel('Password', { exact: true }).fill('plum-kettle-orbit-7');
    await other.getByLabel('Confirm password').fill('plum-kettle-orbit-7');
    await other.getByRole('button', { name: 'Create account' }).click();
    await expectSignedInAs(other, 'newcomer');
    await other.getByRole('navigation', { name: 'Rooms and direct messages' }).getByText('Lobby').waitFor();
    // No Admin link for someone who is not a site administrator, and no page.
    assert.equal(await other.getByRole('link', { name: 'Admin', exact: true }).count(), 0);
    await other.goto('/admin');
    await other.getByRole('heading', { name: 'Page not found' }).waitFor();
  } finally {
    await invitee.close();
  }

  // The link is used up: a second person is refused.
  const second = await suite.browser.newContext({ baseURL: suite.server.url });
  try {
    const other = await second.newPage();
    await other.goto(link);
    await other.getByLabel('Username').fill('latecomer');
    await other.getByLabel('Password', { exact: true }).fill('plum-kettle-orbit-7');
    await other.getByLabel('Confirm password').fill('plum-kettle-orbit-7');
    await other.getByRole('button', { name: 'Create account' }).click();
    await other.getByText('This invitation link is not valid: it expired, was revoked or was used up').waitFor();
  } finally {
    await second.close();
  }
});

test('registering without an invitation is refused in invite-only mode', async () => {
  const { page } = suite;
  await page.goto('/register');
  await page.getByText('This server registers people by invitation only. Open the invitation link you were sent.').waitFor();
  await registerThroughForm(page, 'gatecrasher', 'plum-kettle-orbit-7');
  await page.getByRole('alert').getByText('This server registers people by invitation only; open the invitation link you were sent').waitFor();
  const status = await page.evaluate(async () => (await fetch('/api/auth/me', { credentials: 'same-origin' })).status);
  assert.equal(status, 401);
});

test('every admin screen passes axe, and the admin acts on users and rooms', async () => {
  const { page } = suite;
  await openAdmin(page);
  await page.getByRole('cell', { name: 'alice', exact: true }).waitFor();
  await expectNoAxeViolations(page);
  await page.getByRole('button', { name: 'Disable alice' }).click();
  await page.getByRole('button', { name: 'Enable alice' }).waitFor();
  await page.getByRole('button', { name: 'Enable alice' }).click();
  await page.getByRole('button', { name: 'Disable alice' }).waitFor();
  await page.getByRole('button', { name: 'Reset link alice' }).click();
  const resetLink = await page.getByLabel('One-time password-reset link (valid 24 hours)').inputValue();
  assert.match(resetLink, /\/reset-password\?token=[A-Za-z0-9_-]{43}$/);

  // alice sets a new password through the link, once.
  const hers = await suite.browser.newContext({ baseURL: suite.server.url });
  try {
    const other = await hers.newPage();
    await other.goto(resetLink);
    await other.getByRole('heading', { name: 'Set a new password' }).waitFor();
    await expectNoAxeViolations(other);
    await other.getByLabel('New password', { exact: true }).fill('meadow-copper-violin-4');
    await other.getByLabel('Confirm new password').fill('meadow-copper-violin-4');
    await other.getByRole('button', { name: 'Set password' }).click();
    await other.getByText('Your password was set. Log in with it.').waitFor();
    await logInThroughForm(other, 'alice', 'meadow-copper-violin-4');
    await expectSignedInAs(other, 'alice');
  } finally {
    await hers.close();
  }

  await page.getByRole('tab', { name: 'Invitations' }).click();
  await page.getByLabel('Registration').waitFor();
  await expectNoAxeViolations(page);

  await page.getByRole('tab', { name: 'Rooms' }).click();
  await page.getByRole('cell', { name: 'Lobby', exact: true }).waitFor();
  await expectNoAxeViolations(page);

  await page.getByRole('tab', { name: 'Audit log' }).click();
  await page.getByLabel('Show').selectOption('site');
  await page.getByRole('cell', { name: /user_disabled/ }).waitFor();
  await expectNoAxeViolations(page);

  await page.getByRole('tab', { name: 'Status' }).click();
  await page.getByText('Database').waitFor();
  await page.getByText('sqlite', { exact: true }).waitFor();
  await expectNoAxeViolations(page);
});
