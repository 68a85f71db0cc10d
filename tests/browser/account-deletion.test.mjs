// "Delete my account" from the Account page against the real server: the
// password is required and checked, a last question is asked, and then the
// person is signed out with a notice, this browser forgets their keys, the
// name no longer signs in, and what they sent stays for the others, from
// a deleted user. An
// owner is told which rooms to hand over first. Axe on the card.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { confirmInApp, expectMessage, openChannel, send, signIn } from './lib/chat.mjs';
import { browserSuite, expectLoginPage, logInThroughForm } from './lib/suite.mjs';

const suite = browserSuite({ env: { DEFAULT_ROOMS: 'Lobby' } });
const PASSWORD = 'plum-kettle-orbit-7';

async function register(username) {
  const response = await fetch(`${suite.server.url}/api/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(response.status, 201, await response.text());
}

function deleteCard(page) {
  return page.locator('section', { has: page.getByRole('heading', { name: 'Delete my account' }) });
}

test('dora deletes her account: wrong password refused, then signed out for good, her message stays for bob', async (t) => {
  await register('dora');
  const dora = await signIn(suite, 'dora', { password: PASSWORD });
  t.after(() => dora.close());
  const bob = await signIn(suite, 'bob');
  t.after(() => bob.close());
  const text = `before I go ${Date.now()}`;
  await openChannel(dora.page, 'Lobby', 'general');
  await send(dora.page, text);
  await expectMessage(dora.page, text);
  const doraId = await dora.page.evaluate(async () => (await (await fetch('/api/auth/me')).json()).user.id);

  const { page } = dora;
  await page.goto('/account');
  const card = deleteCard(page);
  await card.getByLabel('Your password, to delete the account').waitFor();
  await expectNoAxeViolations(page);

  await card.getByRole('button', { name: 'Delete my account…' }).click();
  await card.getByRole('alert').filter({ hasText: 'Enter your current password to delete your account.' }).waitFor();
  await card.getByLabel('Your password, to delete the account').fill('not-her-password');
  await card.getByRole('button', { name: 'Delete my account…' }).click();
  await confirmInApp(page, 'Delete my account');
  await card.getByRole('alert').filter({ hasText: 'That password is wrong.' }).waitFor();
  assert.equal((await (await page.request.get('/api/auth/me')).status()), 200, 'still signed in');

  await card.getByLabel('Your password, to delete the account').fill(PASSWORD);
  await card.getByRole('button', { name: 'Delete my account…' }).click();
  await confirmInApp(page, 'Delete my account');
  await page.getByText('Your account has been deleted.').waitFor();
  await expectLoginPage(page);
  const stores = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  assert.ok(!stores.includes(`securechat-e2ee-${doraId}`), `her keys are gone from this browser: ${stores.join(', ')}`);

  await logInThroughForm(page, 'dora', PASSWORD);
  await page.getByRole('alert').filter({ hasText: /invalid|wrong|incorrect/i }).waitFor();

  // Bob still reads what she sent, from a deleted user.
  await bob.page.reload();
  await openChannel(bob.page, 'Lobby', 'general');
  await expectMessage(bob.page, text);
  const group = bob.page.locator('.group', { has: bob.page.locator('.message-text', { hasText: text }) }).first();
  await group.locator('.group-head .sender').getByText('Deleted user').waitFor();
  assert.ok(!(await group.innerText()).includes('dora'), 'her name is gone from her message');
  assert.deepEqual(dora.problems, []);
  assert.deepEqual(bob.problems, []);
});

test('alice owns a room: the card names it and nothing is deleted', async (t) => {
  const alice = await signIn(suite, 'alice');
  t.after(() => alice.close());
  const { page } = alice;
  await page.goto('/account');
  const card = deleteCard(page);
  await card.getByLabel('Your password, to delete the account').fill('password123');
  await card.getByRole('button', { name: 'Delete my account…' }).click();
  await confirmInApp(page, 'Delete my account');
  await card.getByRole('alert').filter({ hasText: /You own .*Project X.*Make another member the owner/ }).waitFor();
  await expectNoAxeViolations(page);
  assert.equal((await (await page.request.get('/api/auth/me')).status()), 200, 'still signed in');
  assert.deepEqual(alice.problems, []);
});
