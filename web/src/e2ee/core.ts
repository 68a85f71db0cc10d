// The E2EE client core (crates/securechat-e2ee) as this page runs it: the
// WebAssembly module, the one `Machine` of the signed-in person, and its
// state document in IndexedDB. Every other file of `e2ee/` reaches the core
// through `core(op, args)` and never decides anything the core decides.

import { UserFacingError } from '../api/errors.ts';
import { KeyValue, removeDatabase } from './kv.ts';
import { t } from '../i18n/index.ts';

export type Wasm = typeof import('../../wasm/securechat_e2ee.js');
type CoreMachine = import('../../wasm/securechat_e2ee.js').Machine;

/** A refusal of the encryption layer, worded for the person using the page; `code` is the core's. */
export class E2eeError extends UserFacingError {
  constructor(
    message: string,
    readonly code: string = 'e2ee',
  ) {
    super(message);
  }
}

const STATE_KEY = 'state';

let wasm: Wasm | null = null;
let machine: CoreMachine | null = null;
let kv: KeyValue | null = null;
let saving: Promise<void> = Promise.resolve();
const stateListeners = new Set<() => void>();

/** The WASM module, loaded once. */
export async function loadWasm(): Promise<Wasm> {
  if (wasm !== null) return wasm;
  const module = await import('../../wasm/securechat_e2ee.js');
  await module.default();
  wasm = module;
  return module;
}

/** The loaded WASM module (the crypto crate's functions), or null before `loadWasm`. */
export function loadedWasm(): Wasm | null {
  return wasm;
}

/** The name of `userId`'s key store. */
function storeName(userId: number): string {
  return `securechat-e2ee-${userId}`;
}

/**
 * Deletes `userId`'s key store with every key in it (the account was
 * deleted: nothing in it will ever be needed again). Stop the machine first.
 */
export function removeStore(userId: number): Promise<void> {
  return removeDatabase(storeName(userId));
}

/** Opens `userId`'s key store and returns the saved state document (undefined when there is none). */
export async function openStore(userId: number): Promise<{ store: KeyValue; doc: string | undefined }> {
  const store = await KeyValue.open(storeName(userId));
  kv = store;
  return { store, doc: await store.get<string>(STATE_KEY) };
}

/** Writes a state document (a migration from an older layout). */
export async function writeState(store: KeyValue, doc: string): Promise<void> {
  await store.put(STATE_KEY, doc);
}

/** Starts the machine over `doc` ('' for a new state) for `userId`. */
export function startMachine(module: Wasm, doc: string, userId: number): void {
  machine = new module.Machine(doc, location.origin, userId);
  persist();
}

/** Frees the machine and closes the key store (sign-out, another user). */
export function stopMachine(): void {
  machine?.free();
  machine = null;
  kv?.close();
  kv = null;
}

/** Whether the core runs in this page. */
export function isRunning(): boolean {
  return machine !== null;
}

/** The open key store, for what the shell keeps beside the core's state. */
export function keyStore(): KeyValue | null {
  return kv;
}

/** Runs one operation of the core (JSON in, JSON out); a refusal becomes an E2eeError with the core's code. */
export function core<T>(op: string, args: object = {}): T {
  const m = machine;
  if (m === null) throw new E2eeError(t('e2ee.notSetUp'), 'no_identity');
  let answer: string;
  try {
    answer = m.call(op, JSON.stringify(args));
  } catch (err) {
    throw refusal(err);
  } finally {
    persist();
  }
  return JSON.parse(answer) as T;
}

function refusal(err: unknown): E2eeError {
  if (err instanceof E2eeError) return err;
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : 'e2ee';
  const message = err instanceof Error ? err.message : String(err);
  return new E2eeError(message.charAt(0).toUpperCase() + message.slice(1), code);
}

/** Saves the core's state document when the last operation changed it (writes are queued in order). */
function persist(): void {
  const m = machine;
  const store = kv;
  if (m === null || store === null || !m.takeDirty()) return;
  const doc = m.state();
  saving = saving.then(() => store.put(STATE_KEY, doc)).catch(() => undefined);
  for (const listener of stateListeners) listener();
}

/** Calls `listener` after each change of the core's state (pins and log heads among them); returns the unsubscribe. */
export function onStateChanged(listener: () => void): () => void {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
}

/** Resolves once every state change so far is on disk (a counter is saved before its envelope leaves). */
export function saved(): Promise<void> {
  return saving;
}

/** Seconds since the epoch: the core's clock. */
export function now(): number {
  return Math.floor(Date.now() / 1000);
}
