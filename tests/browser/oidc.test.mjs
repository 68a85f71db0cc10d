// Single sign-on through the web UI against a real OpenID provider,
// panva's oidc-provider (tests/oidc/provider.mjs, `make oidc-peer`): the
// sign-in page offers the provider's button, the person signs in on the
// provider's own form and lands in the chat signed in; a refused sign-on
// comes back to the sign-in page with its reason. axe-core checks the
// sign-in page with the button and with the error. (The API side — linking
// by verified email, refusals, replays, two-factor — is in
// crates/securechat-server/tests/oidc.rs.)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { freePort, stopProcess } from './lib/server.mjs';
import { browserSuite, expectLoginPage, expectSignedInAs } from './lib/suite.mjs';

const PROVIDER = fileURLToPath(new URL('../oidc/provider.mjs', import.meta.url));
const CLIENT_ID = 'securechat-browser';
const CLIENT_SECRET = 'a-long-client-secret-for-the-browser-test';

const ACCOUNTS = {
  'pat-id': { email: 'pat@example.com', email_verified: true, preferred_username: 'pat' },
  'mallory-id': { email: 'mallory@elsewhere.test', email_verified: true, preferred_username: 'mallory' },
};

/** Starts the provider on a free port; resolves once it listens. */
async function startProvider(redirectUri) {
  const accountsDir = await mkdtemp(path.join(tmpdir(), 'securechat-oidc-'));
  const accounts = path.join(accountsDir, 'accounts.json');
  await writeFile(accounts, JSON.stringify(ACCOUNTS));
  const port = await freePort();
  const args = [PROVIDER, '--port', String(port), '--client-id', CLIENT_ID, '--client-secret', CLIENT_SECRET, '--redirect-uri', redirectUri, '--accounts', accounts];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout });
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the OpenID provider exited (${code}); run \`make oidc-peer\``)));
    lines.once('line', (line) => (line.includes('listening') ? resolve() : reject(new Error(line))));
  });
  return { child, accountsDir, url: `http://127.0.0.1:${port}` };
}

// The provider starts first, at load: the server's settings name it, and
// the provider must know the server's redirect URI (so its port).
const port = await freePort();
const publicUrl = `http://127.0.0.1:${port}`;
const provider = await startProvider(`${publicUrl}/api/auth/oidc/callback`);
const options = {
  env: {
    PORT: String(port),
    PUBLIC_URL: publicUrl,
    OIDC_ISSUER: provider.url,
    OIDC_CLIENT_ID: CLIENT_ID,
    OIDC_CLIENT_SECRET: CLIENT_SECRET,
    OIDC_ALLOWED_DOMAINS: 'example.com',
    OIDC_LABEL: 'Example ID',
  },
};

const suite = browserSuite(options);

after(async () => {
  await stopProcess(provider.child);
  await rm(provider.accountsDir, { recursive: true, force: true });
});

/** From the sign-in page through the provider's own form as `account`. */
async function signOnAs(page, account) {
  await page.goto('/login');
  await page.getByRole('link', { name: 'Sign in with Example ID' }).click();
  await page.waitForURL((url) => url.origin === provider.url);
  await page.locator('input[name="login"]').fill(account);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
}

test('the SSO button signs a new person in through the provider', async () => {
  const { page } = suite;
  await page.goto('/login');
  await page.getByRole('link', { name: 'Sign in with Example ID' }).waitFor();
  await expectNoAxeViolations(page);

  await signOnAs(page, 'pat-id');
  await expectSignedInAs(page, 'pat');
});

test('a refused sign-on comes back to the sign-in page with its reason', async () => {
  const { page } = suite;
  await signOnAs(page, 'mallory-id');
  await page.getByRole('alert').getByText('Your email address is not from a domain allowed to sign in here.').waitFor();
  await expectLoginPage(page);
  // Said once: the address no longer carries it.
  assert.equal(new URL(page.url()).search, '');
  await expectNoAxeViolations(page);
});
