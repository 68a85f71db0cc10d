// What this browser keeps so the app opens while the server is unreachable:
// who signed in last (localStorage, so the first paint knows it without
// waiting for IndexedDB), and per person an IndexedDB database
// (`securechat-offline-<user id>`) holding their rooms and channels as the
// server last listed them, and the pending messages of plaintext channels.
//
// Pending messages of encrypted channels are never stored here: their
// plaintext is sealed by the E2EE core into its own state (`keepOutbox`,
// crates/securechat-e2ee/src/outbox.rs), which is what the local search
// index's records rely on too — a key that never leaves this browser's
// state. A message whose channel is not known to be plaintext counts as
// encrypted (see `splitOutbox`).
//
// What this protects against: someone reading the browser profile's files
// (a copied disk, a backup) learns no pending message of an encrypted
// channel without also taking the core's state, which holds the key. What it
// does not: anyone who can run script in this origin, or who holds the whole
// profile, can open it, as they can open the E2EE keys themselves; room and
// channel names and plaintext channels' pending messages are stored as they
// are (the server holds them in the clear too). Signing out deletes all of
// it; another person signing in on this browser opens only their own
// database.

import type { User } from '../api/auth.ts';
import type { RoomWithChannels } from '../api/rooms.ts';
import type { PendingMessage } from '../chat/outbox.ts';
import { KeyValue, removeDatabase } from '../e2ee/kv.ts';

const LAST_USER_KEY = 'securechat.lastUser';
/** Where plaintext channels' pending messages were kept before this database existed. */
const LEGACY_OUTBOX_PREFIX = 'securechat.outbox.';
const ROOMS = 'rooms';
const OUTBOX = 'outbox';
/** Most rooms kept (a listing larger than this is cut, the first ones kept). */
const MAX_ROOMS = 1000;

/** The database's name for `userId`. */
export function offlineDbName(userId: number): string {
  return `securechat-offline-${userId}`;
}

/** Remembers who is signed in, so the app can open offline for them. */
export function rememberUser(user: User): void {
  try {
    localStorage.setItem(LAST_USER_KEY, JSON.stringify({ id: user.id, username: user.username, is_admin: user.is_admin }));
  } catch {
    // Storage disabled: the app only opens online.
  }
}

/** Who signed in last on this browser and has not signed out, or null. */
export function lastUser(): User | null {
  try {
    const raw = localStorage.getItem(LAST_USER_KEY);
    if (raw === null) return null;
    const v = JSON.parse(raw) as Record<string, unknown>;
    if (typeof v['id'] !== 'number' || typeof v['username'] !== 'string' || typeof v['is_admin'] !== 'boolean') return null;
    return { id: v['id'], username: v['username'], is_admin: v['is_admin'] };
  } catch {
    return null;
  }
}

/** Forgets who signed in last (the session ended or they signed out). */
export function forgetLastUser(): void {
  try {
    localStorage.removeItem(LAST_USER_KEY);
  } catch {
    // Nothing stored.
  }
}

/** Whether a stored value is a pending message (storage is input: checked, not trusted). */
export function isPending(value: unknown): value is PendingMessage {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['client_msg_id'] === 'string' && typeof v['channel_id'] === 'number' && typeof v['content'] === 'string' && typeof v['created_at'] === 'string';
}

/**
 * Splits the outbox by where each message may be kept: `plain` only when its
 * channel is listed and not encrypted (a channel this browser saw encrypted
 * is listed encrypted, see the store); everything else is `sealed`, so a
 * message whose channel is not known yet is never stored readable.
 */
export function splitOutbox(items: readonly PendingMessage[], channels: readonly { id: number; is_encrypted: boolean }[]): { plain: PendingMessage[]; sealed: PendingMessage[] } {
  const plaintext = new Set(channels.filter((c) => !c.is_encrypted).map((c) => c.id));
  return { plain: items.filter((item) => plaintext.has(item.channel_id)), sealed: items.filter((item) => !plaintext.has(item.channel_id)) };
}

function isRoom(value: unknown): value is RoomWithChannels {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['id'] === 'number' && typeof v['name'] === 'string' && Array.isArray(v['channels']);
}

/** One person's offline database. Writes are applied in the order they were asked for. */
export class OfflineCache {
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: KeyValue,
    readonly userId: number,
  ) {}

  static async open(userId: number): Promise<OfflineCache> {
    return new OfflineCache(await KeyValue.open(offlineDbName(userId)), userId);
  }

  /** Deletes `userId`'s database and any outbox kept the older way (signing out). */
  static remove(userId: number): Promise<void> {
    try {
      localStorage.removeItem(LEGACY_OUTBOX_PREFIX + String(userId));
    } catch {
      // Nothing stored.
    }
    return removeDatabase(offlineDbName(userId));
  }

  close(): void {
    this.store.close();
  }

  private queue(write: () => Promise<void>): Promise<void> {
    const run = this.writing.then(write);
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** The rooms as last listed online, or null when none were kept. */
  async rooms(): Promise<RoomWithChannels[] | null> {
    const kept = await this.store.get<unknown>(ROOMS);
    return Array.isArray(kept) ? kept.filter(isRoom) : null;
  }

  keepRooms(rooms: readonly RoomWithChannels[]): Promise<void> {
    // IndexedDB stores a copy (structured clone), taken when the write runs.
    const kept = rooms.slice(0, MAX_ROOMS);
    return this.queue(() => this.store.put(ROOMS, kept));
  }

  /**
   * The plaintext channels' pending messages kept here, with those an older
   * version kept in localStorage (moved here, then removed there).
   */
  async outbox(): Promise<PendingMessage[]> {
    const kept = await this.store.get<unknown>(OUTBOX);
    const items = Array.isArray(kept) ? kept.filter(isPending) : [];
    const legacyKey = LEGACY_OUTBOX_PREFIX + String(this.userId);
    try {
      const raw = localStorage.getItem(legacyKey);
      const legacy: unknown = raw === null ? [] : JSON.parse(raw);
      if (Array.isArray(legacy)) {
        const known = new Set(items.map((item) => item.client_msg_id));
        items.push(...legacy.filter(isPending).filter((item) => !known.has(item.client_msg_id)));
      }
      localStorage.removeItem(legacyKey);
    } catch {
      // Unreadable: nothing to move.
    }
    return items;
  }

  /** Replaces the kept plaintext outbox (`items` must be plaintext channels' messages only). */
  keepOutbox(items: readonly PendingMessage[]): Promise<void> {
    const copy = items.map((item) => ({ ...item }));
    return this.queue(() => (copy.length === 0 ? this.store.delete(OUTBOX) : this.store.put(OUTBOX, copy)));
  }
}
