// A room's encrypted channels exported decrypted in the owner's browser,
// against the real server (demo data: Project X / secrets, alice owner, bob
// admin): both sides' messages are in the zip, readable by an independent
// reader (Python's zipfile) and on a script-free page, and none of the text
// goes out in any request while it is made. Axe on the dialog.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectNoAxeViolations } from './lib/axe.mjs';
import { cast, expectMessage, openChannel, send } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';
import { readDownloadedZip } from './lib/zip.mjs';

const suite = browserSuite();

test('alice exports Project X’s encrypted channel decrypted in her browser: the text is in the zip, never in a request', async (t) => {
  const { open } = cast(suite, t);
  const bob = await open('bob');
  await bob.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  const alice = await open('alice');
  await alice.page.getByRole('heading', { name: 'Back up your encryption keys' }).waitFor();
  const secret = `quokka ledger ${Date.now()}`;
  const reply = `marigold receipt ${Date.now()}`;
  await openChannel(alice.page, 'Project X', 'secrets');
  await openChannel(bob.page, 'Project X', 'secrets');
  await send(alice.page, secret);
  await expectMessage(bob.page, secret);
  await send(bob.page, reply);
  await expectMessage(alice.page, reply);

  const { page } = alice;
  const sentBodies = [];
  page.on('request', (request) => sentBodies.push(`${request.url()} ${request.postData() ?? ''}`));
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Room settings' });
  const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Export encrypted channels, decrypted here' }).click()]);
  await dialog.getByText(/Downloaded \d+ messages; 0 could not be read/).waitFor();
  await expectNoAxeViolations(page);
  assert.ok(!sentBodies.some((b) => b.includes('quokka') || b.includes('marigold')), 'the text never left the browser');

  const read = await readDownloadedZip(t, download, [
    'room = json.loads(z.read("room.json"))',
    'secrets = next(c for c in room["channels"] if c["name"] == "secrets")',
    'lines = json.loads(z.read(secrets["messages"]))',
    'page = z.read(secrets["messages"].replace(".json", ".html")).decode()',
    'print(json.dumps({"texts": [l["text"] for l in lines], "senders": [l["sender_username"] for l in lines], "page": page}))',
  ]);
  assert.ok(read.texts.includes(secret) && read.texts.includes(reply), read.texts.join(' | '));
  assert.ok(read.senders.includes('alice') && read.senders.includes('bob'));
  assert.ok(read.page.includes(secret), 'the page shows it');
  assert.ok(!read.page.includes('<script'), 'no script in the page');
  assert.deepEqual(alice.problems, []);
});
