// Profiles against the real server: alice sets a display name, a status,
// her availability and a picture on the Account page; bob, in his own
// browser in a room they share, sees her by that name on her messages and
// in the members panel, with her picture and "away" on her presence dot,
// and sees a new name arrive live (`profile_updated`), without a reload. A
// picture over the server's limits shows the server's refusal in the card.
// axe on the Account page and the chat page.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { cast, expectMessage, openChannel, send } from './lib/chat.mjs';
import { solidPng } from './lib/png.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

/** The Account page's Profile card. */
function profileCard(page) {
  return page.locator('section', { has: page.getByRole('heading', { level: 2, name: 'Profile', exact: true }) });
}

test('alice sets her profile and picture; bob sees them on her messages and in the members panel, live', async (t) => {
  const people = cast(suite, t);
  const alice = await people.open('alice');
  const bob = await people.open('bob');
  const hello = `hello from alice ${Date.now()}`;

  await openChannel(alice.page, 'Lobby', 'general');
  await send(alice.page, hello);
  await openChannel(bob.page, 'Lobby', 'general');
  await expectMessage(bob.page, hello);
  const aliceGroup = bob.page.locator('.group', { has: bob.page.locator('.message-text', { hasText: hello }) });
  // No display name yet: her username, and her initials in place of a picture.
  assert.equal(await aliceGroup.locator('.group-head .sender').textContent(), 'alice');
  assert.equal(await aliceGroup.locator('.group-head span.avatar').textContent(), 'AL');
  const aliceId = await alice.page.evaluate(async () => (await (await fetch('/api/auth/me')).json()).user.id);

  await t.test('alice fills in the Profile card', async () => {
    const { page } = alice;
    await page.goto('/account');
    const card = profileCard(page);
    await card.getByLabel('Display name').waitFor();
    await expectNoAxeViolations(page);

    await card.getByLabel('Display name').fill('Alice Liddell');
    await card.getByLabel('Status emoji').fill('🌴');
    await card.getByLabel('Status', { exact: true }).fill('On holiday');
    await card.getByLabel('Clear the status after').selectOption({ label: 'Today' });
    await card.getByLabel('Availability').selectOption({ label: 'Away' });
    await card.getByRole('button', { name: 'Save profile' }).click();
    await card.getByRole('status').filter({ hasText: 'Profile saved.' }).waitFor();
    await page.locator('.signed-in-as', { hasText: 'Signed in as Alice Liddell' }).waitFor();

    const saved = await page.evaluate(async (id) => (await (await fetch(`/api/users/${id}/profile`)).json()).profile, aliceId);
    assert.equal(saved.display_name, 'Alice Liddell');
    assert.deepEqual([saved.status.text, saved.status.emoji, saved.availability], ['On holiday', '🌴', 'away']);
    assert.ok(saved.status.expires_at > Date.now() && saved.status.expires_at <= Date.now() + 24 * 3600 * 1000, 'cleared by the end of today');
  });

  await t.test('alice uploads a picture: a preview, then her picture', async () => {
    const card = profileCard(alice.page);
    await card.getByLabel('Picture', { exact: true }).setInputFiles({ name: 'alice.png', mimeType: 'image/png', buffer: solidPng(96, 80, [200, 40, 40]) });
    await card.getByRole('img', { name: 'The picture you chose' }).waitFor();
    await card.getByRole('button', { name: 'Upload picture' }).click();
    await card.getByRole('status').filter({ hasText: 'Picture updated.' }).waitFor();
    const current = card.getByRole('img', { name: 'Your current picture' });
    await current.waitFor();
    assert.match(await current.getAttribute('src'), new RegExp(`^/api/users/${aliceId}/avatar\\?v=\\d+$`));
    await alice.page.waitForFunction(() => document.querySelector('.profile-avatar-image')?.naturalWidth === 256);
    await card.getByRole('button', { name: 'Remove picture' }).waitFor();
  });

  await t.test('a picture over the limits shows the server’s refusal, and the picture stays', async () => {
    const card = profileCard(alice.page);
    await card.getByLabel('Picture', { exact: true }).setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: solidPng(5000, 5000, [10, 10, 10]) });
    await card.getByRole('button', { name: 'Upload picture' }).click();
    await card.getByRole('alert').filter({ hasText: 'Avatars are limited to 4096×4096 pixels' }).waitFor();
    await card.getByRole('button', { name: 'Upload picture' }).and(card.locator(':enabled')).waitFor();
    const after = await alice.page.evaluate(async (id) => (await (await fetch(`/api/users/${id}/profile`)).json()).profile, aliceId);
    assert.match(after.avatar_url, /\?v=1$/, 'the first picture is still hers');
    await expectNoAxeViolations(alice.page);
  });

  await t.test('bob sees her name, picture and availability, on her messages and in the members panel', async () => {
    const { page } = bob;
    await aliceGroup.locator('.group-head .sender', { hasText: 'Alice Liddell' }).waitFor();
    assert.equal(await aliceGroup.locator('.group-head .sender .person-name').getAttribute('title'), '@alice');
    const picture = aliceGroup.locator('.group-head img.avatar-picture');
    await picture.waitFor();
    assert.equal(await picture.getAttribute('src'), `/api/users/${aliceId}/avatar?v=1&size=64`);
    await page.waitForFunction(() => [...document.querySelectorAll('.group-head img.avatar-picture')].some((img) => img.complete && img.naturalWidth === 64));
    // Screen readers hear her display name on her message.
    await page.getByRole('article', { name: /^Alice Liddell/ }).first().waitFor();
    // The timeline's system lines name her so too.
    await page.locator('.system-event', { hasText: 'Alice Liddell joined' }).first().waitFor();

    await page.getByRole('button', { name: 'Members' }).click();
    const row = page.locator('.member', { hasText: 'Alice Liddell' });
    await row.waitFor();
    await row.getByText('@alice').waitFor();
    await row.getByText('On holiday').waitFor();
    await row.locator('img.avatar-picture').waitFor();
    await row.getByRole('img', { name: 'away' }).waitFor();
    await expectNoAxeViolations(page);

    // Mention suggestions match her display name and show it beside @alice; the pick inserts @alice.
    const composer = page.locator('#composer-input');
    await composer.pressSequentially('hi @lidd');
    const option = page.getByRole('listbox', { name: 'People to mention' }).getByRole('option');
    await option.first().waitFor();
    assert.deepEqual(await option.locator('.mention-display').allTextContents(), ['Alice Liddell']);
    assert.deepEqual(await option.locator('.mention-name').allTextContents(), ['alice']);
    await composer.press('Enter');
    assert.equal(await composer.inputValue(), 'hi @alice ');
    await composer.fill('');
  });

  await t.test('a new display name reaches bob live, without a reload', async () => {
    await bob.page.evaluate(() => (window.__notReloaded = true));
    const card = profileCard(alice.page);
    await card.getByLabel('Display name').fill('Alice L.');
    await card.getByRole('button', { name: 'Save profile' }).click();
    await card.getByRole('status').filter({ hasText: 'Profile saved.' }).waitFor();
    await aliceGroup.locator('.group-head .sender', { hasText: 'Alice L.' }).waitFor();
    await bob.page.locator('.member', { hasText: 'Alice L.' }).waitFor();
    assert.equal(await bob.page.evaluate(() => window.__notReloaded), true, 'the page was not reloaded');

    // Removing the picture brings her initials back, from her display name.
    await card.getByRole('button', { name: 'Remove picture' }).click();
    await card.getByRole('status').filter({ hasText: 'Picture removed.' }).waitFor();
    await aliceGroup.locator('.group-head span.avatar', { hasText: 'AL' }).waitFor();
    assert.equal(await aliceGroup.locator('.group-head img.avatar-picture').count(), 0);
  });

  assert.deepEqual(alice.problems, []);
  assert.deepEqual(bob.problems, []);
});
