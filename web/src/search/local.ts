// The local search index's life in this page: opened once the E2EE core is
// ready (its key derived by the core from this device's secret key, imported
// into WebCrypto), fed by the engine's decryptions and the store's edits,
// deletions and arrivals, filled by the backfill, closed when the person
// signs out; deleted with its database on logging out and when this browser
// was revoked as a device.

import { effect, signal } from '@preact/signals';
import type { Message } from '../api/messages.ts';
import { identityStatus, keysEpoch, readForIndex, searchIndexKey } from '../e2ee/engine.ts';
import { hasDisappeared, me, rooms } from '../chat/store.ts';
import { expiriesOf } from '../disappearing/glue.ts';
import { Backfill } from './backfill.ts';
import { IndexDb } from './db.ts';
import { type Readable, setSearchHooks } from './hooks.ts';
import { LocalIndex } from './index.ts';
import { toIndexed } from './indexed.ts';
import { importIndexKeys } from './keys.ts';

export type IndexState = { kind: 'off' } | { kind: 'opening' } | { kind: 'ready' } | { kind: 'error'; message: string };

export const indexState = signal<IndexState>({ kind: 'off' });

let index: LocalIndex | null = null;
let backfill: Backfill | null = null;
let openFor: number | null = null;
/** Bumped on every close: an open that finishes after it is thrown away. */
let generation = 0;
let retry: ReturnType<typeof setTimeout> | null = null;

/** The open index, or null (not signed in, keys not ready, or encryption off). */
export function localIndex(): LocalIndex | null {
  return index;
}

/** The backfill, or null while the index is not open. */
export function localBackfill(): Backfill | null {
  return backfill;
}

function encryptedChannel(channelId: number): boolean {
  return rooms.value.some((r) => r.channels.some((c) => c.id === channelId && c.is_encrypted));
}

/** The messages among `messages` whose disappearing time has come (or that disappeared in this page). */
function disappeared(messages: readonly Message[]): Set<number> {
  const out = new Set<number>();
  const at = Date.now();
  for (const channelId of new Set(messages.map((m) => m.channel_id))) {
    const times = expiriesOf(
      channelId,
      messages.filter((m) => m.channel_id === channelId),
    );
    for (const [id, expiry] of times) if (hasDisappeared(id) || (expiry !== null && expiry <= at)) out.add(id);
  }
  return out;
}

function take(messages: readonly Message[], results: Readonly<Record<number, Readable>>): void {
  const target = index;
  if (target === null) return;
  // A message past its disappearing time is never indexed (and leaves the index if it was).
  const expired = disappeared(messages);
  const records = messages.flatMap((m) => (encryptedChannel(m.channel_id) && !expired.has(m.id) ? (toIndexed(m, results[m.id]) ?? []) : []));
  void target.add(records).catch(() => undefined);
  if (expired.size > 0) void target.remove([...expired]).catch(() => undefined);
}

/** Reads a message that arrived or changed while its channel may not be on screen, and indexes it. */
function readAndTake(message: Message): void {
  if (index === null || !encryptedChannel(message.channel_id)) return;
  void readForIndex([message])
    .then((results) => take([message], results))
    .catch(() => undefined);
}

function close(): void {
  generation++;
  if (retry !== null) clearTimeout(retry);
  retry = null;
  setSearchHooks(null);
  backfill?.stop();
  backfill = null;
  index?.close();
  index = null;
  openFor = null;
  indexState.value = { kind: 'off' };
}

async function openIndex(userId: number): Promise<void> {
  const mine = ++generation;
  openFor = userId;
  indexState.value = { kind: 'opening' };
  try {
    const keys = await importIndexKeys(searchIndexKey());
    const opened = await LocalIndex.open(userId, keys);
    if (mine !== generation) {
      opened.close();
      return;
    }
    index = opened;
    setSearchHooks({
      decrypted: take,
      edited: readAndTake,
      arrived: readAndTake,
      deleted: (id) => void opened.remove([id]).catch(() => undefined),
    });
    backfill = new Backfill(opened, userId, () => rooms.value.flatMap((r) => r.channels));
    indexState.value = { kind: 'ready' };
    await backfill.start();
  } catch (err) {
    if (mine !== generation) return;
    openFor = null;
    // The core refuses the key until this browser is one of the person's devices (set up at start): try again shortly.
    indexState.value = { kind: 'error', message: err instanceof Error ? err.message : String(err) };
    retry = setTimeout(() => {
      retry = null;
      const user = me.value;
      if (user !== null && identityStatus.value.kind === 'ready' && openFor === null) void openIndex(user.id);
    }, 15_000);
  }
}

/** Deletes `userId`'s whole index database (logging out). */
export async function wipeLocalIndex(userId: number): Promise<void> {
  if (openFor === userId) close();
  await IndexDb.remove(userId);
}

effect(() => {
  const user = me.value;
  const status = identityStatus.value;
  if (user === null) {
    if (openFor !== null) close();
    return;
  }
  if (status.kind === 'needs-restore' && status.revoked === true) {
    // This browser was removed from the person's devices: it forgets what it decrypted.
    close();
    void IndexDb.remove(user.id).catch(() => undefined);
    return;
  }
  if (status.kind === 'ready' && openFor !== user.id) {
    if (openFor !== null) close();
    void openIndex(user.id);
  }
});

// New or newly joined encrypted channels (the room list loaded or changed): the backfill takes them in.
effect(() => {
  const list = rooms.value;
  if (list.length > 0) backfill?.catchUp();
});

// Keys arrived: messages the backfill read without them are read again.
effect(() => {
  if (keysEpoch.value > 0) backfill?.keysArrived();
});
