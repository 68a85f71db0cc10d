// "Export my data" from the Account page against the real server: a wrong
// password is refused with a clear message, the right one downloads a zip
// that an independent reader (Python's zipfile, which checks every CRC)
// opens, holding the message just sent; axe on the card. A room's owner
// exports the room from its settings: the zip holds the room and a page
// per plaintext channel, with every text escaped.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { openChannel, send, signIn } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';
import { readDownloadedZip } from './lib/zip.mjs';

const suite = browserSuite();

test('alice exports her data from the Account page: a wrong password is refused, the zip holds what she sent', async (t) => {
  const alice = await signIn(suite, 'alice');
  t.after(() => alice.close());
  const { page } = alice;
  const text = `export me ${Date.now()} 你好`;
  await openChannel(page, 'Lobby', 'general');
  await send(page, text);
  await page.locator('.message', { hasText: text }).first().waitFor();

  await page.goto('/account');
  const card = page.locator('section', { has: page.getByRole('heading', { name: 'Export my data' }) });
  await card.getByLabel('Confirm with your password').waitFor();
  await expectNoAxeViolations(page);

  await card.getByRole('button', { name: 'Export my data' }).click();
  await card.getByRole('alert').filter({ hasText: 'Enter your current password to export your data.' }).waitFor();
  await card.getByLabel('Confirm with your password').fill('not-her-password');
  await card.getByRole('button', { name: 'Export my data' }).click();
  await card.getByRole('alert').filter({ hasText: 'That password is wrong.' }).waitFor();

  await card.getByLabel('Confirm with your password').fill('password123');
  const [download] = await Promise.all([page.waitForEvent('download'), card.getByRole('button', { name: 'Export my data' }).click()]);
  assert.equal(download.suggestedFilename(), 'securechat-export-alice.zip');
  await card.getByText('Your archive is downloaded.').waitFor();
  assert.equal(await card.getByLabel('Confirm with your password').inputValue(), '', 'the password is not kept in the form');

  const listed = await readDownloadedZip(t, download, [
    'print(json.dumps({"names": z.namelist(), "messages": json.loads(z.read("messages.json")), "account": json.loads(z.read("account.json"))}))',
  ]);
  assert.ok(listed.names.includes('reactions.json') && listed.names.includes('files.json'), listed.names.join(', '));
  assert.equal(listed.account.account.username, 'alice');
  assert.ok(
    listed.messages.some((m) => m.content === text && m.room_name === 'Lobby' && m.channel_name === 'general'),
    'the message just sent is in messages.json',
  );
  assert.deepEqual(alice.problems, []);
});

test('alice exports Project X from its settings: a zip with the room, a readable page per plaintext channel, escaped', async (t) => {
  const alice = await signIn(suite, 'alice');
  t.after(() => alice.close());
  const { page } = alice;
  const text = `<i>room export</i> ${Date.now()}`;
  await openChannel(page, 'Project X', 'general');
  await send(page, text);
  await page.locator('.message', { hasText: text }).first().waitFor();

  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Room settings' });
  const section = dialog.locator('section', { has: page.getByRole('heading', { name: 'Export this room' }) });
  await section.getByLabel('Confirm with your password').waitFor();
  await expectNoAxeViolations(page);
  await section.getByLabel('Confirm with your password').fill('not-her-password');
  await section.getByRole('button', { name: 'Export this room' }).click();
  await section.getByRole('alert').filter({ hasText: 'That password is wrong.' }).waitFor();
  await section.getByLabel('Confirm with your password').fill('password123');
  const [download] = await Promise.all([page.waitForEvent('download'), section.getByRole('button', { name: 'Export this room' }).click()]);
  await section.getByText("The room's archive is downloaded.").waitFor();

  const listed = await readDownloadedZip(t, download, [
    'room = json.loads(z.read("room.json"))',
    'general = next(c for c in room["channels"] if c["name"] == "general")',
    'page = z.read(general["messages"].replace(".json", ".html")).decode()',
    'print(json.dumps({"room": room["room"]["name"], "page": page, "index": z.read("index.html").decode()}))',
  ]);
  assert.equal(listed.room, 'Project X');
  assert.ok(listed.page.includes(text.replace('<i>', '&lt;i&gt;').replace('</i>', '&lt;/i&gt;')), 'the message, escaped');
  assert.ok(!listed.page.includes('<i>room export'), 'never as markup');
  assert.ok(listed.index.includes('#general'));

  // The exported page opens in the browser as a plain document.
  const viewer = await alice.context.newPage();
  await viewer.setContent(listed.page);
  await viewer.getByText(text).first().waitFor();
  await viewer.close();
  assert.deepEqual(alice.problems, []);
});
