// Two-factor sign-in through the web UI against the real server, with codes
// computed by npm's otplib (an RFC 6238 implementation independent of the
// server's totp-rs), as an authenticator app would: a person sets TOTP up on
// the account page from the QR code's key, keeps the recovery codes shown
// once, signs out, and signs in again with a code; then with a recovery
// code; a wrong code is refused with a clear message. A site that requires
// two-factor shows a person without it only the setup until it is on.
// axe-core checks each screen. (The API side, replay and parallel sign-ins
// included, is in crates/securechat-server/tests/two_factor.rs.)

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from 'otplib';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { browserSuite, expectSignedInAs, logInThroughForm, registerThroughForm } from './lib/suite.mjs';

const suite = browserSuite({ env: { TWO_FACTOR_REQUIRED: 'admins' } });

const PASSWORD = 'quartz-lantern-meadow-42';

/** The code of `secret` `steps` 30-second steps from now. */
function codeAt(secret, steps) {
  return generate({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });
}

/** Sets TOTP up on the account card open on `page`; the key and the recovery codes. */
async function enrol(page, card) {
  await card.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
  await card.getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
  const secret = (await card.locator('.two-factor-secret').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  await expectNoAxeViolations(page);
  await card.getByLabel('Code', { exact: true }).fill('000000');
  await card.getByRole('button', { name: 'Turn on' }).click();
  await card.getByRole('alert').getByText('That code is wrong', { exact: false }).waitFor();
  await card.getByLabel('Code', { exact: true }).fill(await codeAt(secret, 0));
  await card.getByRole('button', { name: 'Turn on' }).click();
  const list = card.getByRole('region', { name: 'Your recovery codes' });
  await list.waitFor();
  const codes = (await list.locator('li').allTextContents()).map((c) => c.trim());
  assert.equal(codes.length, 10);
  await expectNoAxeViolations(page);
  return { secret, codes };
}

async function logOut(page) {
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
}

/** Username and password through the form, up to the code step. */
async function toCodeStep(page, username) {
  await logInThroughForm(page, username, PASSWORD);
  await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
}

test('enrol on the account page, then sign in with a code or a recovery code; a wrong code is refused', async () => {
  const { page } = suite;
  await registerThroughForm(page, 'tess', PASSWORD);
  await expectSignedInAs(page, 'tess');
  await page.goto('/account');
  const card = page.getByRole('region', { name: 'Two-factor sign-in' });
  await card.getByText('Off.').waitFor();
  const { secret, codes } = await enrol(page, card);
  await card.getByText('On. 10 recovery codes left.').waitFor();

  await page.goto('/');
  await logOut(page);
  await toCodeStep(page, 'tess');
  await expectNoAxeViolations(page);
  const field = page.getByLabel('Code from your authenticator app, or a recovery code');
  await field.fill('123456');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('alert').getByText('That code is wrong or was already used').waitFor();
  await expectNoAxeViolations(page);
  await field.fill(await codeAt(secret, 1));
  await page.getByRole('button', { name: 'Continue' }).click();
  await expectSignedInAs(page, 'tess');

  await logOut(page);
  await toCodeStep(page, 'tess');
  await field.fill(codes[0]);
  await page.getByRole('button', { name: 'Continue' }).click();
  await expectSignedInAs(page, 'tess');

  // The used recovery code does not work twice.
  await logOut(page);
  await toCodeStep(page, 'tess');
  await field.fill(codes[0]);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByRole('alert').getByText('That code is wrong or was already used').waitFor();
});

test('a site that requires two-factor of admins shows them only the setup until it is on', async () => {
  const { page } = suite;
  await logInThroughForm(page, 'admin', 'admin123');
  await page.getByRole('heading', { name: 'Set up two-factor sign-in' }).waitFor();
  await page.getByText('This site requires two-factor sign-in.', { exact: false }).waitFor();
  await expectNoAxeViolations(page);
  const card = page.getByRole('region', { name: 'Two-factor sign-in' });
  await enrol(page, card);
  await page.getByRole('button', { name: 'I have saved them: continue' }).click();
  // The chat opens (the header's badge follows the name, hence no exact match).
  await page.getByRole('button', { name: 'Log out', exact: true }).waitFor();
  await page.getByText('Signed in as admin', { exact: false }).waitFor();
});
