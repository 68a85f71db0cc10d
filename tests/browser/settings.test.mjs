// Room settings in the UI, against the real server (demo data: in
// Project X alice is the owner, bob an admin, charlie a member). The owner
// renames the room and the others see the new name live; an admin edits
// channels but not the room; a member sees no settings; refusals are shown;
// deleting the room takes its name typed out.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openChannel, signIn } from './lib/chat.mjs';
import { browserSuite } from './lib/suite.mjs';

const suite = browserSuite();

test('the owner renames and deletes the room, an admin edits channels, a member has no settings', async () => {
  const alice = await signIn(suite, 'alice');
  const bob = await signIn(suite, 'bob');
  const charlie = await signIn(suite, 'charlie');
  try {
    await openChannel(alice.page, 'Project X', 'general');
    await openChannel(bob.page, 'Project X', 'general');
    await openChannel(charlie.page, 'Project X', 'general');
    assert.equal(await charlie.page.getByRole('button', { name: 'Settings' }).count(), 0, 'a member has no settings controls');

    // The owner renames the room; bob and charlie see it live.
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    const dialog = alice.page.getByRole('dialog', { name: 'Room settings' });
    await dialog.getByLabel('Room name', { exact: true }).fill('Project Y');
    await dialog.getByLabel('Description').fill('Renamed in the UI');
    await dialog.getByRole('button', { name: 'Save room' }).click();
    await dialog.getByText('Room saved.').waitFor();
    await bob.page.locator('.room-name', { hasText: 'Project Y' }).waitFor();
    await charlie.page.locator('.room-name', { hasText: 'Project Y' }).waitFor();
    await alice.page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    // An admin edits channels but not the room; a refusal is shown as such.
    await bob.page.getByRole('button', { name: 'Settings' }).click();
    const admin = bob.page.getByRole('dialog', { name: 'Room settings' });
    await admin.getByText('Only the owner can rename or delete the room.').waitFor();
    assert.equal(await admin.getByLabel('Room name', { exact: true }).count(), 0);
    assert.equal(await admin.getByRole('button', { name: 'Delete room' }).count(), 0);
    const general = admin.getByRole('form', { name: 'Channel general' });
    await general.getByLabel('Channel name').fill('secrets');
    await general.getByRole('button', { name: 'Save channel' }).click();
    await general.getByRole('alert').waitFor();
    await general.getByLabel('Channel name').fill('planning');
    await general.getByLabel('Topic').fill('What comes next');
    await general.getByRole('button', { name: 'Save channel' }).click();
    // The form is named after the channel, whose new name it now shows.
    await admin.getByRole('form', { name: 'Channel planning' }).getByText('Channel saved.').waitFor();
    await charlie.page.getByRole('heading', { level: 1, name: 'planning' }).waitFor();
    // In the channel's header; the timeline also says that the topic changed.
    await charlie.page.locator('.channel-topic', { hasText: 'What comes next' }).waitFor();
    await bob.page.keyboard.press('Escape');

    // Deleting the room needs its name typed out.
    await alice.page.getByRole('button', { name: 'Settings' }).click();
    const owner = alice.page.getByRole('dialog', { name: 'Room settings' });
    const remove = owner.getByRole('button', { name: 'Delete room' });
    assert.equal(await remove.isDisabled(), true);
    await owner.getByLabel('Type the room name to confirm').fill('Project X');
    assert.equal(await remove.isDisabled(), true);
    await owner.getByLabel('Type the room name to confirm').fill('Project Y');
    await remove.click();
    await charlie.page.getByText('This room was deleted: Project Y.').waitFor();
    await alice.page.locator('.room-name', { hasText: 'Project Y' }).waitFor({ state: 'detached' });
    await bob.page.locator('.room-name', { hasText: 'Project Y' }).waitFor({ state: 'detached' });
  } finally {
    assert.deepEqual(await charlie.close(), []);
    assert.deepEqual(await bob.close(), []);
    assert.deepEqual(await alice.close(), []);
  }
});
