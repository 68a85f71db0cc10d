// Formatting and emoji against the real server, in a plaintext channel
// (Lobby / random) and an encrypted one (Project X / secrets, demo data:
// alice owner, bob admin): markdown renders as elements (bold, italic,
// strikethrough, code, highlighted code blocks, quotes, lists, links), markup
// inside a message stays text and never runs, a `javascript:` link is no link;
// `:shortcode:` emoji become the emoji on send; the emoji picker searches,
// reacts and remembers recently used emoji.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { captureOutgoing, cast, expectMessage, openChannel, send } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

const MARKDOWN = [
  '**bold** _italic_ ~~gone~~ `a<b>` [docs](https://example.org/docs) [evil](javascript:alert(1)) @bob',
  '',
  '```js',
  'const x = "<script>window.pwned = 1</script>";',
  '```',
  '',
  '> quoted',
  '',
  '- one',
  '- two',
  '',
  '<img src=x onerror="window.pwned = 2">',
  '',
  'first line',
  'second line',
].join('\n');

/** A committed message row whose text contains `text`. */
function row(page, text) {
  return page.locator('.message[data-message-id]', { has: page.locator('.message-text', { hasText: text }) });
}

/** Checks the rendering of MARKDOWN in `message` (a row) on `page` of `viewer`. */
async function expectFormatted(page, message, viewer) {
  const text = message.locator('.message-text');
  assert.equal(await text.locator('strong').textContent(), 'bold');
  assert.equal(await text.locator('em').textContent(), 'italic');
  assert.equal(await text.locator('del').textContent(), 'gone');
  assert.equal(await text.locator('p code').textContent(), 'a<b>');
  assert.equal(await text.locator('blockquote').textContent(), 'quoted');
  assert.deepEqual(await text.locator('ul > li').allTextContents(), ['one', 'two']);
  assert.equal(await text.locator('p', { hasText: 'first line' }).textContent(), 'first line\nsecond line', 'a single newline stays');
  assert.equal(await text.locator('.mention').textContent(), '@bob');
  assert.equal(await text.locator('.mention-me').count(), viewer === 'bob' ? 1 : 0);

  // Links: only the https one is a link; the javascript: one is its source text.
  const links = text.locator('a');
  assert.equal(await links.count(), 1);
  assert.equal(await links.getAttribute('href'), 'https://example.org/docs');
  assert.equal(await links.getAttribute('rel'), 'noopener noreferrer nofollow');
  assert.match(await text.textContent(), /\[evil\]\(javascript:alert\(1\)\)/);

  // The code block is highlighted (the highlighter chunk loads on demand), and its markup is text.
  const code = text.locator('pre.code-block code');
  await code.locator('.hljs-keyword', { hasText: 'const' }).waitFor();
  assert.equal(await code.textContent(), 'const x = "<script>window.pwned = 1</script>";');
  assert.match(await code.locator('.hljs-string').textContent(), /<script>/);

  // Raw HTML is shown as typed, never as elements, and nothing ran.
  assert.match(await text.textContent(), /<img src=x onerror="window.pwned = 2">/);
  assert.equal(await page.locator('.messages script, .messages img[src="x"]').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
}

test('formatting and emoji, in a plaintext and an encrypted channel', async (t) => {
  const { open } = cast(suite, t);
  // Each makes a new identity on first sign-in (the backup reminder shows it).
  const alice = await open('alice');
  await alice.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  const bob = await open('bob');
  await bob.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  const dialogs = [];
  for (const person of [alice, bob]) person.page.on('dialog', (dialog) => dialogs.push(dialog.message()));

  await t.test('markdown renders as elements in a plaintext channel, and markup in it stays text', async () => {
    await openChannel(alice.page, 'Lobby', 'random');
    await openChannel(bob.page, 'Lobby', 'random');
    await send(alice.page, MARKDOWN);
    const message = row(bob.page, 'italic');
    await message.waitFor();
    await expectFormatted(bob.page, message, 'bob');
    await expectFormatted(alice.page, row(alice.page, 'italic'), 'alice');
    assert.deepEqual(dialogs, [], 'no script opened a dialog');
    await expectNoAxeViolations(bob.page, '.messages');
    await bob.page.emulateMedia({ colorScheme: 'dark' });
    await expectNoAxeViolations(bob.page, '.messages');
    await bob.page.emulateMedia({ colorScheme: 'light' });

    // A message waiting for the connection is formatted too.
    await alice.context.setOffline(true);
    await alice.page.getByText('You are offline. Reconnecting…').waitFor();
    await send(alice.page, 'queued **while offline**');
    assert.equal(await alice.page.locator('.message.pending .message-text strong').textContent(), 'while offline');
    await alice.context.setOffline(false);
    await row(bob.page, 'queued while offline').locator('strong').waitFor();
  });

  await t.test('markdown renders the same way in an encrypted channel, after decryption', async () => {
    await openChannel(alice.page, 'Project X', 'secrets');
    await alice.page.getByRole('img', { name: 'Encrypted channel' }).waitFor();
    await openChannel(bob.page, 'Project X', 'secrets');
    await send(alice.page, MARKDOWN);
    const message = row(bob.page, 'italic');
    await message.waitFor({ timeout: 20_000 });
    await expectFormatted(bob.page, message, 'bob');
    assert.deepEqual(dialogs, [], 'no script opened a dialog');
  });

  await t.test(':shortcodes: are sent as emoji, in an encrypted and a plaintext channel; code keeps them', async () => {
    // Still in Project X / secrets: the text is replaced before it is sealed.
    const sent = await captureOutgoing(alice.page);
    await send(alice.page, 'launch :rocket: `:rocket:` :not_a_shortcode:');
    await expectMessage(bob.page, 'launch 🚀 :rocket: :not_a_shortcode:');
    assert.equal(await row(bob.page, 'launch 🚀').locator('code').textContent(), ':rocket:');
    assert.ok(!sent.all().includes('launch'), 'the encrypted channel still sends only ciphertext');

    await openChannel(alice.page, 'Lobby', 'random');
    await openChannel(bob.page, 'Lobby', 'random');
    await send(alice.page, 'ship it :tada: :+1:');
    await expectMessage(bob.page, 'ship it 🎉 👍');

    // An edit replaces them too.
    const own = row(alice.page, 'ship it 🎉 👍');
    await own.hover();
    await own.getByRole('button', { name: 'Edit', exact: true }).click();
    await alice.page.getByLabel('Edit message').fill('shipped :white_check_mark:');
    await alice.page.getByLabel('Edit message').press('Enter');
    await row(bob.page, 'shipped ✅').getByText('(edited)').waitFor();
  });

  await t.test('the reaction picker: search, keyboard, recently used (kept across a reload), Escape', async () => {
    await send(alice.page, 'pick a reaction');
    await expectMessage(bob.page, 'pick a reaction');
    const message = row(bob.page, 'pick a reaction');
    const react = message.getByRole('button', { name: 'React', exact: true });
    await message.hover();
    await react.click();
    const picker = message.getByRole('dialog', { name: 'Add a reaction' });
    const search = picker.getByRole('searchbox', { name: 'Search emoji' });
    await bob.page.locator('.emoji-search:focus').waitFor();
    // The whole catalogue, by group.
    await picker.getByRole('group', { name: 'Flags' }).waitFor();
    await expectNoAxeViolations(bob.page, '.emoji-picker');
    await bob.page.emulateMedia({ colorScheme: 'dark' });
    await expectNoAxeViolations(bob.page, '.emoji-picker');
    await bob.page.emulateMedia({ colorScheme: 'light' });

    // Search, then Enter picks the first result.
    await search.fill('pizza');
    await picker.getByRole('group', { name: 'Search results' }).getByRole('button', { name: 'React with pizza' }).waitFor();
    await search.press('Enter');
    await message.getByRole('button', { name: 'pizza: 1, including you' }).waitFor();
    await row(alice.page, 'pick a reaction').getByRole('button', { name: 'pizza: 1' }).waitFor();
    await picker.waitFor({ state: 'detached' });
    assert.equal(await bob.page.evaluate(() => document.activeElement?.textContent), 'React', 'the focus is back on React');

    // Recently used survives a reload; the arrow keys move through the grid; Escape closes.
    await bob.page.reload();
    await bob.page.getByRole('heading', { level: 1, name: 'random' }).waitFor();
    await message.hover();
    await react.click();
    const recent = picker.getByRole('group', { name: 'Recently used' });
    await recent.getByRole('button', { name: 'React with pizza' }).waitFor();
    await picker.getByRole('group', { name: 'Smileys and emotion' }).waitFor();
    await search.press('ArrowDown');
    assert.equal(await bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'React with pizza');
    await bob.page.keyboard.press('ArrowDown');
    assert.equal(await bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'React with grinning face');
    await bob.page.keyboard.press('ArrowRight');
    assert.equal(await bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'React with grinning face with big eyes');
    await bob.page.keyboard.press('Escape');
    await picker.waitFor({ state: 'detached' });
    assert.equal(await bob.page.evaluate(() => document.activeElement?.textContent), 'React');
    await bob.page.keyboard.press('Enter');
    await search.waitFor();
    await search.press('ArrowDown');
    await bob.page.keyboard.press('ArrowDown');
    await bob.page.keyboard.press('ArrowRight');
    await bob.page.keyboard.press('Enter');
    await message.getByRole('button', { name: 'grinning face with big eyes: 1, including you' }).waitFor();
    const recents = await bob.page.evaluate(() => JSON.parse(localStorage.getItem('securechat.recentEmoji')));
    assert.deepEqual(recents.slice(0, 2), ['😃', '🍕']);
  });

  await t.test('the composer picker inserts at the cursor, in an encrypted channel too', async () => {
    await openChannel(alice.page, 'Project X', 'secrets');
    await openChannel(bob.page, 'Project X', 'secrets');
    const composer = alice.page.locator('#composer-input');
    await composer.fill('we have  off');
    await composer.evaluate((el) => el.setSelectionRange(8, 8));
    await alice.page.getByRole('button', { name: 'Insert emoji' }).click();
    const picker = alice.page.getByRole('dialog', { name: 'Insert emoji' });
    await picker.getByRole('searchbox', { name: 'Search emoji' }).fill('rocket');
    await picker.getByRole('button', { name: 'rocket', exact: true }).first().click();
    await picker.waitFor({ state: 'detached' });
    assert.equal(await composer.inputValue(), 'we have 🚀 off');
    await alice.page.locator('#composer-input:focus').waitFor();
    await composer.press('Enter');
    await expectMessage(bob.page, 'we have 🚀 off');
    await expectNoAxeViolations(alice.page, '.composer');
  });
});
