import { signal } from '@preact/signals';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors.ts';
import type { Profile } from '../api/profiles.ts';
import { setLanguage } from '../i18n/index.ts';
import { apiFailure, fakeApi, jsonResponse, requestsMade } from '../test-support.ts';
import { clearAt, defaultProfile, isDeletedUsername, liveStatus, person, personOf, ProfileLoader, profileLoader, profiles, RETRY_AFTER_FAILURE_MS, seedFromMembers } from './profiles.ts';

function profile(userId: number, extra: Partial<Profile> = {}): Profile {
  return { ...defaultProfile(userId), ...extra };
}

/** Lets the queued microtask and the fetches it started settle. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

function loaderWith(fetcher: (id: number) => Promise<Profile>, now: () => number = Date.now) {
  const known = signal<Readonly<Record<number, Profile>>>({});
  return { known, loader: new ProfileLoader(known, fetcher, now) };
}

describe('ProfileLoader', () => {
  it('asks once per id however often it is wanted, in one batch', async () => {
    const fetcher = vi.fn(async (id: number) => profile(id, { display_name: `P${id}` }));
    const { known, loader } = loaderWith(fetcher);
    for (let i = 0; i < 5; i++) {
      loader.want(2);
      loader.want(3);
    }
    expect(fetcher).not.toHaveBeenCalled();
    await settle();
    expect(fetcher.mock.calls.map(([id]) => id)).toEqual([2, 3]);
    expect(known.value[2]?.display_name).toBe('P2');
    loader.want(2);
    await settle();
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('does not ask again while a request is out', async () => {
    let answer: (p: Profile) => void = () => undefined;
    const fetcher = vi.fn(() => new Promise<Profile>((resolve) => (answer = resolve)));
    const { known, loader } = loaderWith(fetcher);
    loader.want(4);
    await settle();
    loader.want(4);
    await settle();
    expect(fetcher).toHaveBeenCalledTimes(1);
    answer(profile(4));
    await settle();
    expect(known.value[4]).toEqual(profile(4));
  });

  it('never asks again after a 404, until the person is allowed again', async () => {
    const fetcher = vi.fn(async (): Promise<Profile> => {
      throw new ApiError(404, 'user_not_found', 'No such user');
    });
    const { known, loader } = loaderWith(fetcher);
    for (let round = 0; round < 3; round++) {
      loader.want(7);
      await settle();
    }
    expect(fetcher).toHaveBeenCalledTimes(1);
    expect(known.value[7]).toBeUndefined();
    loader.allow(7);
    loader.want(7);
    await settle();
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('tries again after other failures only once the pause is over', async () => {
    let now = 1_000;
    const fetcher = vi.fn(async (): Promise<Profile> => {
      throw new ApiError(0, 'network_error', 'offline');
    });
    const { loader } = loaderWith(fetcher, () => now);
    loader.want(8);
    await settle();
    loader.want(8);
    await settle();
    expect(fetcher).toHaveBeenCalledTimes(1);
    now += RETRY_AFTER_FAILURE_MS;
    loader.want(8);
    await settle();
    expect(fetcher).toHaveBeenCalledTimes(2);
  });

  it('asks again for the known profiles after a reconnection, showing the old ones meanwhile', async () => {
    let round = 0;
    const fetcher = vi.fn(async (id: number) => profile(id, { display_name: `P${id}.${round}` }));
    const { known, loader } = loaderWith(fetcher);
    loader.want(2);
    loader.want(3);
    await settle();
    round = 1;
    loader.refreshAll();
    expect(known.value[2]?.display_name).toBe('P2.0');
    await settle();
    expect(fetcher).toHaveBeenCalledTimes(4);
    expect([known.value[2]?.display_name, known.value[3]?.display_name]).toEqual(['P2.1', 'P3.1']);
  });

  it('takes live updates, and drops answers that arrive after a reset', async () => {
    let answer: (p: Profile) => void = () => undefined;
    const { known, loader } = loaderWith(() => new Promise<Profile>((resolve) => (answer = resolve)));
    loader.put(profile(2, { display_name: 'Alice' }));
    expect(known.value[2]?.display_name).toBe('Alice');
    loader.put(profile(2, { display_name: 'Alice L.', availability: 'away' }));
    expect(known.value[2]).toMatchObject({ display_name: 'Alice L.', availability: 'away' });
    loader.want(3);
    await settle();
    loader.reset();
    answer(profile(3));
    await settle();
    expect(known.value).toEqual({});
  });
});

describe('naming people', () => {
  it('shows the display name when set, the username otherwise', () => {
    const known = { 2: profile(2, { display_name: 'Alice Liddell' }), 3: profile(3, { display_name: '  ' }) };
    expect(personOf(2, 'alice', known)).toMatchObject({ name: 'Alice Liddell', username: 'alice', hasDisplayName: true, deleted: false });
    expect(personOf(3, 'bob', known)).toMatchObject({ name: 'bob', hasDisplayName: false });
    expect(personOf(4, 'carol', known)).toMatchObject({ name: 'carol', profile: null });
    expect(personOf(null, 'dave', known).name).toBe('dave');
  });

  it('shows deleted accounts as "Deleted user", in the reader’s language, whatever their profile', async () => {
    expect(isDeletedUsername('deleted-42')).toBe(true);
    expect(isDeletedUsername('deleted-')).toBe(false);
    expect(isDeletedUsername('deleted-4x')).toBe(false);
    expect(isDeletedUsername('undeleted-4')).toBe(false);
    const known = { 42: profile(42, { display_name: 'Old name', avatar_url: '/api/users/42/avatar?v=1' }) };
    expect(personOf(42, 'deleted-42', known)).toEqual({ name: 'Deleted user', username: 'deleted-42', hasDisplayName: false, deleted: true, profile: null });
    await setLanguage('zh-CN');
    try {
      expect(personOf(42, 'deleted-42', known).name).toBe('已删除的用户');
    } finally {
      await setLanguage('en');
    }
  });
});

describe('the page’s profiles', () => {
  afterEach(() => {
    profileLoader.reset();
    vi.unstubAllGlobals();
  });

  it('fetches a shown person once, never a deleted one, and follows updates', async () => {
    const api = fakeApi({ 'GET /api/users/2/profile': [jsonResponse(200, { success: true, profile: profile(2, { display_name: 'Alice' }) })] });
    expect(person(2, 'alice').name).toBe('alice');
    expect(person(2, 'alice').name).toBe('alice');
    expect(person(9, 'deleted-9').name).toBe('Deleted user');
    await settle();
    expect(requestsMade(api)).toEqual(['GET /api/users/2/profile']);
    expect(person(2, 'alice').name).toBe('Alice');
    profileLoader.put(profile(2, { display_name: 'Alice L.' }));
    expect(person(2, 'alice').name).toBe('Alice L.');
  });

  it('asks no more after a 404', async () => {
    const api = fakeApi({ 'GET /api/users/5/profile': [apiFailure(404, 'user_not_found', 'No such user')] });
    person(5, 'eve');
    await settle();
    person(5, 'eve');
    await settle();
    expect(requestsMade(api)).toEqual(['GET /api/users/5/profile']);
  });

  it('takes a member list’s profiles, and the default for members who set none', async () => {
    const api = fakeApi({});
    seedFromMembers([{ user_id: 2, profile: profile(2, { display_name: 'Alice' }) }, { user_id: 3 }]);
    expect(profiles.value[3]).toEqual(defaultProfile(3));
    expect(person(2, 'alice').name).toBe('Alice');
    expect(person(3, 'bob').name).toBe('bob');
    await settle();
    expect(requestsMade(api)).toEqual([]);
  });
});

describe('liveStatus', () => {
  it('hides a status once it expired', () => {
    const status = { text: 'Lunch', emoji: '🍔', expires_at: 2_000 };
    expect(liveStatus(profile(2, { status }), 1_000)).toEqual(status);
    expect(liveStatus(profile(2, { status }), 2_000)).toBeNull();
    expect(liveStatus(profile(2, { status: { ...status, expires_at: null } }), 9e12)).not.toBeNull();
    expect(liveStatus(null)).toBeNull();
  });
});

describe('clearAt', () => {
  // Wednesday 10 June 2026, 15:30 local time.
  const now = new Date(2026, 5, 10, 15, 30);

  it('gives the moment a status clears', () => {
    expect(clearAt('never', now)).toBeNull();
    expect(clearAt('hour', now)).toBe(now.getTime() + 3_600_000);
    expect(clearAt('today', now)).toBe(new Date(2026, 5, 11).getTime());
    expect(clearAt('week', now)).toBe(new Date(2026, 5, 15).getTime());
  });

  it('ends this week at the end of Sunday, also on a Sunday', () => {
    const sunday = new Date(2026, 5, 14, 9, 0);
    expect(clearAt('week', sunday)).toBe(new Date(2026, 5, 15).getTime());
    expect(clearAt('today', sunday)).toBe(new Date(2026, 5, 15).getTime());
  });
});
