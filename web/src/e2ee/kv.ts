// A small key-value store on IndexedDB, one database per user, for what the
// browser must keep and never send: the E2EE core's state document (identity,
// channel keys, pins, log heads, counters, replay records) and the sealed
// outbox of encrypted channels.

const STORE = 'kv';

export class KeyValue {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(name: string): Promise<KeyValue> {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB is not available'));
    });
    return new KeyValue(db);
  }

  /**
   * Opens `name` only if it exists, for reading: never creates a database
   * or a store (the service worker reads the core's state this way; only
   * the page writes it). Null when there is no such database.
   */
  static async openExisting(name: string): Promise<KeyValue | null> {
    const db = await new Promise<IDBDatabase | null>((resolve, reject) => {
      const request = indexedDB.open(name);
      let created = false;
      request.onupgradeneeded = () => {
        // No such database: opening it would create it; abort instead.
        created = true;
        request.transaction?.abort();
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => (created ? resolve(null) : reject(request.error ?? new Error('IndexedDB is not available')));
    });
    if (db !== null && !db.objectStoreNames.contains(STORE)) {
      db.close();
      return null;
    }
    return db === null ? null : new KeyValue(db);
  }

  private run<T>(mode: IDBTransactionMode, action: (store: IDBObjectStore) => IDBRequest): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const tx = this.db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result as T);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  }

  get<T>(key: string): Promise<T | undefined> {
    return this.run<T | undefined>('readonly', (s) => s.get(key));
  }

  put(key: string, value: unknown): Promise<void> {
    return this.run<unknown>('readwrite', (s) => s.put(value, key)).then(() => undefined);
  }

  /** Every key in the store. */
  keys(): Promise<string[]> {
    return this.run<IDBValidKey[]>('readonly', (s) => s.getAllKeys()).then((keys) => keys.map(String));
  }

  delete(key: string): Promise<void> {
    return this.run<unknown>('readwrite', (s) => s.delete(key)).then(() => undefined);
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Deletes the database `name`. Another tab holding it open delays the
 * deletion until it closes; it still happens, so that counts as done.
 */
export function removeDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = () => resolve();
    request.onblocked = () => resolve();
    request.onerror = () => reject(request.error ?? new Error(`${name} could not be deleted`));
  });
}
