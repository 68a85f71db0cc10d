// End-to-end encryption in the browser, with the WebAssembly build of
// crates/securechat-crypto doing every cryptographic step
// (docs/PROTOCOL.md §9-§10).
//
// What stays in this browser (IndexedDB, see kv.ts): the identity's private
// keys, channel keys, the pinned bundle of every user met (trust on first
// use), and send counters. What the server sees: bundles, sealed shares,
// envelopes, and the passphrase-sealed backup.
//
// Every message of an encrypted channel is checked before it is shown: the
// envelope's header must name the channel, version and sender the server
// claims, the signature must verify against the sender's *pinned* bundle,
// the counter must be within the forward-secrecy limit and not replayed.
// Anything else is shown as a warning, never as a normal message.

import { signal } from '@preact/signals';
import type { User } from '../api/auth.ts';
import { ApiError, UserFacingError } from '../api/errors.ts';
import type { Message } from '../api/messages.ts';
import type { Room } from '../api/rooms.ts';
import { authenticated } from '../state/session.ts';
import * as keysApi from './api.ts';
import { KeyValue } from './kv.ts';
import { provenMembers } from './membership.ts';

type Sc = typeof import('../../wasm/securechat_crypto.js');
type Identity = import('../../wasm/securechat_crypto.js').Identity;

export type IdentityStatus =
  | { kind: 'off' }
  | { kind: 'loading' }
  /** This browser holds the identity; `fresh` when it was just created (offer a backup). */
  | { kind: 'ready'; fingerprint: string; fresh: boolean }
  /** The account has an identity published from another browser: restore it, or start over. */
  | { kind: 'needs-restore' }
  | { kind: 'error'; message: string };

export type Decryption =
  | { kind: 'text'; text: string }
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
  sender_id?: number;
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

/** Reader-side forward-secrecy limit (PROTOCOL §5): counters from 0 to 99 per sender and version. */
const MAX_COUNTER = 100;

let sc: Sc | null = null;
let kv: KeyValue | null = null;
let identity: Identity | null = null;
let me: User | null = null;
/** Bundles fetched in this session (pinned or not), by user. */
const published = new Map<number, Promise<string | null>>();
/** The key version I send under, by channel. */
const currentVersion = new Map<number, number>();
/** (channel, version, sender, counter) → message id, to spot replays. */
const seenCounters = new Map<string, number>();
const inFlight = new Set<number>();
/** The envelope each result in `decrypted` was computed from, by message id. */
const checkedEnvelopes = new Map<number, string | null>();
/** The highest envelope counter seen per message id (edits only go forward). */
const latestCounter = new Map<number, number>();

/** A refusal of the encryption layer, worded for the person using the page. */
export class E2eeError extends UserFacingError {}

async function loadWasm(): Promise<Sc> {
  if (sc !== null) return sc;
  const module = await import('../../wasm/securechat_crypto.js');
  await module.default();
  sc = module;
  return module;
}

export function requireReady(): { sc: Sc; kv: KeyValue; identity: Identity; me: User } {
  if (sc === null || kv === null || identity === null || me === null) {
    throw new E2eeError('Encryption is not set up in this browser yet.');
  }
  return { sc, kv, identity, me };
}

/** Loads (or creates and publishes) this browser's identity for `user`. */
export async function startE2ee(user: User): Promise<void> {
  if (me?.id === user.id && identityStatus.value.kind !== 'off') return;
  stopE2ee();
  me = user;
  identityStatus.value = { kind: 'loading' };
  try {
    const crypto = await loadWasm();
    kv = await KeyValue.open(`securechat-e2ee-${user.id}`);
    const exported = await kv.get<string>('identity');
    if (exported !== undefined) {
      identity = crypto.Identity.import(exported);
      await publishIfMissing(identity);
      setReady(false);
      return;
    }
    const existing = await fetchPublished(user.id);
    if (existing !== null) {
      identityStatus.value = { kind: 'needs-restore' };
      return;
    }
    await adopt(crypto.Identity.generate(user.id));
    setReady(true);
  } catch (err) {
    identityStatus.value = { kind: 'error', message: err instanceof Error ? err.message : String(err) };
  }
}

export function stopE2ee(): void {
  kv?.close();
  kv = null;
  identity = null;
  me = null;
  published.clear();
  currentVersion.clear();
  seenCounters.clear();
  checkedEnvelopes.clear();
  latestCounter.clear();
  identityStatus.value = { kind: 'off' };
  decrypted.value = {};
  keyRequests.value = [];
  keyChanges.value = {};
  requested.value = new Set();
}

function setReady(fresh: boolean): void {
  if (sc === null || identity === null || me === null) return;
  identityStatus.value = { kind: 'ready', fingerprint: sc.bundleFingerprint(identity.bundle(), me.id), fresh };
}

async function adopt(next: Identity): Promise<void> {
  if (kv === null) throw new E2eeError('No key storage');
  identity = next;
  await kv.put('identity', next.export());
  await authenticated(() => keysApi.publish(next.bundle()));
  published.delete(next.userId);
}

async function publishIfMissing(id: Identity): Promise<void> {
  const current = await fetchPublished(id.userId);
  if (current === null) await authenticated(() => keysApi.publish(id.bundle()));
}

async function fetchPublished(userId: number): Promise<string | null> {
  try {
    return (await authenticated(() => keysApi.publicKey(userId))).public_key;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** Restores the identity from the recovery passphrase (another browser's backup). */
export async function restoreFromBackup(passphrase: string): Promise<void> {
  const crypto = await loadWasm();
  const blob = await authenticated(() => keysApi.getBackup());
  let restored: Identity;
  try {
    restored = crypto.openBackup(blob, passphrase.normalize('NFC'));
  } catch {
    throw new E2eeError('That passphrase does not open your key backup.');
  }
  if (me === null || restored.userId !== me.id) throw new E2eeError('This backup belongs to another account.');
  await adopt(restored);
  setReady(false);
  keysEpoch.value += 1;
}

/** Gives up on the old identity: a new one is published and everyone sees a key change. */
export async function startOver(): Promise<void> {
  const crypto = await loadWasm();
  if (me === null) throw new E2eeError('Not signed in');
  await adopt(crypto.Identity.generate(me.id));
  setReady(true);
}

/** Seals the identity under a recovery passphrase and stores it on the server. */
export async function saveBackup(passphrase: string): Promise<void> {
  const { sc: crypto, identity: id } = requireReady();
  const blob = crypto.sealBackup(id, passphrase.normalize('NFC'));
  await authenticated(() => keysApi.putBackup(blob));
  setReady(false);
}

/**
 * The bundle to trust for a user: the one pinned here. The first bundle seen
 * is pinned (trust on first use); a different one published later is
 * reported in `keyChanges` and not used until the user accepts it.
 */
export async function trustedBundle(userId: number): Promise<string | null> {
  const { sc: crypto, kv: store, identity: id, me: user } = requireReady();
  if (userId === user.id) return id.bundle();
  const pinned = await store.get<string>(`pin:${userId}`);
  let fetching = published.get(userId);
  if (fetching === undefined) {
    fetching = fetchPublished(userId).catch(() => null);
    published.set(userId, fetching);
  }
  const current = await fetching;
  // Someone without a key may publish one at any time: ask again next time.
  if (current === null) published.delete(userId);
  if (current !== null) {
    try {
      crypto.bundleFingerprint(current, userId);
    } catch {
      return pinned ?? null;
    }
  }
  if (pinned === undefined) {
    if (current === null) return null;
    await store.put(`pin:${userId}`, current);
    return current;
  }
  if (current !== null && current !== pinned && keyChanges.value[userId] === undefined) {
    keyChanges.value = { ...keyChanges.value, [userId]: true };
  }
  return pinned;
}

/** Accepts a user's new key after a key change warning. */
export async function acceptNewKey(userId: number): Promise<void> {
  const { kv: store } = requireReady();
  published.delete(userId);
  const current = await fetchPublished(userId);
  if (current === null) return;
  await store.put(`pin:${userId}`, current);
  const { [userId]: _accepted, ...rest } = keyChanges.value;
  keyChanges.value = rest;
  decrypted.value = {};
  keysEpoch.value += 1;
}

/** A server event told us a user published a new bundle. */
export function publicKeyChanged(userId: number): void {
  published.delete(userId);
  if (kv !== null) void trustedBundle(userId).catch(() => undefined);
}

/** The safety number of me and `userId` (their pinned bundle), and both fingerprints. */
export async function safetyNumber(userId: number): Promise<{ number: string; mine: string; theirs: string } | null> {
  const { sc: crypto, identity: id, me: user } = requireReady();
  const theirs = await trustedBundle(userId);
  if (theirs === null) return null;
  return {
    number: crypto.safetyNumber(id.bundle(), user.id, theirs, userId).display,
    mine: crypto.bundleFingerprint(id.bundle(), user.id),
    theirs: crypto.bundleFingerprint(theirs, userId),
  };
}

interface StoredKey {
  key: string;
  obtainedAt: number;
}

async function storeKey(channelId: number, version: number, key: string): Promise<void> {
  const { kv: store } = requireReady();
  await store.put(`key:${channelId}:${version}`, { key, obtainedAt: Math.floor(Date.now() / 1000) } satisfies StoredKey);
  if ((currentVersion.get(channelId) ?? 0) < version) currentVersion.set(channelId, version);
  keysEpoch.value += 1;
}

/** Opens a sealed share addressed to me, with the context this browser expects. */
async function openShare(share: ShareEvent): Promise<string> {
  const { sc: crypto, kv: store, identity: id, me: user } = requireReady();
  const info = crypto.inspectShare(share.encrypted_key);
  if (info.recipientId !== user.id || info.channelId !== share.channel_id || info.keyVersion !== share.key_version) {
    throw new E2eeError('The key share is addressed to another user, channel or version.');
  }
  if (info.isKeyRotation !== share.is_key_rotation) throw new E2eeError('The key share lies about its purpose.');
  const senderBundle = await trustedBundle(info.senderId);
  if (senderBundle === null) throw new E2eeError('The sender of the key share has no published key.');
  let purpose = share.is_key_rotation ? 'rotation' : 'initial';
  let requestId: number | undefined;
  if (!share.is_key_rotation && info.purpose === 'request') {
    const mine = await store.get<number>(`request:${share.channel_id}`);
    if (mine === undefined || mine !== info.requestId) throw new E2eeError('A key share answers a request this browser did not make.');
    purpose = 'request';
    requestId = mine;
  }
  return crypto.openShare(id, share.encrypted_key, senderBundle, info.senderId, share.channel_id, share.key_version, purpose, requestId);
}

/** `channel_key_share`: a key for me arrived. */
export async function receiveShare(share: ShareEvent): Promise<void> {
  if (identity === null) return;
  const key = await openShare(share);
  await storeKey(share.channel_id, share.key_version, key);
  if (!share.is_key_rotation) {
    const next = new Set(requested.value);
    next.delete(share.channel_id);
    requested.value = next;
  }
}

/** A channel key version, from this browser or from my sealed copy on the server; null when I have none. */
async function channelKey(channelId: number, version: number): Promise<StoredKey | null> {
  const { kv: store } = requireReady();
  const stored = await store.get<StoredKey>(`key:${channelId}:${version}`);
  if (stored !== undefined) return stored;
  let share: keysApi.StoredShare;
  try {
    share = await authenticated(() => keysApi.myShare(channelId, version));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
  const key = await openShare({ ...share, channel_id: channelId });
  await storeKey(channelId, version, key);
  return (await store.get<StoredKey>(`key:${channelId}:${version}`)) ?? null;
}

/** The version I send under: the newest I hold, else my copy of the server's current one. */
async function sendVersion(channelId: number): Promise<number | null> {
  const known = currentVersion.get(channelId);
  if (known !== undefined) return known;
  try {
    const share = await authenticated(() => keysApi.myShare(channelId));
    await channelKey(channelId, share.key_version);
    return share.key_version;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** Forget the version I send under (the server said it is stale). */
export function forgetSendVersion(channelId: number): void {
  currentVersion.delete(channelId);
}

/**
 * Makes a new key version and shares it with the room's members (me first:
 * my own copy is what makes the version current on the server). Members
 * without a published key are skipped; they can ask for the key later.
 */
async function makeKey(room: Room, channelId: number, version: number, purpose: 'initial' | 'rotation', hint: readonly number[] | null): Promise<void> {
  const { sc: crypto, identity: id, me: user } = requireReady();
  const proven = await provenMembers(room);
  if (proven === null) throw new E2eeError(`Waiting for the owner of ${room.name} to start its membership log; keys are shared only with proven members.`);
  // The server's list is only a hint: keys go to members proven by the verified log.
  const ids = (hint ?? [...proven]).filter((uid) => proven.has(uid));
  const key = crypto.generateChannelKey();
  const recipients = [user.id, ...ids.filter((uid) => uid !== user.id)];
  for (const recipient of recipients) {
    const bundle = await trustedBundle(recipient);
    if (bundle === null) continue;
    const sealed = crypto.sealShare(id, bundle, recipient, channelId, version, purpose, undefined, key);
    await authenticated(() =>
      keysApi.shareKey({ user_id: recipient, channel_id: channelId, encrypted_key: sealed, is_key_rotation: purpose === 'rotation', key_version: version }),
    );
  }
  await storeKey(channelId, version, key);
  currentVersion.set(channelId, version);
}

/** `key_rotation_needed`: when I am the named rotator, make and share the new version. */
export async function onRotationNeeded(event: RotationEvent, room: Room): Promise<void> {
  if (identity === null || me === null || event.rotator_id !== me.id) return;
  // Another browser of mine may have been told too: if it already shared the
  // new version with me, use that key instead of making a second one.
  if ((await channelKey(event.channel_id, event.new_version)) !== null) return;
  const members = event.members.map((m) => m.id);
  await makeKey(room, event.channel_id, event.new_version, 'rotation', members);
}

/** Encrypts a message for a channel; makes the first key when the channel has none. */
export async function encrypt(room: Room, channelId: number, channelKeyVersion: number, text: string): Promise<{ envelope: string; key_version: number }> {
  requireReady();
  let version = await sendVersion(channelId);
  if (version === null) {
    if (channelKeyVersion !== 0) throw new E2eeError('You do not have this channel’s key yet. Ask for it with “Request key”.');
    await makeKey(room, channelId, 1, 'initial', null);
    version = 1;
  }
  return seal(channelId, version, text);
}

/**
 * Encrypts the new text of one of my messages. The server keeps an edited
 * message under its original key version, so the edit is sealed under that
 * version, and only while it is still the one I send under: after a rotation
 * the old key must not carry new text.
 */
export async function encryptEdit(channelId: number, messageKeyVersion: number, text: string): Promise<string> {
  const version = await sendVersion(channelId);
  if (version !== messageKeyVersion) {
    throw new E2eeError('This message was sent under an earlier key of the channel, so it can no longer be edited. Delete it and send a new one instead.');
  }
  return (await seal(channelId, version, text)).envelope;
}

async function seal(channelId: number, version: number, text: string): Promise<{ envelope: string; key_version: number }> {
  const { sc: crypto, kv: store, identity: id } = requireReady();
  const key = await channelKey(channelId, version);
  if (key === null) throw new E2eeError('You do not have this channel’s key yet.');
  const counterKey = `counter:${channelId}:${version}`;
  const counter = (await store.get<number>(counterKey)) ?? 0;
  const policy = crypto.sendPolicyCheck(counter, key.obtainedAt, Math.floor(Date.now() / 1000));
  if (policy !== undefined) throw new E2eeError(`This key version is used up (${policy}); waiting for a new one.`);
  await store.put(counterKey, counter + 1);
  const envelope = crypto.encryptMessage(id, key.key, channelId, version, counter, new TextEncoder().encode(text));
  return { envelope, key_version: version };
}

/** Checks and decrypts the messages of an encrypted channel that have no result yet. */
export async function decryptMessages(messages: readonly Message[]): Promise<void> {
  if (identity === null) return;
  const results: Record<number, Decryption> = {};
  for (const m of messages) {
    const known = decrypted.value[m.id];
    // An edit brings a new envelope: it is checked again, exactly like a new message.
    const settled = known !== undefined && known.kind !== 'no-key' && checkedEnvelopes.get(m.id) === m.envelope;
    if (m.deleted || inFlight.has(m.id) || settled) continue;
    inFlight.add(m.id);
    try {
      checkedEnvelopes.set(m.id, m.envelope);
      results[m.id] = await check(m);
    } catch (err) {
      results[m.id] = { kind: 'warning', reason: `Could not check this message: ${err instanceof Error ? err.message : String(err)}` };
    } finally {
      inFlight.delete(m.id);
    }
  }
  if (Object.keys(results).length > 0) decrypted.value = { ...decrypted.value, ...results };
}

async function check(m: Message): Promise<Decryption> {
  const { sc: crypto } = requireReady();
  if (m.envelope === null) {
    return { kind: 'warning', reason: 'Sent without encryption in an encrypted channel: the server or a client injected it.', text: m.content ?? '' };
  }
  let info;
  try {
    info = crypto.inspectMessage(m.envelope);
  } catch {
    return { kind: 'warning', reason: 'Not a valid encrypted message.' };
  }
  if (info.channelId !== m.channel_id || info.senderId !== m.sender_id || info.keyVersion !== m.key_version) {
    return { kind: 'warning', reason: 'The encrypted message names another channel, sender or key version than the server claims.' };
  }
  if (info.counter >= MAX_COUNTER) return { kind: 'warning', reason: 'The sender went past the key’s message limit (forward-secrecy policy).' };
  const key = await channelKey(m.channel_id, info.keyVersion);
  if (key === null) return { kind: 'no-key', version: info.keyVersion };
  const bundle = await trustedBundle(info.senderId);
  if (bundle === null) return { kind: 'warning', reason: 'The sender has no published key, so the message cannot be verified.' };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(crypto.decryptMessage(m.envelope, key.key, bundle, m.channel_id, info.keyVersion));
  } catch {
    const changed = keyChanges.value[info.senderId] !== undefined;
    return {
      kind: 'warning',
      reason: changed
        ? 'The sender’s key changed; this message is signed with the new key, which you have not accepted.'
        : 'Bad signature: this message was not written by the sender the server names, or was altered.',
    };
  }
  const tag = `${m.channel_id}:${info.keyVersion}:${info.senderId}:${info.counter}`;
  const first = seenCounters.get(tag);
  if (first !== undefined && first !== m.id) return { kind: 'warning', reason: 'A replay of an earlier message.' };
  // Each edit is sealed with a later counter: an older envelope of the same message is a rollback.
  const latest = latestCounter.get(m.id);
  if (latest !== undefined && info.counter < latest) return { kind: 'warning', reason: 'An earlier version of this edited message was served again.' };
  seenCounters.set(tag, m.id);
  latestCounter.set(m.id, info.counter);
  return { kind: 'text', text };
}

/** Asks the room's admins for the channel key ("Request key"). */
export async function askForKey(channelId: number): Promise<void> {
  const { kv: store } = requireReady();
  const id = await authenticated(() => keysApi.requestKey(channelId));
  await store.put(`request:${channelId}`, id);
  requested.value = new Set([...requested.value, channelId]);
}

/** `channel_key_request`: someone asks me (an admin) for a key. */
export function receiveKeyRequest(request: KeyRequest): void {
  if (keyRequests.value.some((r) => r.request_id === request.request_id)) return;
  keyRequests.value = [...keyRequests.value, request];
}

export function dismissKeyRequest(requestId: number): void {
  keyRequests.value = keyRequests.value.filter((r) => r.request_id !== requestId);
}

/** Approves a key request: seals the channel's current key for the requester. */
export async function approveKeyRequest(request: KeyRequest, room: Room): Promise<void> {
  const { sc: crypto, identity: id } = requireReady();
  const proven = await provenMembers(room);
  if (proven === null || !proven.has(request.requester_id)) {
    throw new E2eeError(`${request.requester_username} is not a member of ${room.name} according to its verified membership log.`);
  }
  const version = await sendVersion(request.channel_id);
  if (version === null) throw new E2eeError('You do not hold this channel’s key either.');
  const key = await channelKey(request.channel_id, version);
  const bundle = await trustedBundle(request.requester_id);
  if (key === null || bundle === null) throw new E2eeError(`${request.requester_username} has no published key yet.`);
  const sealed = crypto.sealShare(id, bundle, request.requester_id, request.channel_id, version, 'request', request.request_id, key.key);
  await authenticated(() =>
    keysApi.shareKey({ user_id: request.requester_id, channel_id: request.channel_id, encrypted_key: sealed, is_key_rotation: false, key_version: version }),
  );
  dismissKeyRequest(request.request_id);
}
