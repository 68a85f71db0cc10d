// Whether the person has a key backup on the server, and what the UI does
// with it: make or replace it, and test a passphrase against it.
//
// The backup is the identity sealed under the recovery passphrase (see
// engine.ts); without one, a second browser cannot read earlier encrypted
// messages. So the reminder to make one comes back on every page load until
// one exists. Testing a passphrase opens the fetched blob here, in the
// browser: the passphrase is never sent anywhere.

import { effect, signal } from '@preact/signals';
import { describeError, UserFacingError } from '../api/errors.ts';
import { apiRequest } from '../api/http.ts';
import { authenticated, loginPassword } from '../state/session.ts';
import { debounce } from './debounce.ts';
import { language, t } from '../i18n/index.ts';
import { backupKind, backupOpens, E2eeError, identityStatus, newRecoveryKey, onStateChanged, restoreFromBackup, saveBackup, uploadBackupUpdate } from './engine.ts';

/** `unknown` until the server answered (or when it could not be asked). */
export type BackupState = 'unknown' | 'none' | 'stored';

/** How long after the last change of pins or log heads the backup is sealed again and uploaded. */
export const UPDATE_DELAY_MS = 2000;
/** The lowest strength score (0–4, zxcvbn) a recovery passphrase may have. */
export const MIN_SCORE = 3;
/** How many words of a new recovery key the person types back. */
export const CONFIRM_COUNT = 2;

/** The shortest recovery passphrase the UI accepts (the crypto crate's minimum). */
export const MIN_PASSPHRASE = 8;

export const backupState = signal<BackupState>('unknown');
/** When the stored backup was written (RFC 3339), when the server said. */
export const backupUpdatedAt = signal<string | null>(null);
/** Which secret the stored backup asks for; null when none is stored or it is not known. */
export const storedKind = signal<'recovery_key' | 'passphrase' | null>(null);
/** Why the backup state could not be loaded, worded for people; null when it could. */
export const backupProblem = signal<string | null>(null);
/** "Later" on the reminder: hidden for this page load only. */
export const reminderSnoozed = signal(false);

interface StoredBackup {
  backup: string | null;
  updated_at?: string | null;
}

/** The stored backup, or null when there is none. */
async function fetchBackup(): Promise<{ backup: string; updated_at: string | null } | null> {
  const stored = await authenticated(() => apiRequest<StoredBackup>('GET', '/api/users/me/key_backup'));
  return stored.backup === null ? null : { backup: stored.backup, updated_at: stored.updated_at ?? null };
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
    storedKind.value = stored === null ? null : kindOf(stored.backup);
    backupProblem.value = null;
  } catch (err) {
    if (mine !== generation) return;
    backupState.value = 'unknown';
    backupProblem.value = describeError(err);
  }
}

function kindOf(blob: string): 'recovery_key' | 'passphrase' | null {
  try {
    return backupKind(blob);
  } catch {
    return null;
  }
}

function markStored(kind: 'recovery_key' | 'passphrase'): void {
  generation += 1;
  storedKind.value = kind;
  backupState.value = 'stored';
  backupUpdatedAt.value = new Date().toISOString();
  backupProblem.value = null;
}

/** Seals this browser's identity under `passphrase` and stores it, replacing any earlier backup. */
export async function makeBackup(passphrase: string): Promise<void> {
  await saveBackup(passphrase);
  markStored('passphrase');
}

/**
 * A new recovery key waiting for the person to confirm they saved it: its
 * words, which to type back (0-based), the upload, and whether the backup
 * sealed under it is already stored.
 */
export interface PendingKey {
  words: readonly string[];
  positions: readonly number[];
  store: () => Promise<void>;
  stored: boolean;
}

/** The recovery key shown now, in memory only; null when none is waiting. */
export const pendingKey = signal<PendingKey | null>(null);

/**
 * Makes a new recovery key and shows its words. A first backup is uploaded
 * only once they are confirmed. A replacement is uploaded at once: the core
 * now keeps the new key (and would seal every update under it), so the
 * stored backup must be under it too; if that upload fails, the words are
 * shown anyway and confirming them uploads it.
 */
export async function startRecoveryKey(): Promise<void> {
  const { words, store } = newRecoveryKey();
  const list = normalizeWords(words).split(' ');
  const pending: PendingKey = { words: list, positions: confirmPositions(list.length, CONFIRM_COUNT), store, stored: false };
  pendingKey.value = pending;
  if (backupState.value === 'stored') {
    await store();
    markStored('recovery_key');
    if (pendingKey.value === pending) pendingKey.value = { ...pending, stored: true };
  }
}

/**
 * Checks the typed-back words against the pending key; on a match stores
 * the backup (unless it is already) and forgets the words. Returns the
 * problem, worded for people, or null when the backup is stored.
 */
export async function confirmRecoveryKey(typed: readonly string[]): Promise<string | null> {
  const pending = pendingKey.value;
  if (pending === null) return t('backup.noPending');
  const wrong = confirmationProblem(pending.words, pending.positions, typed);
  if (wrong !== null) return wrong;
  if (!pending.stored) await pending.store();
  pendingKey.value = null;
  markStored('recovery_key');
  return null;
}

/** Drops a pending first key without storing it (its words are forgotten); a stored one must be confirmed. */
export function abandonRecoveryKey(): void {
  if (pendingKey.value?.stored === false && backupState.value !== 'stored') pendingKey.value = null;
}

/**
 * The recovery key's words as the core reads them (docs/PROTOCOL.md §8):
 * lower case, one space apart; line breaks, commas and semicolons separate
 * words, and the numbering of a copied list ("1." "2)") is dropped.
 */
export function normalizeWords(input: string): string {
  return input
    .normalize('NFKC')
    .toLowerCase()
    .split(/[\s,;]+/)
    .map((word) => word.replace(/^[\d.)]+|[\d.)]+$/g, ''))
    .filter((word) => word !== '')
    .join(' ');
}

/** `count` distinct positions among `length`, in increasing order, drawn with the browser's CSPRNG. */
export function confirmPositions(length: number, count: number, random: (n: number) => number = randomBelow): number[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, length)) chosen.add(random(length));
  return [...chosen].sort((a, b) => a - b);
}

function randomBelow(n: number): number {
  const buf = new Uint32Array(1);
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  for (;;) {
    crypto.getRandomValues(buf);
    const value = buf[0] ?? 0;
    if (value < limit) return value % n;
  }
}

/** Whether `typed` (one entry per position asked) matches the key's words; the problem, worded for people, or null. */
export function confirmationProblem(words: readonly string[], positions: readonly number[], typed: readonly string[]): string | null {
  for (const [i, position] of positions.entries()) {
    const given = normalizeWords(typed[i] ?? '');
    if (given === '') return t('backup.typeWord', { n: position + 1 });
    if (given !== words[position]) return t('backup.wordMismatch', { n: position + 1 });
  }
  return null;
}

/** What the strength meter shows: the score (0–4), and the estimator's warning and suggestions. */
export interface Strength {
  score: 0 | 1 | 2 | 3 | 4;
  warning: string | null;
  suggestions: readonly string[];
}

type Estimator = (passphrase: string) => Strength;
let estimator: Promise<Estimator> | null = null;

/** The zxcvbn estimator with the common and English dictionaries, loaded on first use (they are large). */
export function loadEstimator(): Promise<Estimator> {
  estimator ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]).then(([core, common, en]) => {
    const zxcvbn = new core.ZxcvbnFactory({
      translations: en.translations,
      graphs: common.adjacencyGraphs,
      dictionary: { ...common.dictionary, ...en.dictionary },
    });
    return (passphrase: string) => {
      const result = zxcvbn.check(passphrase);
      return { score: result.score, warning: result.feedback.warning, suggestions: result.feedback.suggestions };
    };
  });
  return estimator;
}

/**
 * Why a new passphrase may not seal the backup, worded for people; null when
 * it may. `strength` is the estimator's answer for `passphrase`; `password`
 * the login password typed in this page's life (null when unknown).
 */
export function strengthProblem(passphrase: string, strength: Strength, password: string | null): string | null {
  if (password !== null && passphrase.normalize('NFC') === password.normalize('NFC')) {
    return t('backup.loginPassword');
  }
  if (strength.score < MIN_SCORE) {
    // The estimator's feedback exists in English only: other languages get the general advice.
    const why = language.value === 'en' ? [strength.warning, ...strength.suggestions].filter((part): part is string => part !== null && part !== '') : [];
    return why.length > 0 ? t('backup.tooEasyWhy', { why: why.join(' ') }) : t('backup.tooEasy');
  }
  return null;
}

/** Checks a new passphrase (typed twice) for length, match, strength and the login password; the problem, or null. */
export async function newPassphraseProblem(passphrase: string, confirmation: string): Promise<string | null> {
  const basic = passphraseProblem(passphrase, confirmation);
  if (basic !== null) return basic;
  const estimate = await loadEstimator();
  return strengthProblem(passphrase, estimate(passphrase), loginPassword());
}

/** Restores from the stored backup with the recovery key's words (any spacing and case) or the passphrase. */
export async function restoreWith(secret: string, kind: 'recovery_key' | 'passphrase'): Promise<void> {
  await restoreFromBackup(kind === 'recovery_key' ? normalizeWords(secret) : secret);
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
    throw new UserFacingError(t('backup.noneStored'));
  }
  if (backupKind(stored.backup) === 'recovery_key') {
    // Mistyped words are refused with what to fix (which word), not a bare no.
    try {
      return backupOpens(stored.backup, normalizeWords(passphrase));
    } catch (err) {
      if (err instanceof E2eeError && !err.code.startsWith('recovery_key')) return false;
      throw err;
    }
  }
  try {
    return backupOpens(stored.backup, passphrase);
  } catch {
    return false;
  }
}

/** Seals the backup again and uploads it, when pins or log heads changed and a backup is stored. */
async function keepUpToDate(): Promise<void> {
  if (backupState.value !== 'stored' || identityStatus.value.kind !== 'ready') return;
  // A new key whose replacement upload failed: the stored backup is under the
  // old secret, so nothing is sealed under the new one until it is confirmed.
  if (pendingKey.value !== null && !pendingKey.value.stored) return;
  if (await uploadBackupUpdate()) backupUpdatedAt.value = new Date().toISOString();
}

/** A backup is never more than this behind while changes keep coming (a burst of messages, keys arriving). */
const UPDATE_MAX_DELAY_MS = 5000;

export const backupUpdater = debounce(keepUpToDate, UPDATE_DELAY_MS, UPDATE_MAX_DELAY_MS);
onStateChanged(() => backupUpdater.schedule());

/** A problem with a new passphrase typed twice, worded for people; null when it is fine. */
export function passphraseProblem(passphrase: string, confirmation: string): string | null {
  if (passphrase.length < MIN_PASSPHRASE) return t('backup.tooShort', { min: MIN_PASSPHRASE });
  if (passphrase !== confirmation) return t('backup.passphraseMismatch');
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
    storedKind.value = null;
  } else if (status.kind === 'ready' || status.kind === 'needs-restore') {
    void refreshBackupState();
  } else if (status.kind === 'off') {
    generation += 1;
    backupState.value = 'unknown';
    backupUpdatedAt.value = null;
    backupProblem.value = null;
    storedKind.value = null;
    reminderSnoozed.value = false;
    pendingKey.value = null;
    backupUpdater.cancel();
  }
});
