// The signed membership log of a room, in the browser (PROTOCOL §6).
//
// Keys are handed only to members proven by the log: before sharing a
// channel key, the log is fetched and verified against the bundles pinned
// here, and checked to extend the last head this browser saw (a server that
// forks or rolls the log back is caught). A room has no log until its owner's
// client starts it; this client starts it when the owner first needs to
// share a key. Once a room has a log, membership changes are signed entries
// (the server refuses the plain endpoints with `signed_entry_required`).

import { ApiError } from '../api/errors.ts';
import { apiRequest } from '../api/http.ts';
import * as roomsApi from '../api/rooms.ts';
import type { Role, Room } from '../api/rooms.ts';
import { authenticated } from '../state/session.ts';
import { E2eeError, requireReady, trustedBundle } from './engine.ts';

type Log = import('../../wasm/securechat_crypto.js').MembershipLog;

interface LogAnswer {
  entries: string[];
  head: { seq: number; hash: string } | null;
}

interface Pin {
  seq: number;
  hash: string;
}

/** Where the actor id sits in an entry (PROTOCOL §6: bytes 58..66, big-endian). */
const ACTOR_OFFSET = 58;

function fromBase64Url(text: string): Uint8Array {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** The signer named by an entry (0 for a server removal); verification decides whether to believe it. */
export function actorOf(entry: string): number {
  const bytes = fromBase64Url(entry);
  if (bytes.length < ACTOR_OFFSET + 8) throw new E2eeError('A membership log entry is truncated.');
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigInt64(ACTOR_OFFSET, false));
}

/**
 * The bundles trusted for the log's signers: each one's pinned bundle and,
 * when the server's key history contains that pin, the keys published
 * before it (entries signed before a key change still verify).
 */
async function trustedRing(actorIds: readonly number[]): Promise<string[]> {
  const ring: string[] = [];
  for (const userId of new Set(actorIds)) {
    if (userId === 0) continue;
    const pinned = await trustedBundle(userId);
    if (pinned === null) continue;
    const history = await authenticated(() => apiRequest<{ keys: { public_key: string }[] }>('GET', `/api/users/${userId}/public_keys`)).catch(() => ({ keys: [] }));
    const keys = history.keys.map((k) => k.public_key);
    const upTo = keys.indexOf(pinned);
    ring.push(...(upTo >= 0 ? keys.slice(0, upTo + 1) : [pinned]));
  }
  return ring;
}

/** Starts the log as the room's owner (or a DM participant): create, then the current members and roles. */
async function start(room: Room): Promise<void> {
  const { sc, identity, me } = requireReady();
  const { members } = await authenticated(() => roomsApi.members(room.id));
  const now = Math.floor(Date.now() / 1000);
  const log = sc.MembershipLog.create(identity, room.id, room.kind !== 'dm' && !room.is_private, now);
  try {
    for (const m of members) {
      if (m.user_id === me.id) continue;
      const role: Role = room.kind !== 'dm' && m.role === 'admin' ? 'admin' : 'member';
      log.append(identity, 'add', m.user_id, role, now);
    }
    await authenticated(() => apiRequest('POST', `/api/rooms/${room.id}/membership_log`, { entries: log.entries() }));
  } catch (err) {
    // Someone else started it first: verify theirs instead.
    if (!(err instanceof ApiError && err.code === 'log_exists')) throw err;
  } finally {
    log.free();
  }
}

/**
 * The room's log, verified against pinned bundles and checked to extend the
 * last head seen here; null while nobody has started it and I may not.
 */
export async function verifiedLog(room: Room): Promise<Log | null> {
  const { sc, kv } = requireReady();
  let answer = await authenticated(() => apiRequest<LogAnswer>('GET', `/api/rooms/${room.id}/membership_log`));
  if (answer.entries.length === 0) {
    if (room.my_role !== 'owner' && room.kind !== 'dm') return null;
    await start(room);
    answer = await authenticated(() => apiRequest<LogAnswer>('GET', `/api/rooms/${room.id}/membership_log`));
  }
  const ring = await trustedRing(answer.entries.map(actorOf));
  let log: Log;
  try {
    log = sc.MembershipLog.verify(answer.entries, ring);
  } catch (err) {
    throw new E2eeError(`The membership log of ${room.name} does not verify (${describe(err)}); no keys are shared there.`);
  }
  const pin = await kv.get<Pin>(`loghead:${room.id}`);
  if (pin !== undefined) {
    try {
      log.checkExtends(pin.seq, pin.hash);
    } catch {
      log.free();
      throw new E2eeError(`The server shows a membership log of ${room.name} that drops or rewrites entries this browser saw; no keys are shared there.`);
    }
  }
  await kv.put(`loghead:${room.id}`, { seq: log.length - 1, hash: log.headHash() } satisfies Pin);
  return log;
}

/** The members proven by the log (ids), or null when the room has no log I can use. */
export async function provenMembers(room: Room): Promise<Set<number> | null> {
  const log = await verifiedLog(room);
  if (log === null) return null;
  try {
    return new Set(log.members().map((m) => m.userId));
  } finally {
    log.free();
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}

type Op = 'add' | 'remove' | 'leave' | 'join_public' | 'set_role';

/** Signs one change and posts it; signs again on top when someone else appended first. */
async function signedChange(room: Room, op: Op, subject: number | undefined, role: string | undefined, ban = false): Promise<void> {
  const { identity } = requireReady();
  for (let attempt = 0; ; attempt += 1) {
    const log = await verifiedLog(room);
    if (log === null) throw new E2eeError('This room has no membership log yet.');
    try {
      const entry = log.append(identity, op, subject, role, Math.floor(Date.now() / 1000));
      await authenticated(() => apiRequest('POST', `/api/rooms/${room.id}/membership_log`, { entries: [entry], ban, reason: '' }));
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'log_conflict') || attempt >= 2) throw err;
    } finally {
      log.free();
    }
  }
}

/** Runs the plain (seed) call; in a room with a log, signs the change instead. */
async function plainOrSigned(plain: () => Promise<void>, signed: () => Promise<void>): Promise<void> {
  try {
    await authenticated(plain);
  } catch (err) {
    if (err instanceof ApiError && err.code === 'signed_entry_required') await signed();
    else throw err;
  }
}

export function kick(room: Room, userId: number): Promise<void> {
  return plainOrSigned(
    () => roomsApi.kick(room.id, userId),
    () => signedChange(room, 'remove', userId, undefined),
  );
}

export function ban(room: Room, userId: number): Promise<void> {
  return plainOrSigned(
    () => roomsApi.ban(room.id, userId, ''),
    () => signedChange(room, 'remove', userId, undefined, true),
  );
}

export function setRole(room: Room, userId: number, role: 'admin' | 'member'): Promise<void> {
  return plainOrSigned(
    () => roomsApi.setRole(room.id, userId, role),
    () => signedChange(room, 'set_role', userId, role),
  );
}

export function transfer(room: Room, userId: number): Promise<void> {
  return plainOrSigned(
    () => roomsApi.transfer(room.id, userId),
    () => signedChange(room, 'set_role', userId, 'owner'),
  );
}

export function leave(room: Room): Promise<void> {
  return plainOrSigned(
    () => roomsApi.leaveRoom(room.id),
    () => signedChange(room, 'leave', undefined, undefined),
  );
}

export function join(room: Room): Promise<void> {
  return plainOrSigned(
    () => roomsApi.joinRoom(room.id),
    () => signedChange(room, 'join_public', undefined, undefined),
  );
}

export function addByName(room: Room, username: string): Promise<void> {
  return plainOrSigned(
    () => roomsApi.addMember(room.id, username),
    async () => {
      const found = (await authenticated(() => roomsApi.searchUsers(username))).find((u) => u.username.toLowerCase() === username.toLowerCase());
      if (found === undefined) throw new E2eeError(`No user is called ${username}.`);
      await signedChange(room, 'add', found.id, 'member');
    },
  );
}
