// The account page's email card against the real server and a real SMTP
// server (aiosmtpd, tests/email/smtp_service.py, installed by
// `make smtp-peer`): an address is added, the code mailed to it is read
// from what the SMTP server received, a wrong code is refused, the right
// one confirms the address, and the address is removed. (Without SMTP_URL
// the API says email is off and the card is not shown; the API side is
// checked in crates/securechat-server/tests/email.rs.)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { signIn } from './lib/chat.mjs';
import { freePort, stopProcess } from './lib/server.mjs';
import { browserSuite } from './lib/suite.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const python = process.env.SMTP_PEER ?? path.join(root, 'target/smtp-peer/bin/python');

// The SMTP peer starts before the suite's server, which is pointed at it.
const mailDir = await mkdtemp(path.join(tmpdir(), 'securechat-mail-'));
const smtpPort = await freePort();
const smtp = spawn(python, [path.join(root, 'tests/email/smtp_service.py'), '--port', String(smtpPort), '--out', mailDir], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
await new Promise((resolve, reject) => {
  smtp.once('error', reject);
  smtp.once('exit', (code) => reject(new Error(`the SMTP peer exited (${code}); run \`make smtp-peer\``)));
  smtp.stdout.once('data', resolve);
});

const suite = browserSuite({ env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, PUBLIC_URL: 'http://chat.test' } });

after(async () => {
  await stopProcess(smtp);
  await rm(mailDir, { recursive: true, force: true });
});

/** The code in the latest mail to `address`, waiting for it to arrive. */
async function codeFor(address) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const names = (await readdir(mailDir)).filter((name) => name.endsWith('.json')).sort();
    const mails = await Promise.all(names.map(async (name) => JSON.parse(await readFile(path.join(mailDir, name), 'utf8'))));
    const mine = mails.filter((mail) => mail.rcpt_tos.includes(address));
    const match = mine.at(-1)?.text.match(/code is (\d{6})/);
    if (match) return match[1];
    assert.ok(Date.now() < deadline, `no code mailed to ${address}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('an address is confirmed with the code mailed to it, and removed', async () => {
  const alice = await signIn(suite, 'alice');
  try {
    const { page } = alice;
    await page.goto('/account');
    const card = page.getByRole('region', { name: 'Email notifications' });
    await card.getByText('Get an email when a direct message or a mention stays unread for 15 minutes.', { exact: false }).waitFor();

    await card.getByLabel('Email address').fill('not an address');
    await card.getByRole('button', { name: 'Send a code' }).click();
    await card.getByRole('alert').getByText('Enter one email address, like name@example.com.').waitFor();

    await card.getByLabel('Email address').fill('alice@example.com');
    await card.getByRole('button', { name: 'Send a code' }).click();
    await card.getByText('A code is on its way. Enter it here.').waitFor();
    await card.getByText('alice@example.com is not confirmed yet', { exact: false }).waitFor();
    const code = await codeFor('alice@example.com');

    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await card.getByLabel('Code from the email').fill(wrong);
    await card.getByRole('button', { name: 'Confirm' }).click();
    await card.getByRole('alert').getByText('That is not the code. Check the email and try again.').waitFor();
    await expectNoAxeViolations(page);

    await card.getByLabel('Code from the email').fill(code);
    await card.getByRole('button', { name: 'Confirm' }).click();
    await card.getByText('Emails go to alice@example.com.').waitFor();
    assert.equal(await card.getByLabel('Code from the email').count(), 0, 'no code field once confirmed');
    const status = await page.evaluate(async () => (await fetch('/api/email')).json());
    assert.equal(status.verified, true);
    await expectNoAxeViolations(page);

    await card.getByRole('button', { name: 'Remove address' }).click();
    await card.getByText('Address removed: no more email.').waitFor();
    await card.getByLabel('Email address').waitFor();
    const removed = await page.evaluate(async () => (await fetch('/api/email')).json());
    assert.equal(removed.address, null);
  } finally {
    assert.deepEqual(await alice.close(), [], 'the page logged errors');
  }
});
