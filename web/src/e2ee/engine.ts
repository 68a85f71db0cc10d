// End-to-end encryption in the browser: the I/O shell of the E2EE client
// core (crates/securechat-e2ee), which runs here as WebAssembly and makes
// every decision — which keys to trust, which shares to accept, whom to seal
// a key to, which version to send under and when to make the next one, how
// to show each message (docs/PROTOCOL.md §10, docs/ARCHITECTURE.md).
//
// This file keeps only what the core cannot do itself: talking to the server
// (fetch), keeping the core's state document in IndexedDB (kv.ts), and the
// signals the views read. Nothing here decides whether to trust a share, a
// member, a version or a log entry: it asks the core (`core(...)`) and does
// what the answer says.

import { signal } from '@preact/signals';
import type { User } from '../api/auth.ts';
import { ApiError } from '../api/errors.ts';
import { apiRequest } from '../api/http.ts';
import type { Message } from '../api/messages.ts';
import type { Channel, Member, Room } from '../api/rooms.ts';
import { authenticated } from '../state/session.ts';
import * as keysApi from './api.ts';
import { core, E2eeError, isRunning, keyStore, loadedWasm, loadWasm, now, openStore, saved, startMachine, stopMachine, writeState, type Wasm } from './core.ts';
import * as devices from './devices.ts';
import type { KeyValue } from './kv.ts';
import * as link from './link.ts';
import { t } from '../i18n/index.ts';
import { searchHooks } from '../search/hooks.ts';

export { E2eeError, isRunning, onStateChanged } from './core.ts';

export type IdentityStatus =
  | { kind: 'off' }
  | { kind: 'loading' }
  /** This browser holds the identity; `fresh` when it was just created (offer a backup). */
  | { kind: 'ready'; fingerprint: string; fresh: boolean }
  /**
   * The account has an identity published from another browser: link this
   * one from there, restore it, or start over. `revoked` when this browser
   * was removed from the person's devices (it then forgot its keys).
   */
  | { kind: 'needs-restore'; revoked?: boolean }
  | { kind: 'error'; message: string };

export type Decryption =
  /** `what` is what the sender says the message is (`message`, `edit`, `file`, `resource`); null for the format before 2, which does not say. */
  | { kind: 'text'; text: string; what: string | null }
  | { kind: 'no-key'; version: number }
  | { kind: 'warning'; reason: string; text?: string };

export interface KeyRequest {
  channel_id: number;
  room_id: number;
  requester_id: number;
  requester_username: string;
  request_id: number;
  key_version: number;
}

export interface RotationEvent {
  channel_id: number;
  room_id: number;
  new_version: number;
  reason: string;
  members: { id: number; username: string }[];
  rotator_id?: number | null;
}

export interface ShareEvent {
  channel_id: number;
  encrypted_key: string;
  key_version: number;
  is_key_rotation: boolean;
  sender_id: number;
  /** The device whose prekey it is sealed to (share format 3); absent for a share sealed to the identity. */
  device_id?: number | null;
}

/** A verified membership log, as the core describes it. */
interface LogView {
  room_id: number;
  members: { user_id: number; role: string }[];
  public: boolean;
  length: number;
  /** Channels the signed log registers as encrypted channels of the room. */
  channels: number[];
}

type SendPlan = { kind: 'plain' } | { kind: 'seal'; version: number } | { kind: 'make_version'; version: number; reason: string } | { kind: 'fetch_key'; version: number };

type Shown =
  | { kind: 'deleted' }
  | { kind: 'plain'; text: string }
  | { kind: 'verified'; text: string; sender_id: number; what: string | null; reply_to: number | null }
  | { kind: 'injected'; content: string | null }
  | { kind: 'warning'; code: string; reason: string }
  | { kind: 'need_key'; channel_id: number; version: number }
  | { kind: 'need_bundle'; user_id: number }
  | { kind: 'locked' };

interface OutShare {
  user_id: number;
  channel_id: number;
  key_version: number;
  encrypted_key: string;
  is_key_rotation: boolean;
}

export const identityStatus = signal<IdentityStatus>({ kind: 'off' });
/** Results of checking and decrypting messages, by message id. */
export const decrypted = signal<Readonly<Record<number, Decryption>>>({});
/** Key requests waiting for my approval (I am an admin of their room). */
export const keyRequests = signal<readonly KeyRequest[]>([]);
/** Users whose published bundle differs from the one pinned here. */
export const keyChanges = signal<Readonly<Record<number, true>>>({});
/** Channels for which I asked for the key. */
export const requested = signal<ReadonlySet<number>>(new Set());
/** Bumped whenever a channel key arrives, so undecryptable messages are tried again. */
export const keysEpoch = signal(0);

/** Sending must wait for a key that another member is making or sharing; the outbox tries again. */
export class KeyWait extends E2eeError {
  constructor(message: string) {
    super(message, 'key_wait');
  }
}

/** The backup blob this browser last uploaded or restored from: an update goes up only while the server still holds it. */
const BACKUP_BLOB_KEY = 'backup_blob';
/** Codes of the server that mean "another member is making this version": wait for their key. */
const CLAIMED = new Set(['rotation_taken', 'share_exists', 'stale_key_version', 'key_rotation_pending']);

let me: User | null = null;
let roomOf: (channelId: number) => Room | null = () => null;
/** Whether the chat store has loaded my rooms (before that, `roomOf` knows none). */
let roomsKnown: () => boolean = () => false;
/** Loads my rooms again (a share may name a room I joined since they were loaded). */
let reloadRooms: () => Promise<void> = () => Promise.resolve();
/** Whether this drain of the mailbox has reloaded my rooms already (once per drain is enough). */
let reloadedForDrain = false;
/** Shares wait in the mailbox (unacknowledged) until this page knows their rooms. */
let mailboxWaiting = false;
/** Channels whose listed key version may be stale (the server refused a send): fetched again before the next plan. */
const staleChannels = new Set<number>();
const inFlight = new Set<number>();
/** The envelope each result in `decrypted` was computed from, by message id. */
const checkedEnvelopes = new Map<number, string | null>();

/** The WASM module (the crypto crate's functions: files, backups) and the signed-in user. */
export function requireReady(): { sc: Wasm; me: User } {
  const wasm = loadedWasm();
  if (wasm === null || !isRunning() || me === null || identityStatus.value.kind !== 'ready') {
    throw new E2eeError(t('e2ee.notSetUp'));
  }
  return { sc: wasm, me };
}

/** How the engine finds a channel's room (the chat store's rooms), and whether those rooms are loaded yet. */
export function setRoomLookup(lookup: (channelId: number) => Room | null, loaded: () => boolean, reload: () => Promise<void>): void {
  roomOf = lookup;
  roomsKnown = loaded;
  reloadRooms = reload;
}

/**
 * The chat store loaded or reloaded my rooms: shares that waited in the
 * mailbox for them are accepted now.
 */
export function roomsArrived(): void {
  // A drain under way may have stopped before they came: it runs once more.
  if (mailboxWaiting || syncing !== null) void syncDevice().catch(() => undefined);
}

/** Loads (or creates and publishes) this browser's identity for `user`. */
export async function startE2ee(user: User): Promise<void> {
  if (me?.id === user.id && identityStatus.value.kind !== 'off') return;
  stopE2ee();
  me = user;
  identityStatus.value = { kind: 'loading' };
  try {
    const module: Wasm = await loadWasm();
    const { store, doc: savedDoc } = await openStore(user.id);
    const doc = savedDoc ?? (await migrateV1(store, user.id));
    startMachine(module, doc, user.id);
    if (hasIdentity()) {
      await publishIfDifferent();
      if (!(await becomeDevice())) return;
      setReady(false);
      return;
    }
    const existing = await fetchPublished(user.id);
    if (existing !== null) {
      identityStatus.value = { kind: 'needs-restore' };
      return;
    }
    const { public_key } = core<{ public_key: string }>('create_identity', {});
    await saved();
    await authenticated(() => keysApi.publish(public_key));
    await becomeDevice();
    setReady(true);
  } catch (err) {
    identityStatus.value = { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * The state of a browser that kept its keys before the core existed
 * (one IndexedDB entry per key): the identity, pinned bundles, channel keys
 * and counters move into the core's document; log heads are pinned again on
 * the next verification. '' when there is nothing to move.
 */
async function migrateV1(store: KeyValue, userId: number): Promise<string> {
  const identity = await store.get<string>('identity');
  if (identity === undefined) return '';
  const pins: Record<string, { current: string; accepted: string[] }> = {};
  const keys: Record<string, Record<string, { key: string; obtained_at: number; next_counter: number }>> = {};
  const old = await store.keys();
  for (const name of old) {
    const [kind, a, b] = name.split(':');
    if (kind === 'pin' && a !== undefined) {
      const bundle = await store.get<string>(name);
      if (bundle !== undefined) pins[a] = { current: bundle, accepted: [bundle] };
    } else if (kind === 'key' && a !== undefined && b !== undefined) {
      const stored = await store.get<{ key: string; obtainedAt: number }>(name);
      if (stored === undefined) continue;
      const counter = (await store.get<number>(`counter:${a}:${b}`)) ?? 0;
      keys[a] = { ...(keys[a] ?? {}), [b]: { key: stored.key, obtained_at: stored.obtainedAt, next_counter: counter } };
    }
  }
  const doc = JSON.stringify({ format: 1, server: location.origin, user_id: userId, identity, pins, channel_keys: keys });
  await writeState(store, doc);
  for (const name of old) if (name !== 'state') await store.delete(name);
  return doc;
}

/**
 * Opens this browser's keys without the server (the app opened offline):
 * the core's state is loaded from IndexedDB and, when it holds an identity,
 * counts as ready, so the sealed outbox opens and encrypted channels' pending
 * messages show and can be written. Nothing is sealed for sending here: the
 * chat has no connection in this mode, and once the server answers the chat
 * starts again through `startE2ee`, which checks the published key and the
 * device first.
 */
export async function openE2eeOffline(user: User): Promise<void> {
  stopE2ee();
  me = user;
  const opening = ++offlineOpenings;
  identityStatus.value = { kind: 'loading' };
  try {
    const module: Wasm = await loadWasm();
    const { doc } = await openStore(user.id);
    // Stopped meanwhile (the server answered and the chat started again): that start owns the keys.
    if (opening !== offlineOpenings) return;
    if (doc === undefined || doc === '') {
      stopE2ee();
      return;
    }
    startMachine(module, doc, user.id);
    if (hasIdentity()) setReady(false);
    else stopE2ee();
  } catch (err) {
    identityStatus.value = { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  }
}

/** Bumped by every stop: an offline opening that finishes after one is dropped. */
let offlineOpenings = 0;

export function stopE2ee(): void {
  offlineOpenings++;
  stopMachine();
  if (syncTimer !== null) clearInterval(syncTimer);
  syncTimer = null;
  me = null;
  staleChannels.clear();
  checkedEnvelopes.clear();
  identityStatus.value = { kind: 'off' };
  decrypted.value = {};
  keyRequests.value = [];
  keyChanges.value = {};
  requested.value = new Set();
}

function hasIdentity(): boolean {
  try {
    core('my_bundle');
    return true;
  } catch {
    return false;
  }
}

function setReady(fresh: boolean): void {
  const { fingerprint } = core<{ fingerprint: string }>('my_bundle');
  identityStatus.value = { kind: 'ready', fingerprint, fresh };
}

async function publishIfDifferent(): Promise<void> {
  const { public_key } = core<{ public_key: string }>('my_bundle');
  if (me !== null && (await fetchPublished(me.id)) !== public_key) await authenticated(() => keysApi.publish(public_key));
}

/** The identity `userId` has published, null when none yet (a bot publishes one when it first starts). */
export async function fetchPublished(userId: number): Promise<string | null> {
  try {
    return (await authenticated(() => keysApi.publicKey(userId))).public_key;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** Which secret the backup `blob` asks for. */
export function backupKind(blob: string): 'recovery_key' | 'passphrase' {
  return core<{ kind: 'recovery_key' | 'passphrase' }>('backup_kind', { backup: blob }).kind;
}

/**
 * Restores the identity, pins and log heads from the stored backup with
 * `secret`: the recovery key's words (already normalised) or the passphrase.
 */
export async function restoreFromBackup(secret: string): Promise<void> {
  const blob = await authenticated(() => keysApi.getBackup());
  if (blob === null) throw new E2eeError(t('serverErrors.no_backup'), 'no_backup');
  try {
    core('restore_backup', { backup: blob, passphrase: secret.normalize('NFC') });
    await keyStore()?.put(BACKUP_BLOB_KEY, blob);
  } catch (err) {
    if (err instanceof E2eeError && err.code === 'decryption_failed') {
      throw new E2eeError(
        backupKind(blob) === 'recovery_key' ? t('e2ee.wordsWrong') : t('e2ee.passphraseWrong'),
        err.code,
      );
    }
    throw err;
  }
  await saved();
  await publishIfDifferent();
  await becomeDevice();
  setReady(false);
  decrypted.value = {};
  checkedEnvelopes.clear();
  keysEpoch.value += 1;
}

/** Gives up on the old identity: a new one is published and everyone sees a key change. */
export async function startOver(): Promise<void> {
  const { public_key } = core<{ public_key: string }>('start_over');
  await saved();
  await authenticated(() => keysApi.publish(public_key));
  await becomeDevice();
  setReady(true);
}

interface SealedBackup {
  backup: string;
  digest: string;
  words?: string;
}

/**
 * Backup uploads, one at a time in the order asked: an update sealed under
 * the old key must not reach the server after the backup sealed under a new
 * one (the digest the core compares covers the contents, not the key).
 */
let uploads: Promise<unknown> = Promise.resolve();

function queued<T>(job: () => Promise<T>): Promise<T> {
  const run = uploads.then(job, job);
  uploads = run.catch(() => undefined);
  return run;
}

async function upload(sealed: SealedBackup): Promise<void> {
  await authenticated(() => keysApi.putBackup(sealed.backup));
  core('backup_uploaded', { digest: sealed.digest });
  await saved();
  await keyStore()?.put(BACKUP_BLOB_KEY, sealed.backup);
}

/**
 * Whether the server still holds the backup this browser last uploaded or
 * restored from. When another browser replaced it (a new recovery key or
 * passphrase), this one's kept key may be the old one: an update sealed
 * under it would bring the old secret back, so none is sent.
 */
async function serverHoldsMine(): Promise<boolean> {
  const mine = await keyStore()?.get<string>(BACKUP_BLOB_KEY);
  if (mine === undefined) return false;
  return (await authenticated(() => keysApi.getBackup())) === mine;
}

/** Seals the identity and trust state under a recovery passphrase and stores it on the server. */
export async function saveBackup(passphrase: string): Promise<void> {
  await queued(() => upload(core<SealedBackup>('seal_backup', { passphrase: passphrase.normalize('NFC') })));
  setReady(false);
}

/**
 * Makes a new recovery key; the core keeps the key derived from it. Returns
 * its 12 words (to show once, never stored) and `store`, which uploads the
 * backup sealed under it (after any upload asked for before).
 */
export function newRecoveryKey(): { words: string; store: () => Promise<void> } {
  const sealed = core<SealedBackup>('create_recovery_key');
  if (sealed.words === undefined) throw new E2eeError(t('e2ee.keyNotMade'), 'e2ee');
  return {
    words: sealed.words,
    store: async () => {
      await queued(() => upload(sealed));
      setReady(false);
    },
  };
}

/**
 * Uploads the backup sealed again when pins or log heads changed since the
 * last upload; false when there was nothing to upload (no change, or no
 * backup key kept in this browser). Sealed when its turn comes, so under the
 * key kept then.
 */
export function uploadBackupUpdate(): Promise<boolean> {
  return queued(async () => {
    if (!isRunning() || identityStatus.value.kind !== 'ready') return false;
    const { update } = core<{ update: SealedBackup | null }>('backup_update');
    if (update === null || !(await serverHoldsMine())) return false;
    await upload(update);
    return true;
  });
}

/** Whether `passphrase` opens a stored backup of this account (nothing changes, nothing is sent). */
export function backupOpens(blob: string, passphrase: string): boolean {
  return core<{ opens: boolean }>('test_backup', { backup: blob, passphrase: passphrase.normalize('NFC') }).opens;
}

/**
 * Keeps the pending messages of encrypted channels (JSON text; '' for none)
 * sealed in the core's state, so they survive a reload without their
 * plaintext being stored; false when the keys are not ready (they then wait
 * in memory only).
 */
export function keepOutbox(items: string): boolean {
  if (!isRunning() || identityStatus.value.kind !== 'ready') return false;
  core('keep_outbox', { items });
  return true;
}

/** The pending messages kept by `keepOutbox`, opened ('' for none). */
export function keptOutbox(): string {
  if (!isRunning() || identityStatus.value.kind !== 'ready') return '';
  return core<{ items: string }>('outbox').items;
}

/**
 * Takes in the server's listing of rooms and channels: the core remembers
 * every room listed as a DM and every channel listed as encrypted, and
 * names the channels the server now lists as plaintext although this
 * browser saw them encrypted. Those stay encrypted here.
 */
export function heldEncrypted(rooms: readonly (Room & { channels: readonly { id: number; is_encrypted: boolean }[] })[]): Set<number> {
  // Read first, so an effect calling this runs again once the keys are ready,
  // even when the rooms arrived before them.
  const ready = identityStatus.value.kind === 'ready';
  if (!isRunning() || !ready) return new Set();
  // A room seen as a DM stays one here: its log must hold exactly its two people.
  core('observe_rooms', { rooms: rooms.map(roomFacts) });
  const channels = rooms.flatMap((room) => room.channels);
  const { downgraded } = core<{ downgraded: number[] }>('observe_channels', { channels: channels.map((c) => ({ id: c.id, is_encrypted: c.is_encrypted })) });
  return new Set(downgraded);
}

// ---- this browser as a device ----------------------------------------------

/** When this browser last brought its prekey and mailbox up to date (ms); checked hourly. */
const SYNC_EVERY_MS = 60 * 60 * 1000;
let syncTimer: ReturnType<typeof setInterval> | null = null;
let syncing: Promise<number> | null = null;
let syncAgain = false;

/**
 * Makes this browser one of my devices (it holds the identity) and empties
 * its mailbox; false when a newer device list signed by my identity left it
 * out: the core has then forgotten its keys, and the person is asked to link
 * it again or restore. Other failures leave it as it is until the next start
 * (it then gets keys sealed to my identity, or asks for them).
 */
async function becomeDevice(): Promise<boolean> {
  if (me === null) return false;
  try {
    await devices.setUpDevice(me.id);
  } catch (err) {
    if (err instanceof E2eeError && err.code === 'device_revoked') {
      identityStatus.value = { kind: 'needs-restore', revoked: true };
      return false;
    }
    return true;
  }
  void syncDevice().catch(() => undefined);
  if (syncTimer === null) syncTimer = setInterval(() => void syncDevice().catch(() => undefined), SYNC_EVERY_MS);
  return true;
}

/**
 * Brings this device up to date: channel keys past the retention deleted,
 * a new prekey when the current one is a week old, then every share waiting
 * in its mailbox accepted (or refused by the core) and acknowledged, so the
 * server deletes it. One run at a time;
 * a call during a run makes it run once more. Returns how many keys arrived.
 */
export function syncDevice(): Promise<number> {
  if (!isRunning() || identityStatus.value.kind === 'needs-restore') return Promise.resolve(0);
  if (syncing !== null) {
    syncAgain = true;
    return syncing;
  }
  const run = async (): Promise<number> => {
    let total = 0;
    // Keys past the stated retention (the core's default, a year) are deleted; each channel's newest stays.
    core('forget_old_keys', { now: now() });
    do {
      syncAgain = false;
      await devices.rotatePrekey();
      reloadedForDrain = false;
      const drained = await devices.drainMailbox(acceptFromMailbox);
      total += drained.accepted;
      mailboxWaiting = drained.waiting;
    } while (syncAgain);
    if (total > 0) {
      keysEpoch.value += 1;
      decryptAgain();
    }
    return total;
  };
  syncing = run().finally(() => {
    syncing = null;
  });
  return syncing;
}

/**
 * A share from this device's mailbox. The server deletes what is
 * acknowledged, so a share is dropped only when it is refused for good: by
 * the core (not from a proven member, not for this room...) or because it
 * names a room that my rooms, loaded again, do not hold. Before my rooms are loaded,
 * or when the network or storage failed, it waits for the next drain.
 */
async function acceptFromMailbox(share: devices.MailboxShare): Promise<devices.MailboxOutcome> {
  if (!roomsKnown()) return 'later';
  let room = roomOf(share.channel_id);
  if (room === null && !reloadedForDrain) {
    reloadedForDrain = true;
    await reloadRooms();
    room = roomOf(share.channel_id);
  }
  if (room === null) return 'refused';
  try {
    await acceptShare(share, room);
    return 'accepted';
  } catch (err) {
    return err instanceof E2eeError ? 'refused' : 'later';
  }
}

/** Messages that waited for a key are checked again. */
function decryptAgain(): void {
  const waiting = Object.entries(decrypted.value).filter(([, d]) => d.kind === 'no-key');
  if (waiting.length === 0) return;
  const next = { ...decrypted.value };
  for (const [id] of waiting) delete next[Number(id)];
  decrypted.value = next;
}

/** My devices, as Account → Devices lists them. */
export function myDevices(): Promise<devices.MyDevice[]> {
  if (me === null) return Promise.resolve([]);
  return devices.myDevices(me.id);
}

/**
 * Revokes another device of mine: my identity signs a list without it, and
 * every channel whose keys it could hold gets a new version at once, sealed
 * to everyone else. Returns how many channels were rotated.
 */
export async function revokeDevice(deviceId: number): Promise<number> {
  if (me === null) throw new E2eeError(t('e2ee.notSetUp'), 'no_identity');
  const channels = await devices.revokeDeviceList(me.id, deviceId);
  let rotated = 0;
  for (const channelId of channels) {
    const room = roomOf(channelId);
    const channel = (room as (Room & { channels?: Channel[] }) | null)?.channels?.find((c) => c.id === channelId);
    if (room === null || channel === undefined) continue;
    try {
      const facts = await channelFacts(channel);
      const plan = core<SendPlan>('plan_send', { channel: facts, now: now() });
      if (plan.kind !== 'make_version') continue;
      await makeVersion(channel, room, facts, plan.version, null);
      rotated += 1;
    } catch {
      // Left marked: the next send in it makes the new version.
    }
  }
  return rotated;
}

// ---- linking ----------------------------------------------------------------

export { answerLink, linkUrl, normaliseCode, resumableLink, startLink } from './link.ts';

/** The short string of a link this (new) browser started, once the other device answered. */
export function linkSas(code: string): Promise<string | null> {
  return link.linkSas(code);
}

/** Gives up on a link this browser started. */
export function cancelLink(code: string): Promise<void> {
  return link.closeLink(code);
}

/**
 * On the new browser, after the person saw both strings match: takes the
 * other device's payload (false while it has not come), then acts as the
 * person: publishes this device's prekey and reads what it carried.
 */
export async function finishLink(code: string): Promise<{ pins: number; channels: number } | false> {
  const linked = await link.takePayload(code);
  if (linked === null) return false;
  await becomeDevice();
  setReady(false);
  decrypted.value = {};
  checkedEnvelopes.clear();
  keysEpoch.value += 1;
  return linked;
}

/** On the approving browser: the channels whose keys it holds, by room, for the person to choose from. */
export function carriableChannels(): number[] {
  return link.carriableChannels();
}

/** On the approving browser, after the person saw both strings match. */
export async function approveLink(code: string, channels: readonly number[]): Promise<void> {
  if (me === null) throw new E2eeError(t('e2ee.notSetUp'), 'no_identity');
  await link.approveLink(me.id, code, channels);
}

// ---- whom I trust ---------------------------------------------------------

/** Fetches a user's published bundle and key history for the core to pin or compare; false when they have none. */
async function observe(userId: number): Promise<boolean> {
  const current = await fetchPublished(userId);
  if (current === null) return false;
  const history = await authenticated(() => apiRequest<{ keys: { public_key: string }[] }>('GET', `/api/users/${userId}/public_keys`)).catch(() => ({ keys: [] }));
  try {
    core('observe_bundle', { user_id: userId, public_key: current, history: history.keys.map((k) => k.public_key) });
  } catch {
    // Not a valid bundle for this user: the core keeps the pin it has, if any.
  }
  refreshKeyChanges();
  return true;
}

function refreshKeyChanges(): void {
  const changed = core<number[]>('key_changes');
  keyChanges.value = Object.fromEntries(changed.map((id) => [id, true as const]));
}

async function ensurePinned(userId: number): Promise<void> {
  if (!core<{ pinned: boolean }>('is_pinned', { user_id: userId }).pinned) await observe(userId);
}

/**
 * Accepts a user's new key after a key change warning: exactly the key whose
 * fingerprint (and safety number) the person was shown; refused when the
 * server now offers another one.
 */
export function acceptNewKey(userId: number, shownFingerprint: string): void {
  core('accept_offered', { user_id: userId, fingerprint: shownFingerprint });
  refreshKeyChanges();
  decrypted.value = {};
  checkedEnvelopes.clear();
  keysEpoch.value += 1;
}

/** A server event told us a user published a new bundle. */
export function publicKeyChanged(userId: number): void {
  if (!isRunning()) return;
  if (core<{ pinned: boolean }>('is_pinned', { user_id: userId }).pinned) void observe(userId).catch(() => undefined);
}

/**
 * The safety number of me and `userId`: with the key the server now offers
 * after a change (`offered`: that is the key to compare before accepting
 * it), else with the pinned one.
 */
export async function safetyNumber(userId: number): Promise<{ number: string; mine: string; theirs: string; offered: boolean } | null> {
  if (!(await observe(userId))) return null;
  return core<{ number: string; mine: string; theirs: string; offered: boolean }>('safety_number', { user_id: userId });
}

// ---- the membership log ---------------------------------------------------

function roomFacts(room: Room): { id: number; is_dm: boolean; is_private: boolean; my_role: string | null } {
  return { id: room.id, is_dm: room.kind === 'dm', is_private: room.is_private, my_role: room.my_role };
}

/** The room's log entries as served, with every signer pinned first. */
export async function logEntries(roomId: number): Promise<string[]> {
  const answer = await authenticated(() => apiRequest<{ entries: string[] }>('GET', `/api/rooms/${roomId}/membership_log`));
  for (const signer of core<number[]>('unknown_signers', { room_id: roomId, entries: answer.entries })) {
    await observe(signer).catch(() => false);
  }
  return answer.entries;
}

/** Starts the room's log as its owner (or a DM participant), with the members the server lists, signed here. */
async function startLog(room: Room): Promise<void> {
  const { members } = await authenticated(() => apiRequest<{ members: Member[] }>('GET', `/api/rooms/${room.id}/members`));
  const entries = core<string[]>('start_log', { room: roomFacts(room), members: members.map((m) => ({ user_id: m.user_id, role: m.role })), now: now() });
  try {
    await authenticated(() => apiRequest('POST', `/api/rooms/${room.id}/membership_log`, { entries }));
  } catch (err) {
    // Someone else started it first: theirs is verified instead.
    if (!(err instanceof ApiError && err.code === 'log_exists')) throw err;
  }
}

/** The log entries to share keys by: the log is started first when the room has none and the core says I start it. */
async function entriesForKeys(room: Room): Promise<string[]> {
  const entries = await logEntries(room.id);
  if (entries.length > 0 || !core<{ start: boolean }>('should_start_log', roomFacts(room)).start) return entries;
  await startLog(room);
  return logEntries(room.id);
}

/** Signs one membership change with the core on top of the verified log (`entries`). */
export function signChange(roomId: number, entries: string[], op: string, subject: number | undefined, role: string | undefined): string {
  return core<{ entry: string }>('sign_change', { room_id: roomId, entries, op, subject, role, now: now() }).entry;
}

/**
 * Gets rooms ready for keys: starts the log of every room that needs one and
 * whose log this browser should start (rooms with encrypted channels and
 * DMs, as their owner or a DM participant), and, where I am an owner or
 * admin, registers their encrypted channels in the signed log, so the others
 * can share keys there without waiting.
 */
export async function prepareRooms(rooms: readonly (Room & { channels: Channel[] })[]): Promise<void> {
  if (!isRunning() || identityStatus.value.kind !== 'ready') return;
  for (const room of rooms) {
    const encrypted = room.channels.filter((c) => c.is_encrypted);
    if (room.kind !== 'dm' && encrypted.length === 0) continue;
    try {
      let entries = await logEntries(room.id);
      if (entries.length === 0) {
        if (!core<{ start: boolean }>('should_start_log', roomFacts(room)).start) continue;
        await startLog(room);
        entries = await logEntries(room.id);
      }
      if (room.my_role !== 'owner' && room.my_role !== 'admin' && room.kind !== 'dm') continue;
      const registered = core<LogView>('verify_log', { room_id: room.id, entries }).channels;
      for (const channel of encrypted.filter((c) => !registered.includes(c.id))) {
        entries = await registerChannel(room, channel.id, entries);
      }
    } catch {
      // Tried again on the next connection; a send that needs it says why.
    }
  }
}

/**
 * Registers an encrypted channel in the room's signed log when the core says
 * I should (I am an owner or admin and the log lacks it): clients make keys
 * only for channels their room's log names, so the server cannot file a
 * channel under a room of its choosing. Returns the log entries to go on with.
 */
async function registerChannel(room: Room, channelId: number, entries: string[]): Promise<string[]> {
  const { entry } = core<{ entry: string | null }>('register_channel', { room_id: room.id, entries, channel_id: channelId, now: now() });
  if (entry === null) return entries;
  try {
    await authenticated(() => apiRequest('POST', `/api/rooms/${room.id}/membership_log`, { entries: [entry] }));
  } catch (err) {
    // Someone else changed the log first: the log served next says whether it is registered.
    if (!(err instanceof ApiError && err.code === 'log_conflict')) throw err;
  }
  return logEntries(room.id);
}

// ---- channel keys -----------------------------------------------------------

/** What the server says of a channel, fetched again when a send showed the listing was stale. */
async function channelFacts(channel: Channel): Promise<object> {
  let current = channel;
  if (staleChannels.has(channel.id)) {
    staleChannels.delete(channel.id);
    const room = await authenticated(() => apiRequest<{ channels: Channel[] }>('GET', `/api/rooms/${channel.room_id}`)).catch(() => null);
    const fresh = room?.channels ?? [];
    current = fresh.find((c) => c.id === channel.id) ?? channel;
  }
  return { id: current.id, room_id: current.room_id, is_encrypted: current.is_encrypted, key_version: current.key_version, pending_version: current.pending_version ?? null };
}

/** The server refused a send as stale or pending: the channel's listed version is fetched again before the next plan. */
export function forgetSendVersion(channelId: number): void {
  staleChannels.add(channelId);
}

async function postShare(share: OutShare): Promise<void> {
  await authenticated(() =>
    keysApi.shareKey({ user_id: share.user_id, channel_id: share.channel_id, encrypted_key: share.encrypted_key, is_key_rotation: share.is_key_rotation, key_version: share.key_version }),
  );
}

/**
 * Makes a version with the core and shares it: my own copy first (it claims
 * the version on the server), then every verified member's. When another
 * member claimed it first, my key is dropped and sending waits for theirs.
 */
/**
 * The version being made in each channel by this browser. A send and a
 * `key_rotation_needed` often arrive together (removing a member does both);
 * making the version twice at once would give the core two keys for one
 * version, the second replacing the first before either is confirmed, and
 * the loser's `abandon_version` or `different_key` would fail the message.
 */
const making = new Map<number, Promise<void>>();

/** Makes a version, one at a time per channel; nothing to do if it is held by the time its turn comes. */
function makeVersion(channel: Channel, room: Room, facts: object, version: number, hint: number[] | null): Promise<void> {
  const before = making.get(channel.id) ?? Promise.resolve();
  const turn = before
    .catch(() => undefined)
    .then(async () => {
      if (core<{ held: boolean }>('has_key', { channel_id: channel.id, version }).held) return;
      await makeVersionNow(channel, room, facts, version, hint);
    });
  making.set(channel.id, turn);
  const done = (): void => {
    if (making.get(channel.id) === turn) making.delete(channel.id);
  };
  turn.then(done, done);
  return turn;
}

async function makeVersionNow(channel: Channel, room: Room, facts: object, version: number, hint: number[] | null): Promise<void> {
  let entries = await entriesForKeys(room);
  let log: LogView;
  try {
    entries = await registerChannel(room, channel.id, entries);
    log = core<LogView>('verify_log', { room_id: room.id, entries });
  } catch (err) {
    if (err instanceof E2eeError && err.code === 'no_membership_log') {
      throw new KeyWait(t('e2ee.waitOwnerLog', { room: room.name }));
    }
    if (err instanceof E2eeError && err.code === 'channel_not_registered') {
      throw new KeyWait(t('e2ee.waitRegister', { room: room.name, channel: channel.name }));
    }
    throw err;
  }
  const bundles: Record<number, string> = {};
  const recipients: number[] = [];
  for (const m of log.members) {
    if (m.user_id === me?.id || (hint !== null && !hint.includes(m.user_id))) continue;
    const bundle = await fetchPublished(m.user_id).catch(() => null);
    if (bundle === null) continue;
    bundles[m.user_id] = bundle;
    await ensurePinned(m.user_id);
    recipients.push(m.user_id);
  }
  // Each person's devices (mine too, for my other browsers): the core seals to their fresh prekeys.
  const prekeys = await devices.servedPrekeys(me === null ? recipients : [...recipients, me.id]);
  const made = core<{ own: OutShare; shares: OutShare[] }>('make_version', { channel: facts, version, entries, bundles, prekeys, hint, now: now() });
  try {
    await postShare(made.own);
  } catch (err) {
    core('abandon_version', { channel_id: channel.id, version });
    if (err instanceof ApiError && CLAIMED.has(err.code)) {
      forgetSendVersion(channel.id);
      throw new KeyWait(t('e2ee.otherMaking', { version, channel: channel.name }));
    }
    throw err;
  }
  core('confirm_version', { channel_id: channel.id, version, now: now() });
  await saved();
  for (const share of made.shares) await postShare(share).catch(() => undefined);
  keysEpoch.value += 1;
}

/** Fetches my sealed copy of a version from the server and has the core accept it; false when there is none (yet). */
async function fetchMyCopy(channelId: number, room: Room, version: number): Promise<boolean> {
  let share: keysApi.StoredShare;
  try {
    share = await authenticated(() => keysApi.myShare(channelId, version));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    // Sealed to this device's prekey, it waits in the mailbox instead.
    await syncDevice();
    return core<{ held: boolean }>('has_key', { channel_id: channelId, version }).held;
  }
  await acceptShare({ ...share, channel_id: channelId }, room);
  return true;
}

async function acceptShare(share: ShareEvent, room: Room): Promise<void> {
  await ensurePinned(share.sender_id);
  const entries = await logEntries(room.id);
  core('accept_share', { share, room_id: room.id, entries, now: now() });
  await saved();
  keysEpoch.value += 1;
  if (!core<{ requested: boolean }>('has_requested', { channel_id: share.channel_id }).requested && requested.value.has(share.channel_id)) {
    const next = new Set(requested.value);
    next.delete(share.channel_id);
    requested.value = next;
  }
}

/** `channel_key_share`: a key for me arrived. */
export async function receiveShare(share: ShareEvent): Promise<void> {
  if (!isRunning() || identityStatus.value.kind !== 'ready') return;
  if (share.device_id !== undefined && share.device_id !== null) {
    // Sealed to a device's prekey: this browser's comes through its mailbox,
    // which is then acknowledged; another device's is not for this one.
    if (share.device_id === devices.deviceId()) await syncDevice();
    return;
  }
  const room = roomOf(share.channel_id);
  if (room === null) throw new E2eeError(t('e2ee.noShareRoom'));
  await acceptShare(share, room);
}

/** `key_rotation_needed`: when I am the named rotator, make and share the new version. */
export async function onRotationNeeded(event: RotationEvent, room: Room & { channels: Channel[] }): Promise<void> {
  if (!isRunning() || me === null || event.rotator_id !== me.id) return;
  const channel = room.channels.find((c) => c.id === event.channel_id);
  if (channel === undefined) return;
  if (core<{ held: boolean }>('has_key', { channel_id: channel.id, version: event.new_version }).held) return;
  const facts = { ...(await channelFacts(channel)), pending_version: event.new_version };
  try {
    await makeVersion(channel, room, facts, event.new_version, event.members.map((m) => m.id));
  } catch (err) {
    // Another member made it first: their key arrives as a share.
    if (!(err instanceof KeyWait)) throw err;
  }
}

/**
 * Encrypts a message for a channel, doing first whatever the core plans:
 * making version 1, making the next version when this browser's is used up
 * (100 messages or 7 days) or a rotation waits, fetching my copy of a newer
 * version. Returns null for a plaintext channel. Throws KeyWait when the
 * key is being made or shared by someone else.
 */
export async function sealForSend(channel: Channel, text: string, as: SealAs = {}): Promise<{ envelope: string; key_version: number } | null> {
  const room = roomOf(channel.id);
  if (room === null) throw new E2eeError(t('e2ee.notYourChannel'));
  for (let attempt = 0; attempt < 6; attempt += 1) {
    const facts = await channelFacts(channel);
    const plan = core<SendPlan>('plan_send', { channel: facts, now: now() });
    switch (plan.kind) {
      case 'plain':
        return null;
      case 'seal': {
        const { envelope } = core<{ envelope: string }>('seal', { channel_id: channel.id, version: plan.version, text, kind: as.kind ?? 'message', target_id: as.target_id ?? null, reply_to: as.reply_to ?? null, now: now() });
        await saved();
        return { envelope, key_version: plan.version };
      }
      case 'make_version':
        await makeVersion(channel, room, facts, plan.version, null);
        break;
      case 'fetch_key':
        if (!(await fetchMyCopy(channel.id, room, plan.version))) {
          forgetSendVersion(channel.id);
          throw new KeyWait(t('e2ee.waitVersion', { version: plan.version, channel: channel.name }));
        }
        break;
    }
  }
  throw new KeyWait(t('e2ee.keepsChanging', { channel: channel.name }));
}

/**
 * Encrypts the new text of one of my messages. The server keeps an edited
 * message under its original key version, so the edit is sealed under that
 * version, and only while it is still the one I send under: after a rotation
 * the old key must not carry new text.
 */
export async function encryptEdit(channel: Channel, message: { id: number; key_version: number; reply_to: number | null }, text: string): Promise<string> {
  const plan = core<SendPlan>('plan_send', { channel: await channelFacts(channel), now: now() });
  if (plan.kind !== 'seal' || plan.version !== message.key_version) {
    throw new E2eeError(t('e2ee.oldKeyEdit'));
  }
  const { envelope } = core<{ envelope: string }>('seal', { channel_id: channel.id, version: plan.version, text, kind: 'edit', target_id: message.id, reply_to: message.reply_to, now: now() });
  await saved();
  return envelope;
}

/** What a sealed message is, bound into its envelope: the server cannot show it as anything else. */
export interface SealAs {
  kind?: 'message' | 'file' | 'thread_reply' | 'thread_reply_in_channel';
  /** A thread reply's root (bound in the envelope, so the server cannot move the reply). */
  target_id?: number | null;
  reply_to?: number | null;
}

// ---- reading ----------------------------------------------------------------

/** Checks and decrypts the messages of an encrypted channel that have no result yet. */
export async function decryptMessages(messages: readonly Message[]): Promise<void> {
  if (!isRunning() || identityStatus.value.kind !== 'ready') return;
  const results: Record<number, Decryption> = {};
  // Each missing key version is fetched once per pass, not once per message under it.
  const fetched = new Set<string>();
  for (const m of messages) {
    const known = decrypted.value[m.id];
    // An edit brings a new envelope: it is checked again, exactly like a new message.
    const settled = known !== undefined && known.kind !== 'no-key' && checkedEnvelopes.get(m.id) === m.envelope;
    if (m.deleted || inFlight.has(m.id) || settled) continue;
    inFlight.add(m.id);
    try {
      checkedEnvelopes.set(m.id, m.envelope);
      const result = await check(m, fetched);
      if (result !== null) results[m.id] = result;
    } catch (err) {
      results[m.id] = { kind: 'warning', reason: t('e2ee.checkFailed', { error: err instanceof Error ? err.message : String(err) }) };
    } finally {
      inFlight.delete(m.id);
    }
  }
  if (Object.keys(results).length > 0) decrypted.value = { ...decrypted.value, ...results };
  searchHooks.decrypted(messages, results);
}

/** Forgets what this page decrypted of messages that disappeared. */
export function forgetDecrypted(ids: readonly number[]): void {
  const held = decrypted.peek();
  if (!ids.some((id) => held[id] !== undefined)) return;
  const next = { ...held };
  for (const id of ids) {
    delete next[id];
    checkedEnvelopes.delete(id);
  }
  decrypted.value = next;
}

/** This device's search-index key (wire form), derived by the core from the device's secret key; throws until the browser is a device. */
export function searchIndexKey(): string {
  return core<{ key: string }>('search_index_key').key;
}

/** Whether this browser holds key `version` of a channel (the search backfill reads its locked messages again once it does). */
export function holdsKey(channelId: number, version: number): boolean {
  if (!isRunning() || identityStatus.value.kind !== 'ready') return false;
  return core<{ held: boolean }>('has_key', { channel_id: channelId, version }).held;
}

/**
 * Reads a page of an encrypted channel's history for the search index's
 * backfill, without showing it: one core call for the page (its state is
 * saved once). What needs a key version or a sender's bundle first waits
 * for them, each fetched once, and is read in one more call: never a core
 * call per message, since each call that records a message as seen saves
 * the core's whole state. Results go to the caller only.
 */
export async function readForIndex(messages: readonly Message[]): Promise<Record<number, Decryption>> {
  if (!isRunning() || identityStatus.value.kind !== 'ready') return {};
  const results: Record<number, Decryption> = {};
  const fetchedKeys = new Set<string>();
  const fetchedBundles = new Set<number>();
  let pending = messages.filter((m) => !m.deleted);
  while (pending.length > 0) {
    const facts = pending.map((m) => ({ id: m.id, channel_id: m.channel_id, sender_id: m.sender_id, content: m.content, envelope: m.envelope, key_version: m.key_version, deleted: m.deleted, reply_to: m.reply_to, resource: false, thread_root_id: m.thread_root_id ?? null, also_send_to_channel: m.also_send_to_channel === true }));
    const shown = core<Shown[]>('read_many', { messages: facts, encrypted: true });
    const keys = new Map<string, { channelId: number; version: number }>();
    const bundles = new Set<number>();
    const again: Message[] = [];
    for (const [i, m] of pending.entries()) {
      const s = shown[i];
      if (s === undefined) continue;
      if (s.kind === 'verified') results[m.id] = { kind: 'text', text: s.text, what: s.what };
      else if (s.kind === 'plain') results[m.id] = { kind: 'text', text: s.text, what: null };
      else if (s.kind === 'need_key' && !fetchedKeys.has(`${m.channel_id}:${s.version}`)) {
        keys.set(`${m.channel_id}:${s.version}`, { channelId: m.channel_id, version: s.version });
        again.push(m);
      } else if (s.kind === 'need_bundle' && !fetchedBundles.has(s.user_id)) {
        bundles.add(s.user_id);
        again.push(m);
      } else if (s.kind === 'need_key') results[m.id] = { kind: 'no-key', version: s.version };
    }
    // Whatever still needs something already fetched once stays unread (no key: said so; no bundle).
    if (keys.size === 0 && bundles.size === 0) break;
    for (const [wanted, { channelId, version }] of keys) {
      fetchedKeys.add(wanted);
      const room = roomOf(channelId);
      if (room !== null) await fetchMyCopy(channelId, room, version).catch(() => false);
    }
    for (const userId of bundles) {
      fetchedBundles.add(userId);
      await observe(userId).catch(() => false);
    }
    pending = again;
  }
  return results;
}

async function check(m: Message, fetched: Set<string>): Promise<Decryption | null> {
  const facts = { id: m.id, channel_id: m.channel_id, sender_id: m.sender_id, content: m.content, envelope: m.envelope, key_version: m.key_version, deleted: m.deleted, reply_to: m.reply_to, resource: false, thread_root_id: m.thread_root_id ?? null, also_send_to_channel: m.also_send_to_channel === true };
  let fetchedBundle = false;
  for (;;) {
    const shown = core<Shown>('read', { message: facts, encrypted: true });
    switch (shown.kind) {
      case 'verified':
        return { kind: 'text', text: shown.text, what: shown.what };
      case 'plain':
        return { kind: 'text', text: shown.text, what: null };
      case 'injected':
        return { kind: 'warning', reason: t('e2ee.injected'), text: shown.content ?? '' };
      case 'warning':
        return { kind: 'warning', reason: shown.reason };
      case 'need_key': {
        const room = roomOf(m.channel_id);
        const wanted = `${m.channel_id}:${shown.version}`;
        if (fetched.has(wanted) || room === null) return { kind: 'no-key', version: shown.version };
        fetched.add(wanted);
        await fetchMyCopy(m.channel_id, room, shown.version).catch(() => false);
        break;
      }
      case 'need_bundle':
        if (fetchedBundle) return { kind: 'warning', reason: t('e2ee.noSenderKey') };
        fetchedBundle = true;
        await observe(shown.user_id);
        break;
      case 'locked':
      case 'deleted':
        return null;
    }
  }
}

// ---- key requests -------------------------------------------------------------

/** Asks the room's admins for the channel key ("Request key"). */
export async function askForKey(channelId: number): Promise<void> {
  const id = await authenticated(() => keysApi.requestKey(channelId));
  core('record_request', { channel_id: channelId, request_id: id });
  requested.value = new Set([...requested.value, channelId]);
}

/** `channel_key_request`: someone asks me (an admin) for a key. */
export function receiveKeyRequest(request: KeyRequest): void {
  if (keyRequests.value.some((r) => r.request_id === request.request_id)) return;
  if (isRunning()) core('queue_request', request);
  keyRequests.value = [...keyRequests.value, request];
}

export function dismissKeyRequest(requestId: number): void {
  if (isRunning()) core('dismiss_request', { request_id: requestId });
  keyRequests.value = keyRequests.value.filter((r) => r.request_id !== requestId);
}

/** Approves a key request: the core seals the key for the requester once the verified log proves them a member. */
export async function approveKeyRequest(request: KeyRequest, room: Room): Promise<void> {
  await ensurePinned(request.requester_id);
  const entries = await logEntries(room.id);
  const bundle = await fetchPublished(request.requester_id);
  if (bundle === null) throw new E2eeError(t('e2ee.requesterNoKey', { name: request.requester_username }));
  // Sealed to the requester's listed devices when they have a list: a device they revoked gets nothing.
  const prekeys = (await devices.servedPrekeys([request.requester_id]))[request.requester_id] ?? [];
  const { shares } = core<{ shares: OutShare[] }>('approve_request', { request_id: request.request_id, room_id: room.id, entries, public_key: bundle, prekeys, now: now() });
  for (const share of shares) await postShare(share);
  dismissKeyRequest(request.request_id);
}
