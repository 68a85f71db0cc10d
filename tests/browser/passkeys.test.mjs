// Passkeys through the web UI against the real server, with Chromium's own
// WebAuthn implementation and a virtual authenticator (CTAP2, resident keys,
// user verification) attached over the DevTools protocol: a person adds a
// passkey on the account page, signs out, signs in with the passkey alone;
// after removing it, the authenticator still offers the credential and the
// server refuses it with a clear message; a credential the server never
// registered is refused too; with two-factor sign-in on, the passkey
// answers the second step in place of a code. axe-core checks each screen.
// (The API side — replays, another account's passkey, lockout — is in
// crates/securechat-server/tests/passkeys.rs.)
//
// WebAuthn names the site by a domain, so the pages are opened on
// `localhost`, not on the server's `127.0.0.1`.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generate } from 'otplib';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { collectPageProblems, launchBrowser } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';
import { ACTION_TIMEOUT_MS, expectSignedInAs, logInThroughForm, registerThroughForm } from './lib/suite.mjs';

const PASSWORD = 'quartz-lantern-meadow-42';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page on `localhost` with a virtual platform authenticator; its CDP session and authenticator id. */
async function pageWithAuthenticator() {
  const context = await browser.newContext({ baseURL: server.url.replace('127.0.0.1', 'localhost') });
  context.setDefaultTimeout(ACTION_TIMEOUT_MS);
  const page = await context.newPage();
  const problems = collectPageProblems(page);
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { context, page, problems, cdp, authenticatorId };
}

/** Adds a passkey named `name` on the account page open on `page`. */
async function addPasskey(card, name) {
  await card.getByLabel('Name (to tell your passkeys apart)').fill(name);
  await card.getByLabel('Password (to confirm it is you)').fill(PASSWORD);
  await card.getByRole('button', { name: 'Add a passkey' }).click();
  await card.getByText(`The passkey ${name} was added.`).waitFor();
}

async function logOut(page) {
  await page.getByRole('button', { name: 'Log out', exact: true }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
}

test('add a passkey on the account page, sign in with it alone; once removed it is refused', async () => {
  const { context, page, problems, cdp, authenticatorId } = await pageWithAuthenticator();
  try {
    await registerThroughForm(page, 'vera', PASSWORD);
    await expectSignedInAs(page, 'vera');
    await page.goto('/account');
    const card = page.getByRole('region', { name: 'Passkeys' });
    await card.getByText('No passkeys yet.').waitFor();
    await expectNoAxeViolations(page);

    // A wrong password adds nothing.
    await card.getByLabel('Name (to tell your passkeys apart)').fill('Laptop');
    await card.getByLabel('Password (to confirm it is you)').fill('not-my-password-1');
    await card.getByRole('button', { name: 'Add a passkey' }).click();
    await card.getByRole('alert').getByText('password', { exact: false }).waitFor();
    let { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    assert.equal(credentials.length, 0);

    await card.getByLabel('Name (to tell your passkeys apart)').fill('Laptop');
    await card.getByLabel('Password (to confirm it is you)').fill(PASSWORD);
    await card.getByRole('button', { name: 'Add a passkey' }).click();
    await card.getByText('The passkey Laptop was added.').waitFor();
    await card.getByRole('listitem').filter({ hasText: 'Laptop' }).waitFor();
    ({ credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId }));
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0].isResidentCredential, true, 'a discoverable credential, for sign-in without a username');
    assert.equal(credentials[0].rpId, 'localhost');
    await expectNoAxeViolations(page);

    // Signed out, the passkey alone signs in: no username, no password.
    await page.goto('/');
    await logOut(page);
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await expectSignedInAs(page, 'vera');
    ({ credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId }));
    assert.ok(credentials[0].signCount >= 1, 'the authenticator signed');

    // Removed on the account page: the authenticator still holds the
    // credential and offers it, and the server refuses it.
    await page.goto('/account');
    await card.getByText('Last used', { exact: false }).waitFor();
    await card.getByRole('button', { name: 'Remove the passkey Laptop' }).click();
    await card.getByText('The passkey Laptop was removed.').waitFor();
    await card.getByText('No passkeys yet.').waitFor();
    await page.goto('/');
    await logOut(page);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('alert').getByText('That passkey was not accepted', { exact: false }).waitFor();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    await expectNoAxeViolations(page);
    assert.deepEqual(problems, [], 'the page logged errors');
  } finally {
    await context.close();
  }
});

test('a credential the server never registered is refused', async () => {
  const { context, page, problems, cdp, authenticatorId } = await pageWithAuthenticator();
  try {
    // A resident credential for this site made by the authenticator alone:
    // a key pair the server has never seen.
    const { generateKeyPairSync, randomBytes } = await import('node:crypto');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await cdp.send('WebAuthn.addCredential', {
      authenticatorId,
      credential: {
        credentialId: randomBytes(32).toString('base64'),
        isResidentCredential: true,
        rpId: 'localhost',
        privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
        userHandle: randomBytes(16).toString('base64'),
        signCount: 0,
      },
    });
    await page.goto('/login');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('alert').getByText('That passkey was not accepted', { exact: false }).waitFor();
    await expectNoAxeViolations(page);
    assert.deepEqual(problems, [], 'the page logged errors');
  } finally {
    await context.close();
  }
});

test('with two-factor sign-in on, a passkey answers the second step', async () => {
  const { context, page, problems } = await pageWithAuthenticator();
  try {
    await registerThroughForm(page, 'wyn', PASSWORD);
    await expectSignedInAs(page, 'wyn');
    await page.goto('/account');
    await addPasskey(page.getByRole('region', { name: 'Passkeys' }), 'Phone');

    const totp = page.getByRole('region', { name: 'Two-factor sign-in' });
    await totp.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    const secret = (await totp.locator('.two-factor-secret').textContent()).trim();
    await totp.getByLabel('Code', { exact: true }).fill(await generate({ secret }));
    await totp.getByRole('button', { name: 'Turn on' }).click();
    await totp.getByRole('region', { name: 'Your recovery codes' }).waitFor();

    await page.goto('/');
    await logOut(page);
    await logInThroughForm(page, 'wyn', PASSWORD);
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    await expectNoAxeViolations(page);
    await page.getByRole('button', { name: 'Use a passkey instead' }).click();
    await expectSignedInAs(page, 'wyn');
    assert.deepEqual(problems, [], 'the page logged errors');
  } finally {
    await context.close();
  }
});
