// Membership changes from the UI (PROTOCOL §6). In a room without a signed
// log they use the seed's plain endpoints; once a room has a log, the server
// refuses those with `signed_entry_required`, and the change is an entry the
// E2EE core signs on top of the log it verified (engine.ts `signChange`),
// posted here. Verifying, starting and pinning the log are the core's.

import { ApiError } from '../api/errors.ts';
import { apiRequest } from '../api/http.ts';
import * as roomsApi from '../api/rooms.ts';
import type { Room } from '../api/rooms.ts';
import { authenticated } from '../state/session.ts';
import { E2eeError, logEntries, signChange } from './engine.ts';
import { t } from '../i18n/index.ts';

type Op = 'add' | 'remove' | 'leave' | 'join_public' | 'set_role';

/** Signs one change and posts it; signs again on top when someone else appended first. */
async function signedChange(room: Room, op: Op, subject: number | undefined, role: string | undefined, ban = false): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    const entries = await logEntries(room.id);
    if (entries.length === 0) throw new E2eeError(t('e2ee.noLog'));
    const entry = signChange(room.id, entries, op, subject, role);
    try {
      await authenticated(() => apiRequest('POST', `/api/rooms/${room.id}/membership_log`, { entries: [entry], ban, reason: '' }));
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 'log_conflict') || attempt >= 2) throw err;
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
      if (found === undefined) throw new E2eeError(t('e2ee.noUser', { name: username }));
      await signedChange(room, 'add', found.id, 'member');
    },
  );
}

/**
 * Adds an account known by id (a room's bot, which the user directory does
 * not list): in a room with a log, a signed entry, after which the members'
 * browsers share the channel keys with its identity as with a person's.
 */
export function addKnown(room: Room, user: { id: number; username: string }): Promise<void> {
  return plainOrSigned(
    () => roomsApi.addMember(room.id, user.username),
    () => signedChange(room, 'add', user.id, 'member'),
  );
}
