// The composer and the message list's bottom edge, against the real server:
// an image pasted into the composer is uploaded (encrypted in an encrypted
// channel, as Attach does); Up in an empty composer edits my last message and
// Escape cancels; my own send scrolls to the bottom while others' messages
// that arrive while I am scrolled up show an "N new messages" pill; `@` and
// the start of a name suggests the room's members, picked with the keyboard
// or the mouse, in plaintext and encrypted channels; the composer grows with its text up to about 40% of the window, at desktop and
// phone widths, without anything scrolling sideways.
// Demo data: Lobby (plaintext) and Project X / secrets (encrypted); alice and bob belong to both.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { captureOutgoing, cast, expectMessage, openChannel, send, signIn, waitOnline } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

/** A 1×1 PNG. */
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** Pastes a clipboard holding only an image file (a screenshot) into the composer. */
async function pasteImage(page, name) {
  await page.locator('#composer-input').evaluate(
    (input, { base64, fileName }) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], fileName, { type: 'image/png' }));
      input.focus();
      input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    },
    { base64: PNG_BASE64, fileName: name },
  );
}

/** How far the message list is from its bottom, in pixels. */
function distanceFromBottom(page) {
  return page.locator('.messages').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
}

async function waitAtBottom(page) {
  await page.waitForFunction(() => {
    const el = document.querySelector('.messages');
    return el !== null && el.scrollHeight - el.scrollTop - el.clientHeight < 2;
  });
}

async function scrollToTop(page) {
  await page.locator('.messages').evaluate((el) => {
    el.scrollTop = 0;
    el.dispatchEvent(new Event('scroll'));
  });
}

/** Nothing on the page scrolls sideways. */
async function expectNoSidewaysScroll(page, what) {
  const overflow = await page.evaluate(() =>
    [document.documentElement, document.body, ...document.querySelectorAll('.channel, .messages, .composer')]
      .filter((el) => el.scrollWidth > el.clientWidth + 1)
      .map((el) => `${el.tagName.toLowerCase()}.${el.className}: ${el.scrollWidth} > ${el.clientWidth}`),
  );
  assert.deepEqual(overflow, [], `sideways scrolling ${what}`);
}

/** The usernames the mention suggestions offer, in their order. */
function mentionOptions(page) {
  return page.getByRole('listbox', { name: 'People to mention' }).getByRole('option').locator('.mention-name').allTextContents();
}

/** The name of the highlighted suggestion, as the composer points at it (aria-activedescendant). */
function activeMention(page) {
  return page.locator('#composer-input').evaluate((input) => {
    const id = input.getAttribute('aria-activedescendant');
    const option = id === null ? null : document.getElementById(id);
    return option !== null && option.getAttribute('aria-selected') === 'true' && input.getAttribute('aria-controls') === option.closest('[role="listbox"]')?.id
      ? option.querySelector('.mention-name')?.textContent
      : null;
  });
}

// First, while alice's and bob's browsers are the first to hold their keys.
test('paste an image, Up edits the last message, @ suggests people, in plaintext and encrypted channels', async (t) => {
  const { open } = cast(suite, t);
  const bob = await open('bob');
  await bob.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  const alice = await open('alice');
  await alice.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();

  await t.test('an image pasted into the composer is uploaded, as with Attach', async () => {
    await openChannel(alice.page, 'Lobby', 'general');
    await openChannel(bob.page, 'Lobby', 'general');
    await pasteImage(alice.page, 'pasted.png');
    const image = bob.page.locator('.message[data-message-id] img.file-thumb[alt="pasted.png"]');
    await image.waitFor({ timeout: 20_000 });
    assert.equal(await alice.page.locator('#composer-input').inputValue(), '', 'no text goes into the composer');
  });

  await t.test('in an encrypted channel the pasted image is encrypted before it leaves', async () => {
    await openChannel(alice.page, 'Project X', 'secrets');
    await openChannel(bob.page, 'Project X', 'secrets');
    await pasteImage(alice.page, 'secret-shot.png');
    const image = bob.page.locator('.message[data-message-id] img.file-thumb[alt="secret-shot.png"]');
    await image.waitFor({ timeout: 20_000 });
    assert.match(await image.getAttribute('src'), /^blob:/, 'decrypted in bob’s page');
    const id = await bob.page.locator('.message[data-message-id] .file-chip', { has: bob.page.locator('img.file-thumb[alt="secret-shot.png"]') }).getAttribute('data-file-id');
    const stored = await (await bob.context.request.get(`/api/files/${id}`)).body();
    const png = Buffer.from(PNG_BASE64, 'base64');
    assert.ok(stored.length > png.length && !stored.includes(png.subarray(0, 16)), 'the server holds ciphertext, not the PNG');
  });

  await t.test('Up in an empty composer edits my last message; Escape cancels', async () => {
    await openChannel(alice.page, 'Lobby', 'random');
    await openChannel(bob.page, 'Lobby', 'random');
    await send(alice.page, 'first words');
    await send(alice.page, 'second words');
    await expectMessage(alice.page, 'second words');
    await send(bob.page, 'bob has the last word');
    await expectMessage(alice.page, 'bob has the last word');

    const composer = alice.page.locator('#composer-input');
    const editor = alice.page.getByLabel('Edit message');
    // Up in a composer with text moves the cursor, as in any text box.
    await composer.fill('draft');
    await composer.press('ArrowUp');
    assert.equal(await editor.count(), 0);
    await composer.fill('');

    await composer.press('ArrowUp');
    await editor.waitFor();
    assert.equal(await editor.inputValue(), 'second words', 'my newest message, not bob’s');
    assert.ok(await editor.evaluate((el) => el === document.activeElement), 'the edit box has the focus');
    await expectNoAxeViolations(alice.page, '.channel');

    await editor.press('Escape');
    await editor.waitFor({ state: 'detached' });
    assert.ok(await composer.evaluate((el) => el === document.activeElement), 'the focus is back in the composer');
    assert.equal(await alice.page.locator('.message', { hasText: 'second words' }).getByText('(edited)').count(), 0, 'cancelled: unchanged');

    await composer.press('ArrowUp');
    await editor.fill('second words, edited');
    await editor.press('Enter');
    await bob.page.locator('.message', { hasText: 'second words, edited' }).getByText('(edited)').waitFor();
    await editor.waitFor({ state: 'detached' });
    assert.ok(await composer.evaluate((el) => el === document.activeElement), 'the focus is back in the composer');
  });

  await t.test('in an encrypted channel, Up edits where Edit is offered, sealed like the Edit button’s', async () => {
    await openChannel(alice.page, 'Project X', 'secrets');
    await openChannel(bob.page, 'Project X', 'secrets');
    await send(alice.page, 'sealed words');
    await expectMessage(bob.page, 'sealed words');
    const composer = alice.page.locator('#composer-input');
    await composer.press('ArrowUp');
    const editor = alice.page.getByLabel('Edit message');
    assert.equal(await editor.inputValue(), 'sealed words');
    await editor.fill('sealed words, edited');
    await editor.press('Enter');
    await bob.page.locator('.message', { hasText: 'sealed words, edited' }).getByText('(edited)').waitFor();
  });

  await t.test('@ and the start of a name suggests members; the keyboard picks; Enter does not send meanwhile', async () => {
    await openChannel(alice.page, 'Lobby', 'general');
    await openChannel(bob.page, 'Lobby', 'general');
    const composer = alice.page.locator('#composer-input');
    const list = alice.page.getByRole('listbox', { name: 'People to mention' });
    const sentBefore = await alice.page.locator('.message[data-message-id]').count();

    // Lobby: admin, alice, bob and charlie. Names starting with "a" first, then containing it; alice herself last.
    await composer.fill('');
    await composer.pressSequentially('hi @a');
    await list.waitFor();
    assert.deepEqual(await mentionOptions(alice.page), ['admin', 'charlie', 'alice'], 'ranked');
    assert.equal(await activeMention(alice.page), 'admin');
    assert.equal(await composer.getAttribute('aria-autocomplete'), 'list');
    await alice.page.locator('.composer [aria-live="polite"]', { hasText: '3 people to mention' }).waitFor({ state: 'attached' });
    await expectNoAxeViolations(alice.page, '.channel');

    // Down and Up move (wrapping); typing filters.
    await composer.press('ArrowDown');
    assert.equal(await activeMention(alice.page), 'charlie');
    await composer.press('ArrowUp');
    await composer.press('ArrowUp');
    assert.equal(await activeMention(alice.page), 'alice');
    await composer.press('Backspace');
    await composer.pressSequentially('b');
    assert.deepEqual(await mentionOptions(alice.page), ['bob']);
    await list.getByRole('option', { name: 'bob online', exact: true }).waitFor();
    assert.equal(await activeMention(alice.page), 'bob', 'the first match is highlighted again');

    // Enter puts the name in; nothing is sent.
    await composer.press('Enter');
    await list.waitFor({ state: 'detached' });
    assert.equal(await composer.inputValue(), 'hi @bob ');
    assert.equal(await composer.getAttribute('aria-activedescendant'), null);
    await composer.pressSequentially('lunch?');
    await composer.press('Enter');
    await bob.page.locator('.message.mentioned .mention-me', { hasText: '@bob' }).waitFor();
    await expectMessage(alice.page, 'hi @bob lunch?');
    assert.equal(await alice.page.locator('.message[data-message-id]').count(), sentBefore + 1, 'one message: Enter on the list sent nothing');

    // A name not in the room: nothing to pick, and Enter sends as usual.
    await composer.pressSequentially('@zed');
    await alice.page.locator('.mention-none', { hasText: 'No one matches' }).waitFor();
    await alice.page.locator('.composer [aria-live="polite"]', { hasText: 'No one matches' }).waitFor({ state: 'attached' });
    assert.equal(await list.count(), 0);
    await composer.press('Enter');
    await expectMessage(bob.page, '@zed');
  });

  await t.test('Escape closes the suggestions, and the next Escape cancels the reply; a click picks too', async () => {
    const composer = alice.page.locator('#composer-input');
    const list = alice.page.getByRole('listbox', { name: 'People to mention' });
    await composer.fill('');
    await send(alice.page, 'a message to answer');
    const original = alice.page.locator('.message[data-message-id]', { hasText: 'a message to answer' });
    await original.hover();
    await original.getByRole('button', { name: 'Reply', exact: true }).click();
    const banner = alice.page.locator('.composer-reply');
    await banner.waitFor();
    await composer.fill('');
    await composer.pressSequentially('@ch');
    await list.waitFor();
    await composer.press('Escape');
    await list.waitFor({ state: 'detached' });
    assert.equal(await composer.inputValue(), '@ch', 'the text stays');
    assert.equal(await banner.count(), 1, 'the first Escape only closed the list');
    await composer.pressSequentially('a');
    assert.equal(await list.count(), 0, 'closed for this name until another is begun');
    await composer.press('Escape');
    await banner.waitFor({ state: 'detached' });

    // Another name opens it again; the pointer picks without taking the focus from the text box.
    await composer.fill('');
    await composer.pressSequentially('thanks @CH and ');
    assert.equal(await list.count(), 0, 'no list once the caret left the name');
    await composer.press('Backspace');
    await composer.press('Backspace');
    await composer.press('Backspace');
    await composer.press('Backspace');
    await composer.press('Backspace');
    await list.waitFor();
    await list.getByRole('option', { name: /^charlie / }).click();
    await list.waitFor({ state: 'detached' });
    assert.equal(await composer.inputValue(), 'thanks @charlie ');
    assert.ok(await composer.evaluate((el) => el === document.activeElement && el.selectionStart === el.value.length), 'the caret is after the name');
    await composer.fill('');
  });

  await t.test('in an encrypted channel, Tab picks and the mention is sealed with the rest of the text', async () => {
    await openChannel(alice.page, 'Project X', 'secrets');
    await openChannel(bob.page, 'Project X', 'secrets');
    const outgoing = await captureOutgoing(alice.page);
    const composer = alice.page.locator('#composer-input');
    await composer.pressSequentially('secret plan for @bo');
    const list = alice.page.getByRole('listbox', { name: 'People to mention' });
    await list.waitFor();
    assert.equal(await activeMention(alice.page), 'bob');
    const whileTyping = outgoing.requests.map((r) => `${r.method} ${r.path}`);
    assert.ok(
      whileTyping.every((r) => /^GET \/api\/rooms\/\d+\/members$/.test(r)),
      `while typing, no request but the room's members list: ${whileTyping.join(', ')}`,
    );
    await composer.press('Tab');
    assert.equal(await composer.inputValue(), 'secret plan for @bob ');
    assert.ok(await composer.evaluate((el) => el === document.activeElement), 'Tab stayed in the composer');
    await composer.press('Enter');
    await bob.page.locator('.message.mentioned .mention-me', { hasText: '@bob' }).waitFor();
    await expectMessage(alice.page, 'secret plan for @bob');
    assert.ok(!outgoing.all().includes('secret plan'), 'the text left encrypted');
  });

  await t.test('in a direct message, the two of us are suggested', async () => {
    await alice.page.getByRole('button', { name: 'New direct message' }).click();
    await alice.page.getByLabel('Find a person').fill('bob');
    await alice.page.getByRole('button', { name: 'Message bob' }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'bob' }).waitFor();
    const composer = alice.page.locator('#composer-input');
    await composer.pressSequentially('@');
    await composer.pressSequentially('i');
    await alice.page.getByRole('listbox', { name: 'People to mention' }).waitFor();
    assert.deepEqual(await mentionOptions(alice.page), ['alice'], 'only the two of us: "i" is in alice alone');
    await composer.press('Backspace');
    await composer.pressSequentially('b');
    assert.deepEqual(await mentionOptions(alice.page), ['bob']);
    await composer.press('Enter');
    assert.equal(await composer.inputValue(), '@bob ');
    await composer.pressSequentially('are you there?');
    await composer.press('Enter');
    await bob.page.getByRole('navigation', { name: 'Rooms and direct messages' }).getByRole('link', { name: /alice/ }).click();
    await bob.page.locator('.message.mentioned .mention-me', { hasText: '@bob' }).waitFor();
  });
});

test('my own send scrolls to the bottom; others’ messages while I am scrolled up show a pill', async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  try {
    // A room of their own, with enough history to scroll.
    await alice.page.getByRole('button', { name: 'New room' }).click();
    await alice.page.getByLabel('Room name').fill('Scroll Pill');
    await alice.page.getByRole('button', { name: 'Create room' }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
    await waitOnline(alice.page);
    for (let i = 1; i <= 15; i += 1) await send(alice.page, `history ${i}\nsecond line\nthird line`);
    await expectMessage(alice.page, 'history 15');

    await bob.page.getByRole('button', { name: 'Browse rooms' }).click();
    await bob.page.getByLabel('Search public rooms').fill('Scroll Pill');
    await bob.page.getByRole('button', { name: 'Join Scroll Pill' }).click();
    await bob.page.getByRole('heading', { level: 1, name: 'general' }).waitFor();
    await waitOnline(bob.page);
    await expectMessage(bob.page, 'history 15');
    await waitAtBottom(bob.page);

    // bob reads back; alice writes twice.
    await scrollToTop(bob.page);
    const pill = bob.page.getByRole('button', { name: /new message/ });
    await send(alice.page, 'while you were away 1');
    await send(alice.page, 'while you were away 2');
    await expectMessage(bob.page, 'while you were away 2');
    await pill.filter({ hasText: '2 new messages' }).waitFor();
    assert.ok((await distanceFromBottom(bob.page)) > 200, 'bob stays where he was reading');
    assert.equal(await pill.evaluate((el) => el.closest('[aria-live="polite"]') !== null), true, 'the pill is announced politely');
    await expectNoAxeViolations(bob.page, '.channel');
    // On a phone too, where it fits across without anything scrolling sideways.
    await bob.page.setViewportSize({ width: 390, height: 780 });
    await expectNoSidewaysScroll(bob.page, 'with the pill at 390×780');
    const box = await pill.boundingBox();
    assert.ok(box !== null && box.x >= 0 && box.x + box.width <= 390, 'the pill is within the screen');

    // The pill takes him down, and goes.
    await pill.click();
    await pill.waitFor({ state: 'detached' });
    await waitAtBottom(bob.page);

    // Scrolling down by himself takes it away too.
    await scrollToTop(bob.page);
    await send(alice.page, 'one more');
    await pill.filter({ hasText: '1 new message' }).waitFor();
    await bob.page.locator('.messages').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await pill.waitFor({ state: 'detached' });

    // His own send, while scrolled up, takes him to the bottom, where it shows.
    await scrollToTop(bob.page);
    await send(bob.page, 'bob writes from up here');
    await expectMessage(bob.page, 'bob writes from up here');
    await waitAtBottom(bob.page);
    assert.equal(await pill.count(), 0);
    const last = bob.page.locator('.message[data-message-id]').last();
    assert.match(await last.innerText(), /bob writes from up here/);
    assert.ok(await last.isVisible());
  } finally {
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});

test('the composer grows with its text up to about 40% of the window, then scrolls; it shrinks after sending', async () => {
  const alice = await signIn(suite, 'alice');
  try {
    await openChannel(alice.page, 'Lobby', 'general');
    const composer = alice.page.locator('#composer-input');
    const size = () =>
      composer.evaluate((el) => ({ height: el.offsetHeight, client: el.clientHeight, scroll: el.scrollHeight, line: parseFloat(getComputedStyle(el).lineHeight) }));
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 390, height: 780 },
    ]) {
      const where = `at ${viewport.width}×${viewport.height}`;
      await alice.page.setViewportSize(viewport);
      await composer.waitFor();
      const empty = await size();

      await composer.fill(['one', 'two', 'three', 'four', 'five', 'six'].join('\n'));
      const six = await size();
      assert.ok(six.scroll <= six.client + 1, `all 6 lines show ${where} (${six.scroll} > ${six.client})`);
      assert.ok(six.client >= 6 * six.line, `6 lines tall ${where}`);
      await expectNoSidewaysScroll(alice.page, where);

      await composer.fill(Array.from({ length: 60 }, (_, i) => `line ${i + 1}`).join('\n'));
      const full = await size();
      assert.ok(full.height <= viewport.height * 0.4 + 1 && full.height >= viewport.height * 0.35, `about 40% of the height ${where}: ${full.height}`);
      assert.ok(full.scroll > full.client, `it scrolls inside ${where}`);
      await expectNoSidewaysScroll(alice.page, where);
      await expectNoAxeViolations(alice.page, '.channel');

      await composer.press('Enter');
      await expectMessage(alice.page, 'line 60');
      await alice.page.waitForFunction((height) => document.querySelector('#composer-input').offsetHeight <= height, empty.height);
      await waitAtBottom(alice.page);
    }
  } finally {
    assert.deepEqual(await alice.close(), []);
  }
});
