// Login throttling as the UI shows it. In its own file, so its own server:
// the lockout it provokes must not refuse the logins of other tests.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { browserSuite, clickForResponse } from './lib/suite.mjs';

const suite = browserSuite();
const MAX_ATTEMPTS = 50;

test('a throttled login says how long to wait', async () => {
  const { page } = suite;
  await page.goto('/login');

  // Fail until the server starts refusing, whatever its threshold is.
  const statuses = await page.evaluate(async (max) => {
    const seen = [];
    for (let i = 0; i < max; i += 1) {
      const response = await fetch('/api/auth/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'bob', password: `wrong-${i}` }),
      });
      seen.push(response.status);
      if (response.status === 429) break;
    }
    return seen;
  }, MAX_ATTEMPTS);
  assert.equal(statuses.at(-1), 429, `no 429 after ${statuses.length} failed logins: ${statuses.join(' ')}`);

  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill('password456');
  const response = await clickForResponse(page, 'Log in', '/api/auth/login');
  assert.equal(response.status(), 429);
  const seconds = Number(response.headers()['retry-after']);
  assert.ok(Number.isInteger(seconds) && seconds > 0, `Retry-After is a number of seconds: ${response.headers()['retry-after']}`);

  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.equal((await alert.textContent()).trim(), `Too many attempts, try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`);
  assert.equal(new URL(page.url()).pathname, '/login');
});
