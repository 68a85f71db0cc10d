// System events in the timeline, against the real server: alice watches a
// new room's channel while bob joins, charlie is added and removed and the
// channel is renamed, each as a quiet line among the messages, live and
// again after a reload and a reconnect, in the order they happened; the "New messages"
// divider sits above a group of messages, never between a name and its
// message; in the encrypted channel of Project X, removing charlie rotates
// the key, which is a line too. Each screen is checked with axe, in light
// and dark themes, at desktop and phone widths.
// Demo data: Lobby (plaintext) and Project X / secrets (encrypted, alice owns it); alice, bob and charlie belong to both.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { cast, confirmInApp, expectMessage, openChannel, send } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

/** Calls the API from `page` (its session cookie), failing on an error status. */
async function api(page, method, path, body) {
  const answer = await page.evaluate(
    async ({ method, path, body }) => {
      const response = await fetch(path, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, json: await response.json().catch(() => null) };
    },
    { method, path, body },
  );
  assert.ok(answer.status < 300, `${method} ${path}: ${answer.status} ${JSON.stringify(answer.json)}`);
  return answer.json;
}

/** The open channel's messages and system events, in the order shown: `msg:text` and `event:line`. */
function timelineOf(page) {
  return page
    .locator('.messages')
    .evaluate((list) =>
      [...list.querySelectorAll('.message[data-message-id] .message-text, .system-event-text')].map((el) =>
        el.classList.contains('system-event-text') ? `event:${el.textContent.trim()}` : `msg:${el.textContent.trim()}`,
      ),
    );
}

/** Waits for a system event line with exactly this text. */
async function expectLine(page, text) {
  await page.locator('.system-event .system-event-text', { hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\#]/g, '\\$&')}$`) }).waitFor();
}

/** Checks the page with axe in the light theme, then the dark one (the system's), and back. */
async function axeInBothThemes(page) {
  await expectNoAxeViolations(page);
  await page.emulateMedia({ colorScheme: 'dark' });
  assert.ok(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches));
  await expectNoAxeViolations(page);
  await page.emulateMedia({ colorScheme: 'light' });
}

test('system events show, live and after a reload, in order with the messages; a key rotation; the divider sits above a group', async (t) => {
  const { open } = cast(suite, t);
  const bob = await open('bob');
  await bob.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor({ timeout: 30_000 });
  const alice = await open('alice');
  await alice.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor({ timeout: 30_000 });
  const charlie = await open('charlie');
  await charlie.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor({ timeout: 30_000 });

  // First, while these browsers are the first to hold alice's, bob's and charlie's keys.
  await t.test('removing charlie from an encrypted channel rotates its key, a line after the removal', async () => {
    await openChannel(alice.page, 'Project X', 'secrets');
    await openChannel(bob.page, 'Project X', 'secrets');
    await send(alice.page, 'under the first key');
    await expectMessage(bob.page, 'under the first key');

    const rotated = alice.page.waitForResponse((r) => new URL(r.url()).pathname === '/api/channels/share_key' && r.request().postDataJSON().key_version === 2);
    await alice.page.getByRole('button', { name: 'Members' }).click();
    await alice.page.getByRole('button', { name: 'Kick charlie' }).click();
    await confirmInApp(alice.page, 'Kick');
    await alice.page.getByRole('button', { name: 'Kick charlie' }).waitFor({ state: 'detached' });
    await alice.page.keyboard.press('Escape');
    await rotated;
    await expectLine(bob.page, 'The encryption key was rotated (charlie was removed)');
    await expectLine(alice.page, 'The encryption key was rotated (charlie was removed)');
    await send(alice.page, 'under the second key');
    await expectMessage(bob.page, 'under the second key');

    const tail = ['event:charlie was removed by alice', 'event:The encryption key was rotated (charlie was removed)', 'msg:under the second key'];
    assert.deepEqual((await timelineOf(bob.page)).slice(-3), tail);
    await bob.page.reload();
    await bob.page.getByRole('heading', { level: 1, name: 'secrets' }).waitFor();
    await expectMessage(bob.page, 'under the second key');
    assert.deepEqual((await timelineOf(bob.page)).slice(-3), tail);
    assert.ok((await timelineOf(bob.page)).includes('msg:under the first key'));
    await expectNoAxeViolations(bob.page);
  });

  const created = await api(alice.page, 'POST', '/api/rooms', { name: 'Timeline room', description: '', is_private: false });
  const roomId = created.room.id;
  const channelId = created.channels[0].id;
  const charlieId = (await api(charlie.page, 'GET', '/api/auth/me')).user.id;

  const expected = [
    'msg:before anyone came',
    'event:bob joined',
    'msg:hello from bob',
    'event:alice added charlie',
    'event:charlie was removed by alice',
    'msg:after charlie',
    'event:alice renamed the channel to #plans',
    'msg:in plans now',
  ];

  await t.test('each change is a line of alice’s open channel as it happens', async () => {
    await alice.page.reload();
    await openChannel(alice.page, 'Timeline room', 'general');
    await send(alice.page, 'before anyone came');
    await expectMessage(alice.page, 'before anyone came');

    await api(bob.page, 'POST', `/api/rooms/${roomId}/join`);
    await expectLine(alice.page, 'bob joined');
    await openChannel(bob.page, 'Timeline room', 'general');
    await send(bob.page, 'hello from bob');
    await expectMessage(alice.page, 'hello from bob');

    await api(alice.page, 'POST', `/api/rooms/${roomId}/members`, { username: 'charlie' });
    await expectLine(alice.page, 'alice added charlie');
    await api(alice.page, 'DELETE', `/api/rooms/${roomId}/members/${charlieId}`);
    await expectLine(alice.page, 'charlie was removed by alice');
    await send(alice.page, 'after charlie');
    await expectMessage(alice.page, 'after charlie');

    await api(alice.page, 'PATCH', `/api/channels/${channelId}`, { name: 'plans' });
    await expectLine(alice.page, 'alice renamed the channel to #plans');
    await send(alice.page, 'in plans now');
    await expectMessage(alice.page, 'in plans now');
    assert.deepEqual(await timelineOf(alice.page), expected);

    // Bob, who was in the channel the whole time, saw the same lines live.
    await expectMessage(bob.page, 'in plans now');
    assert.deepEqual(await timelineOf(bob.page), expected);

    // A line is never inside a sender's group, and shows its time on hover.
    assert.equal(await alice.page.locator('.group .system-event').count(), 0);
    const line = alice.page.locator('.system-event', { hasText: 'bob joined' });
    const time = line.locator('time');
    assert.equal(await time.evaluate((el) => getComputedStyle(el).opacity), '0');
    await line.hover();
    await alice.page.waitForFunction((el) => getComputedStyle(el).opacity === '1', await time.elementHandle());
    assert.match(await time.getAttribute('datetime'), /^\d{4}-\d\d-\d\dT/);
    await axeInBothThemes(alice.page);
  });

  await t.test('after a reload the lines are still there, in the same order', async () => {
    await alice.page.reload();
    await alice.page.getByRole('heading', { level: 1, name: 'plans' }).waitFor();
    await expectLine(alice.page, 'alice renamed the channel to #plans');
    await expectMessage(alice.page, 'in plans now');
    assert.deepEqual(await timelineOf(alice.page), expected);
    assert.deepEqual(await charlie.page.evaluate(async (id) => (await fetch(`/api/channels/${id}/events`)).status, channelId), 404, 'charlie, removed, reads no events');
  });

  await t.test('the New messages divider sits above a group, and the first unread message starts it under its name', async () => {
    await send(alice.page, 'bob has read this');
    await expectMessage(bob.page, 'bob has read this');
    await openChannel(bob.page, 'Lobby', 'general');
    // alice goes on in the same group (same sender, within minutes).
    await send(alice.page, 'first unread');
    await send(alice.page, 'second unread');
    await bob.page.getByRole('link', { name: /plans.*2 unread/ }).waitFor();
    await openChannel(bob.page, 'Timeline room', 'plans');
    await expectMessage(bob.page, 'second unread');
    const divider = bob.page.getByRole('separator', { name: 'New messages' });
    await divider.waitFor();
    const around = await divider.evaluate((el) => {
      const texts = (group) => [...(group?.querySelectorAll('.message-text') ?? [])].map((m) => m.textContent.trim());
      const next = el.nextElementSibling;
      const previous = el.previousElementSibling;
      return {
        parent: el.parentElement.className,
        nextIsGroup: next?.classList.contains('group') ?? false,
        nextSender: next?.querySelector('.group-head .sender')?.textContent ?? null,
        nextTexts: texts(next),
        previousLast: texts(previous).at(-1) ?? null,
      };
    });
    assert.deepEqual(around, {
      parent: 'day',
      nextIsGroup: true,
      nextSender: 'alice',
      nextTexts: ['first unread', 'second unread'],
      previousLast: 'bob has read this',
    });
    await expectNoAxeViolations(bob.page);
  });

  await t.test('at phone width the lines wrap inside the screen', async () => {
    await alice.page.setViewportSize({ width: 390, height: 780 });
    await expectLine(alice.page, 'charlie was removed by alice');
    const overflow = await alice.page.evaluate(() => [...document.querySelectorAll('.system-event')].filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1).length);
    assert.equal(overflow, 0);
    await alice.page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('after a reconnect the lines written meanwhile appear, each once', async () => {
    await alice.context.setOffline(true);
    await alice.page.getByText('You are offline. Reconnecting…').waitFor();
    await api(bob.page, 'POST', `/api/rooms/${roomId}/leave`);
    await alice.context.setOffline(false);
    await expectLine(alice.page, 'bob left');
    const lines = (await timelineOf(alice.page)).filter((l) => l.startsWith('event:'));
    assert.deepEqual(lines, [...expected.filter((l) => l.startsWith('event:')), 'event:bob left'], 'no gap, no line twice');
  });
});
