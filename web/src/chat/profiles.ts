// People's profiles (display name, status, availability, avatar) as this
// page knows them, and the one way to name a person.
//
// A profile is fetched the first time something shows its person
// (`GET /api/users/{id}/profile`): the ids asked for in one turn of the
// event loop go out together, one request per id, never a second one while
// the first is out. Member lists bring their members' profiles along
// (`seedFromMembers`), and `profile_updated` keeps them live (wired in
// store.ts, which also asks for them all again after a reconnection). A 404 (no room shared any more) is remembered: that person is
// not asked for again until a profile of theirs arrives or they join a
// room of mine; other failures are tried again after a pause.
//
// Deleted accounts keep their messages under the reserved username
// `deleted-<digits>`: they show as "Deleted user", with no picture, and
// their profile is never asked for.

import { batch, signal, type Signal } from '@preact/signals';
import { ApiError } from '../api/errors.ts';
import { fetchProfile, type Profile } from '../api/profiles.ts';
import type { Member } from '../api/rooms.ts';
import { t } from '../i18n/index.ts';

/** The usernames the server gives deleted accounts (registration refuses the prefix). */
const DELETED_USERNAME = /^deleted-\d+$/;

/** A failed fetch (other than 404) is not tried again sooner than this. */
export const RETRY_AFTER_FAILURE_MS = 30_000;

export function isDeletedUsername(username: string | null | undefined): boolean {
  return username !== null && username !== undefined && DELETED_USERNAME.test(username);
}

/** Loads profiles into a signal map, lazily and without duplicate requests. */
export class ProfileLoader {
  private readonly queued = new Set<number>();
  private readonly inFlight = new Set<number>();
  /** Answered 404: not asked for again (see `allow`). */
  private readonly absent = new Set<number>();
  private readonly failedAt = new Map<number, number>();
  private scheduled = false;
  /** Bumped by `reset`: answers to requests of before are dropped. */
  private epoch = 0;

  constructor(
    readonly known: Signal<Readonly<Record<number, Profile>>>,
    private readonly fetcher: (userId: number) => Promise<Profile>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Asks for `userId`'s profile unless it is known, on its way, or known to be out of reach. */
  want(userId: number): void {
    if (!Number.isSafeInteger(userId) || userId <= 0) return;
    if (userId in this.known.peek() || this.queued.has(userId) || this.inFlight.has(userId) || this.absent.has(userId)) return;
    const failed = this.failedAt.get(userId);
    if (failed !== undefined && this.now() - failed < RETRY_AFTER_FAILURE_MS) return;
    this.queue(userId);
  }

  /**
   * Asks again for every profile known, keeping each until its answer
   * comes: after a reconnection, changes may have been missed meanwhile.
   */
  refreshAll(): void {
    this.absent.clear();
    this.failedAt.clear();
    for (const id of Object.keys(this.known.peek())) {
      const userId = Number(id);
      if (!this.inFlight.has(userId)) this.queue(userId);
    }
  }

  private queue(userId: number): void {
    this.queued.add(userId);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const ids = [...this.queued];
    this.queued.clear();
    for (const id of ids) void this.load(id);
  }

  private async load(userId: number): Promise<void> {
    const epoch = this.epoch;
    this.inFlight.add(userId);
    try {
      const profile = await this.fetcher(userId);
      if (epoch === this.epoch) this.put(profile);
    } catch (err) {
      if (epoch !== this.epoch) return;
      if (err instanceof ApiError && err.status === 404) this.absent.add(userId);
      else this.failedAt.set(userId, this.now());
    } finally {
      if (epoch === this.epoch) this.inFlight.delete(userId);
    }
  }

  /** Takes profiles that arrived (an event, a member list, an answer of mine). */
  put(...list: readonly Profile[]): void {
    if (list.length === 0) return;
    const next = { ...this.known.peek() };
    for (const profile of list) {
      next[profile.user_id] = profile;
      this.absent.delete(profile.user_id);
      this.failedAt.delete(profile.user_id);
    }
    this.known.value = next;
  }

  /** `userId` may be reachable again (they joined a room of mine): a 404 of before no longer holds. */
  allow(userId: number): void {
    this.absent.delete(userId);
    this.failedAt.delete(userId);
  }

  /** Forgets everything (sign-out). */
  reset(): void {
    this.epoch++;
    this.queued.clear();
    this.inFlight.clear();
    this.absent.clear();
    this.failedAt.clear();
    this.known.value = {};
  }
}

/** The profiles known to this page, by user id. */
export const profiles = signal<Readonly<Record<number, Profile>>>({});

export const profileLoader = new ProfileLoader(profiles, fetchProfile);

/** The profile a member list leaves out: that person set nothing. */
export function defaultProfile(userId: number): Profile {
  return { user_id: userId, display_name: null, status: null, availability: 'online', avatar_url: null };
}

/** Takes a member list's profiles: those who set none get the default, so nobody listed is fetched. */
export function seedFromMembers(members: readonly Pick<Member, 'user_id' | 'profile'>[]): void {
  const known = profiles.peek();
  const fresh = members.filter((m) => m.profile !== undefined || !(m.user_id in known)).map((m) => m.profile ?? defaultProfile(m.user_id));
  batch(() => profileLoader.put(...fresh));
}

/** How a person is shown. */
export interface Person {
  /** The display name, else the username; "Deleted user" for a deleted account. */
  name: string;
  username: string;
  /** Whether `name` is a display name (then `@username` is worth showing beside it). */
  hasDisplayName: boolean;
  deleted: boolean;
  /** Null while unknown, and always for a deleted account. */
  profile: Profile | null;
}

/** How the person `userId` (null: not known) called `username` is shown, given the `known` profiles (pure). */
export function personOf(userId: number | null, username: string, known: Readonly<Record<number, Profile>>): Person {
  if (isDeletedUsername(username)) return { name: t('person.deleted'), username, hasDisplayName: false, deleted: true, profile: null };
  const profile = userId === null ? null : (known[userId] ?? null);
  const display = profile?.display_name?.trim() ?? '';
  return { name: display === '' ? username : display, username, hasDisplayName: display !== '', deleted: false, profile };
}

/**
 * How a person is shown, asking for their profile if it is not known yet;
 * a component calling it re-renders when the profile arrives or changes.
 */
export function person(userId: number | null, username: string): Person {
  const shown = personOf(userId, username, profiles.value);
  if (!shown.deleted && userId !== null && shown.profile === null) profileLoader.want(userId);
  return shown;
}

/** The name a person is shown by (for labels, titles and sentences). */
export function personName(userId: number | null, username: string): string {
  return person(userId, username).name;
}

/** Whether a status is still shown at `now` (the server drops expired ones only when asked again). */
export function liveStatus(profile: Profile | null, now: number = Date.now()): Profile['status'] {
  const status = profile?.status ?? null;
  if (status === null) return null;
  if (status.expires_at !== null && status.expires_at <= now) return null;
  return status;
}

/** When a status set now is cleared: never, in an hour, at the end of today, at the end of this week (Sunday). */
export type ClearAfter = 'never' | 'hour' | 'today' | 'week';

/** The expiry (ms since the epoch, local time) for `choice` made at `now`; null for never. */
export function clearAt(choice: ClearAfter, now: Date): number | null {
  if (choice === 'never') return null;
  if (choice === 'hour') return now.getTime() + 3_600_000;
  const end = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1);
  if (choice === 'week') end.setDate(end.getDate() + ((7 - now.getDay()) % 7));
  return end.getTime();
}
