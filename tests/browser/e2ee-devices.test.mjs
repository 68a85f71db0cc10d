// Devices in the browser, against the real server: alice links a second
// browser by the code it shows (both show the same numbers, she confirms on
// both), the new browser reads the history she chose to carry over and the
// messages that follow; then from it she revokes the first browser, whose
// conversations get a new key at once: the first browser reads nothing new,
// not even through a key request an admin approves, and after a reload it
// says it was removed and holds no keys. Screens visited are checked with
// axe-core. And a key sealed to a browser while it was closed waits in its
// mailbox until the page knows its rooms: it is not dropped when the page
// drains the mailbox before the room list has arrived.
// Project X / secrets (demo data): alice owner, bob admin, charlie member.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { collectPageProblems, waitInPage } from './lib/browser.mjs';
import { cast, expectMessage, openChannel, send } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

const HISTORY = 'the launch moves to thursday';
const AFTER_LINK = 'welcome to your new browser';
const AFTER_REVOKE = 'only the listed devices read this';

function devicesCard(page) {
  return page.getByRole('region', { name: 'Devices' });
}

async function openAccount(page) {
  await page.getByRole('link', { name: 'Account', exact: true }).click();
  await devicesCard(page).getByRole('heading', { level: 2, name: 'Devices' }).waitFor();
}

/** The message row with exactly this text. */
function row(page, text) {
  return page.locator('.message[data-message-id]', { has: page.locator('.message-text', { hasText: text }) });
}

test('linking a second browser by code, reading carried history, revoking the first', async (t) => {
  const { people, open } = cast(suite, t);
  const bob = await open('bob');
  const first = await open('alice');
  await first.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  await openChannel(first.page, 'Project X', 'secrets');
  await send(first.page, HISTORY);
  await expectMessage(first.page, HISTORY);
  await openChannel(bob.page, 'Project X', 'secrets');
  await expectMessage(bob.page, HISTORY);
  let second;

  await t.test('a second browser shows a code and a QR code; the first enters it; both show the same numbers', async () => {
    second = await open('alice');
    const panel = second.page.locator('.e2ee-panels');
    await panel.getByRole('heading', { name: 'Read your encrypted messages here' }).waitFor();
    await panel.getByRole('button', { name: 'Link this browser' }).click();
    const code = (await panel.locator('.link-code .code').textContent()).replace('Link code:', '').trim();
    assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/, 'an 8-character code');
    await panel.getByRole('img', { name: `QR code for the link code ${code}` }).waitFor();
    await expectNoAxeViolations(second.page, '.e2ee-panels');

    await openAccount(first.page);
    const card = devicesCard(first.page);
    await card.getByRole('list', { name: 'Your devices' }).getByText('This browser').waitFor();
    assert.equal(await card.getByRole('listitem').count(), 1, 'one device so far');
    await expectNoAxeViolations(first.page);
    // Typed in lower case and without the dash: it is normalised.
    await card.getByLabel('Code shown on the new device').fill(code.toLowerCase().replace('-', ' '));
    await card.getByRole('button', { name: 'Continue' }).click();
    const sasOld = (await card.locator('.sas').textContent()).replace('Numbers to compare:', '').trim();
    assert.match(sasOld, /^\d{3} \d{3} \d{3}$/, 'nine digits');
    const sasNew = (await panel.locator('.sas').textContent()).replace('Numbers to compare:', '').trim();
    assert.equal(sasNew, sasOld, 'both browsers show the same numbers');
    await expectNoAxeViolations(first.page);
    await expectNoAxeViolations(second.page, '.e2ee-panels');

    await panel.getByRole('button', { name: 'They match' }).click();
    await panel.getByText('Waiting for you to approve on your other device').waitFor();
    // The history of #secrets is offered, ticked.
    const carry = card.getByRole('checkbox', { name: 'Project X › #secrets' });
    assert.equal(await carry.isChecked(), true, 'the channel’s history is carried by default');
    await card.getByRole('button', { name: 'They match: link it' }).click();
    await card.getByText('The new device is linked.').waitFor();
    await panel.getByRole('heading', { name: 'Read your encrypted messages here' }).waitFor({ state: 'detached' });
    await card.getByRole('listitem').nth(1).waitFor();
    assert.equal(await card.getByRole('listitem').count(), 2, 'two devices in the signed list');
  });

  await t.test('the new browser reads the carried history and what follows', async () => {
    await openChannel(second.page, 'Project X', 'secrets');
    await expectMessage(second.page, HISTORY);
    await send(bob.page, AFTER_LINK);
    await expectMessage(second.page, AFTER_LINK);
    await first.page.getByRole('link', { name: 'Back to chat' }).click();
    await openChannel(first.page, 'Project X', 'secrets');
    await expectMessage(first.page, AFTER_LINK);
    assert.equal(await second.page.locator('.undecryptable').count(), 0, 'nothing locked in the new browser');
  });

  await t.test('revoked from the new browser, the first reads nothing new, even after a key request is approved', async () => {
    await openAccount(second.page);
    const card = devicesCard(second.page);
    const other = card.getByRole('listitem').filter({ hasNotText: 'This browser' });
    await other.getByRole('button', { name: 'Revoke' }).click();
    const dialog = second.page.getByRole('dialog', { name: 'Revoke device' });
    await dialog.getByText('It stops receiving keys').waitFor();
    await expectNoAxeViolations(second.page);
    await dialog.getByRole('button', { name: 'Revoke device' }).click();
    await card.getByText(/was revoked; \d+ conversations? ha(s|ve) a new key\./).waitFor();
    // The list is read again after the revocation is announced.
    await card.getByRole('listitem').nth(1).waitFor({ state: 'detached' });
    assert.equal(await card.getByRole('listitem').count(), 1, 'one device left');

    await second.page.getByRole('link', { name: 'Back to chat' }).click();
    await openChannel(second.page, 'Project X', 'secrets');
    await send(bob.page, AFTER_REVOKE);
    await expectMessage(second.page, AFTER_REVOKE);
    const versions = await bob.page.evaluate(async () => {
      const rooms = await (await fetch('/api/rooms')).json();
      const channel = rooms.rooms.flatMap((r) => r.channels).find((c) => c.name === 'secrets');
      return (await (await fetch(`/api/channels/${channel.id}/messages`)).json()).messages.map((m) => m.key_version);
    });
    assert.ok(versions[0] > versions[versions.length - 1], 'bob sent under the key made after the revocation');

    const locked = row(first.page, 'Cannot decrypt yet');
    await locked.first().waitFor();
    assert.equal(await row(first.page, AFTER_REVOKE).count(), 0, 'the revoked browser cannot read it');
    await locked.first().getByRole('button', { name: 'Request key' }).click();
    await bob.page.getByText('alice asks for the key of #secrets in Project X').waitFor();
    await bob.page.getByRole('button', { name: 'Approve alice' }).click();
    await bob.page.getByRole('heading', { name: 'Key requests' }).waitFor({ state: 'detached' });
    // The answer was sealed to alice's listed devices only.
    await first.page.waitForTimeout(1500);
    assert.equal(await row(first.page, AFTER_REVOKE).count(), 0, 'still unreadable in the revoked browser');
    await expectMessage(second.page, AFTER_REVOKE);
  });

  await t.test('after a reload the revoked browser says so, holds no keys, and may be linked again', async () => {
    await first.page.reload();
    const panel = first.page.locator('.e2ee-panels');
    await panel.getByRole('heading', { name: 'This browser was removed from your devices' }).waitFor();
    await panel.getByRole('button', { name: 'Link this browser' }).waitFor();
    await expectNoAxeViolations(first.page, '.e2ee-panels');
    const held = await first.page.evaluate(async () => {
      const me = await (await fetch('/api/auth/me')).json();
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(`securechat-e2ee-${me.user.id}`);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const doc = await new Promise((resolve) => {
        const get = db.transaction('kv').objectStore('kv').get('state');
        get.onsuccess = () => resolve(get.result);
      });
      return JSON.parse(doc);
    });
    assert.equal(held.identity ?? null, null, 'the identity was forgotten');
    assert.deepEqual(held.channel_keys ?? {}, {}, 'and every channel key');
  });

  for (const person of people) assert.deepEqual(person.problems, [], 'no page logged errors');
});

test('a key sealed to a closed browser is not lost when its rooms load after its keys', async (t) => {
  const url = suite.server.url;
  const password = 'mailbox-password-1';
  for (const username of ['mira', 'milo']) {
    const made = await fetch(`${url}/api/auth/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: url },
      body: JSON.stringify({ username, password }),
    });
    assert.ok(made.ok, await made.text());
  }
  const { open } = cast(suite, t);
  const person = async (username) => {
    const signedIn = await open(username, { password });
    await signedIn.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
    return signedIn;
  };
  const SECRET = 'sealed while you were away';

  // mira's browser becomes one of her devices (its prekey published), then closes.
  const mira = await person('mira');
  await waitInPage(mira.page, async () => {
    const me = await (await fetch('/api/auth/me')).json();
    const listed = await (await fetch(`/api/users/${me.user.id}/devices`)).json();
    return listed.devices.some((d) => d.prekey !== null);
  });
  assert.deepEqual(mira.problems, []);
  await mira.page.close();

  // milo writes to her; the DM's key is sealed to her device and waits in its mailbox.
  const milo = await person('milo');
  await milo.page.getByRole('button', { name: 'New direct message' }).click();
  await milo.page.getByLabel('Find a person').fill('mira');
  await milo.page.getByRole('button', { name: 'Message mira' }).click();
  await milo.page.getByRole('heading', { level: 1, name: 'mira' }).waitFor();
  await send(milo.page, SECRET);
  await expectMessage(milo.page, SECRET);
  const dm = new URL(milo.page.url()).pathname;
  assert.deepEqual(milo.problems, []);
  // Nobody is left online who could answer a key request.
  await milo.page.close();

  // Her browser opens again; its room list comes 3 s after its keys are loaded.
  const page = await mira.context.newPage();
  const problems = collectPageProblems(page);
  let held = 0;
  await page.route('**/api/rooms', async (route) => {
    if (route.request().method() === 'GET' && held === 0) {
      held += 1;
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
    await route.continue();
  });
  await page.goto(dm);
  await expectMessage(page, SECRET);
  assert.equal(held, 1, 'the room list was held back');
  assert.equal(await page.locator('.undecryptable').count(), 0, 'nothing locked');
  const waiting = await page.evaluate(async () => {
    const me = await (await fetch('/api/auth/me')).json();
    const mine = await (await fetch(`/api/users/${me.user.id}/devices`)).json();
    const id = mine.devices[0].device_id;
    return (await (await fetch(`/api/users/me/devices/${id}/shares`)).json()).shares.length;
  });
  assert.equal(waiting, 0, 'the mailbox is empty once the key was accepted');
  assert.deepEqual(problems, []);
});
