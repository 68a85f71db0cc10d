// The offline database against a real IndexedDB implementation
// (fake-indexeddb, in memory): what is kept for one person, read back after
// a "reload" (the database closed and opened again), never seen by another
// person, and gone after signing out.

import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RoomWithChannels } from '../api/rooms.ts';
import type { PendingMessage } from '../chat/outbox.ts';
import { memoryStorage } from '../test-support.ts';
import { forgetLastUser, isPending, lastUser, OfflineCache, rememberUser, splitOutbox } from './cache.ts';

function pending(id: string, channel: number): PendingMessage {
  return { client_msg_id: id, channel_id: channel, content: `text ${id}`, created_at: `2026-12-07T10:00:0${id.length}Z`, status: 'queued' };
}

const ROOMS = [
  {
    id: 1,
    name: 'Project X',
    channels: [
      { id: 10, name: 'general', is_encrypted: false },
      { id: 11, name: 'secrets', is_encrypted: true },
    ],
  },
] as unknown as RoomWithChannels[];

beforeEach(() => {
  vi.stubGlobal('localStorage', memoryStorage());
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await OfflineCache.remove(1);
  await OfflineCache.remove(2);
});

describe('who signed in last', () => {
  it('is remembered, checked when read back, and forgotten', () => {
    expect(lastUser()).toBeNull();
    rememberUser({ id: 1, username: 'alice', is_admin: false, created_at: '2026-01-01T00:00:00Z' });
    expect(lastUser()).toEqual({ id: 1, username: 'alice', is_admin: false });
    forgetLastUser();
    expect(lastUser()).toBeNull();
    localStorage.setItem('securechat.lastUser', '{"id":"1","username":"alice"}');
    expect(lastUser()).toBeNull();
    localStorage.setItem('securechat.lastUser', 'not json');
    expect(lastUser()).toBeNull();
  });
});

describe('splitOutbox', () => {
  it('keeps readable only the messages of channels listed as plaintext', () => {
    const items = [pending('a', 10), pending('b', 11), pending('c', 99)];
    const { plain, sealed } = splitOutbox(items, ROOMS[0]!.channels);
    expect(plain.map((i) => i.client_msg_id)).toEqual(['a']);
    // Encrypted, and not known (yet): sealed.
    expect(sealed.map((i) => i.client_msg_id)).toEqual(['b', 'c']);
  });

  it('seals everything while no channel is known', () => {
    const items = [pending('a', 10), pending('b', 11)];
    expect(splitOutbox(items, [])).toEqual({ plain: [], sealed: items });
  });
});

describe('OfflineCache', () => {
  it('keeps rooms and the outbox across a close and open, in the order written', async () => {
    const cache = await OfflineCache.open(1);
    void cache.keepOutbox([pending('a', 10)]);
    void cache.keepRooms(ROOMS);
    await cache.keepOutbox([pending('a', 10), pending('bb', 10)]);
    cache.close();

    const again = await OfflineCache.open(1);
    expect(await again.rooms()).toEqual(ROOMS);
    expect((await again.outbox()).map((i) => i.client_msg_id)).toEqual(['a', 'bb']);
    await again.keepOutbox([]);
    expect(await again.outbox()).toEqual([]);
    again.close();
  });

  it('has nothing of one person for another, and nothing after signing out', async () => {
    const alice = await OfflineCache.open(1);
    await alice.keepRooms(ROOMS);
    await alice.keepOutbox([pending('a', 10)]);
    alice.close();

    const bob = await OfflineCache.open(2);
    expect(await bob.rooms()).toBeNull();
    expect(await bob.outbox()).toEqual([]);
    bob.close();

    await OfflineCache.remove(1);
    const after = await OfflineCache.open(1);
    expect(await after.rooms()).toBeNull();
    expect(await after.outbox()).toEqual([]);
    after.close();
  });

  it('moves the outbox an older version kept in localStorage, once, and drops what is not a message', async () => {
    localStorage.setItem('securechat.outbox.1', JSON.stringify([pending('old', 10), { client_msg_id: 5 }]));
    const cache = await OfflineCache.open(1);
    await cache.keepOutbox([pending('new', 10)]);
    expect((await cache.outbox()).map((i) => i.client_msg_id)).toEqual(['new', 'old']);
    expect(localStorage.getItem('securechat.outbox.1')).toBeNull();
    cache.close();
  });

  it('reads rooms and messages as input: malformed entries are left out', async () => {
    const cache = await OfflineCache.open(1);
    await cache.keepRooms([...ROOMS, { id: 'x' } as unknown as RoomWithChannels]);
    expect(await cache.rooms()).toEqual(ROOMS);
    expect(isPending({ client_msg_id: 'a', channel_id: 1, content: 'x', created_at: 'now' })).toBe(true);
    expect(isPending({ client_msg_id: 'a', channel_id: '1', content: 'x', created_at: 'now' })).toBe(false);
    cache.close();
  });
});
