// Whether the person has a key backup on the server, and what the UI does
// with it: make or replace it, and test a passphrase against it.
//
// The backup is the identity sealed under the recovery passphrase (see
// engine.ts); without one, a second browser cannot read earlier encrypted
// messages. So the reminder to make one comes back on every page load until
// one exists. Testing a passphrase opens the fetched blob here, in the
// browser: the passphrase is never sent anywhere.

import { effect, signal } from '@preact/signals';
import { ApiError, describeError, UserFacingError } from '../api/errors.ts';
import { apiRequest } from '../api/http.ts';
import { authenticated } from '../state/session.ts';
import { backupOpens, identityStatus, saveBackup } from './engine.ts';

/** `unknown` until the server answered (or when it could not be asked). */
export type BackupState = 'unknown' | 'none' | 'stored';

/** The shortest recovery passphrase the UI accepts (the crypto crate's minimum). */
export const MIN_PASSPHRASE = 8;

export const backupState = signal<BackupState>('unknown');
/** When the stored backup was written (RFC 3339), when the server said. */
export const backupUpdatedAt = signal<string | null>(null);
/** Why the backup state could not be loaded, worded for people; null when it could. */
export const backupProblem = signal<string | null>(null);
/** "Later" on the reminder: hidden for this page load only. */
export const reminderSnoozed = signal(false);

interface StoredBackup {
  backup: string;
  updated_at?: string;
}

/** The stored backup, or null when there is none (404). */
async function fetchBackup(): Promise<StoredBackup | null> {
  try {
    return await authenticated(() => apiRequest<StoredBackup>('GET', '/api/users/me/key_backup'));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** Answers to older loads are dropped: only the newest one decides. */
let generation = 0;

/** Asks the server whether a backup is stored. */
export async function refreshBackupState(): Promise<void> {
  const mine = ++generation;
  try {
    const stored = await fetchBackup();
    if (mine !== generation) return;
    backupState.value = stored === null ? 'none' : 'stored';
    backupUpdatedAt.value = stored?.updated_at ?? null;
    backupProblem.value = null;
  } catch (err) {
    if (mine !== generation) return;
    backupState.value = 'unknown';
    backupProblem.value = describeError(err);
  }
}

/** Seals this browser's identity under `passphrase` and stores it, replacing any earlier backup. */
export async function makeBackup(passphrase: string): Promise<void> {
  await saveBackup(passphrase);
  generation += 1;
  backupState.value = 'stored';
  backupUpdatedAt.value = new Date().toISOString();
  backupProblem.value = null;
}

/**
 * Whether `passphrase` opens the stored backup. The blob is fetched and
 * opened here; the passphrase never leaves the page. Throws when there is
 * no backup or the server cannot be reached.
 */
export async function testBackup(passphrase: string): Promise<boolean> {
  const stored = await fetchBackup();
  if (stored === null) {
    backupState.value = 'none';
    throw new UserFacingError('No backup is stored for your account. Make one first.');
  }
  try {
    return backupOpens(stored.backup, passphrase);
  } catch {
    return false;
  }
}

/** A problem with a new passphrase typed twice, worded for people; null when it is fine. */
export function passphraseProblem(passphrase: string, confirmation: string): string | null {
  if (passphrase.length < MIN_PASSPHRASE) return `Use at least ${MIN_PASSPHRASE} characters for the passphrase.`;
  if (passphrase !== confirmation) return 'The two passphrases do not match. Type the same passphrase in both fields.';
  return null;
}

// The state follows the identity: loaded when it becomes ready (or needs a
// restore, which is possible only with a backup), forgotten on sign-out.
let seen = '';
effect(() => {
  const status = identityStatus.value;
  const key = status.kind === 'ready' ? `ready:${status.fingerprint}:${status.fresh}` : status.kind;
  if (key === seen) return;
  seen = key;
  if (status.kind === 'ready' && status.fresh) {
    // Keys made here just now: no stored backup can hold them (one made for
    // earlier keys, before starting over, would restore those instead).
    generation += 1;
    backupState.value = 'none';
    backupUpdatedAt.value = null;
    backupProblem.value = null;
  } else if (status.kind === 'ready' || status.kind === 'needs-restore') {
    void refreshBackupState();
  } else if (status.kind === 'off') {
    generation += 1;
    backupState.value = 'unknown';
    backupUpdatedAt.value = null;
    backupProblem.value = null;
    reminderSnoozed.value = false;
  }
});
