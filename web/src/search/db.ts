// The IndexedDB database of the local search index, one per person in this
// browser (`securechat-search-<user id>`). It holds nothing readable without
// the index's keys: records and posting lists are AES-GCM ciphertexts, and
// posting lists are filed under blinded tokens (hex HMACs). What stays in
// the clear is what the server knows anyway — message ids as record keys —
// and the shape of the index: how many posting chunks each token has.

import type { Sealed } from './keys.ts';
import { removeDatabase } from '../e2ee/kv.ts';

const RECORDS = 'records';
const POSTINGS = 'postings';
const META = 'meta';
/** The index's format: 1 trigrams only, 2 also each CJK character. */
const VERSION = 3;

/** The database's name for `userId`. */
export function indexDbName(userId: number): string {
  return `securechat-search-${userId}`;
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

function result<T>(request: IDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result as T);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

/** One posting chunk to write: the ids of a batch that contain the token's trigram. */
export interface PostingChunk {
  token: string;
  ids: Sealed;
}

export class IndexDb {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(userId: number): Promise<IndexDb> {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(indexDbName(userId), VERSION);
      request.onupgradeneeded = () => {
        // An index of an earlier version lacks tokens this one looks up
        // (version 2 posts CJK characters; version 3 pairs of them and each
        // message's sender): it starts again, empty, and the backfill
        // rebuilds it.
        const db = request.result;
        for (const name of [...db.objectStoreNames]) db.deleteObjectStore(name);
        db.createObjectStore(RECORDS);
        // Keyed [token, chunk number]: a batch appends chunks, nothing is rewritten.
        db.createObjectStore(POSTINGS);
        db.createObjectStore(META);
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB is not available'));
    });
    // Another tab deleting the database (logging out there) must not wait for this page.
    db.onversionchange = () => db.close();
    return new IndexDb(db);
  }

  /** Deletes the whole database of `userId` (logging out, a revoked device, other keys). */
  static remove(userId: number): Promise<void> {
    return removeDatabase(indexDbName(userId));
  }

  close(): void {
    this.db.close();
  }

  async meta<T>(key: string): Promise<T | undefined> {
    const tx = this.db.transaction(META, 'readonly');
    return result<T | undefined>(tx.objectStore(META).get(key));
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    const tx = this.db.transaction(META, 'readwrite');
    tx.objectStore(META).put(value, key);
    await done(tx);
  }

  /** Writes sealed records and one posting chunk per token, numbered `chunk`, in one transaction. */
  async write(records: readonly { id: number; sealed: Sealed }[], postings: readonly PostingChunk[], chunk: number): Promise<void> {
    const tx = this.db.transaction([RECORDS, POSTINGS, META], 'readwrite');
    const r = tx.objectStore(RECORDS);
    const p = tx.objectStore(POSTINGS);
    for (const { id, sealed } of records) r.put(sealed, id);
    for (const { token, ids } of postings) p.put(ids, [token, chunk]);
    tx.objectStore(META).put(chunk + 1, 'chunk');
    await done(tx);
  }

  async removeRecords(ids: readonly number[]): Promise<void> {
    const tx = this.db.transaction(RECORDS, 'readwrite');
    for (const id of ids) tx.objectStore(RECORDS).delete(id);
    await done(tx);
  }

  /** Every posting chunk of each token (token → its chunks with their numbers). */
  async postings(tokens: readonly string[]): Promise<Map<string, { chunk: number; ids: Sealed }[]>> {
    const tx = this.db.transaction(POSTINGS, 'readonly');
    const store = tx.objectStore(POSTINGS);
    const out = new Map<string, { chunk: number; ids: Sealed }[]>();
    await Promise.all(
      tokens.map(async (token) => {
        const range = IDBKeyRange.bound([token, 0], [token, Number.MAX_SAFE_INTEGER]);
        const [keys, values] = await Promise.all([result<IDBValidKey[]>(store.getAllKeys(range)), result<Sealed[]>(store.getAll(range))]);
        out.set(
          token,
          values.map((ids, i) => ({ chunk: (keys[i] as [string, number])[1], ids })),
        );
      }),
    );
    return out;
  }

  /** The sealed records of `ids` (absent ones left out). */
  async records(ids: readonly number[]): Promise<{ id: number; sealed: Sealed }[]> {
    const tx = this.db.transaction(RECORDS, 'readonly');
    const store = tx.objectStore(RECORDS);
    const found = await Promise.all(ids.map((id) => result<Sealed | undefined>(store.get(id)).then((sealed) => ({ id, sealed }))));
    return found.filter((f): f is { id: number; sealed: Sealed } => f.sealed !== undefined);
  }

  /** Up to `limit` records, newest id first (the scan of a query too short for trigrams). */
  async newest(limit: number): Promise<{ id: number; sealed: Sealed }[]> {
    const tx = this.db.transaction(RECORDS, 'readonly');
    const out: { id: number; sealed: Sealed }[] = [];
    await new Promise<void>((resolve, reject) => {
      const request = tx.objectStore(RECORDS).openCursor(null, 'prev');
      request.onsuccess = () => {
        const cursor = request.result;
        if (cursor === null || out.length >= limit) return resolve();
        out.push({ id: cursor.key as number, sealed: cursor.value as Sealed });
        cursor.continue();
      };
      request.onerror = () => reject(request.error ?? new Error('IndexedDB cursor failed'));
    });
    return out;
  }

  /** How many messages the index holds. */
  async count(): Promise<number> {
    const tx = this.db.transaction(RECORDS, 'readonly');
    return result<number>(tx.objectStore(RECORDS).count());
  }
}
