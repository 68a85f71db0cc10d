import { describe, expect, it } from 'vitest';
import type { RoomWithChannels } from '../api/rooms.ts';
import { fuzzyScore, neighbourChannel, rank, sidebarChannelIds, targetsOf } from './switcher.ts';

function room(id: number, name: string, channels: [number, string][], kind: 'room' | 'dm' = 'room', peer?: string): RoomWithChannels {
  return {
    id,
    kind,
    name,
    description: '',
    is_private: kind === 'dm',
    member_count: 2,
    my_role: 'member',
    dm_peer: peer === undefined ? null : { id: id * 10, username: peer },
    channels: channels.map(([cid, cname]) => ({ id: cid, room_id: id, name: cname, is_encrypted: false })),
  } as unknown as RoomWithChannels;
}

const rooms = [
  room(1, 'Lobby', [
    [11, 'general'],
    [12, 'random'],
  ]),
  room(2, 'Project X', [[21, 'green-energy']]),
  room(3, 'bob', [[31, 'dm']], 'dm', 'bob'),
];

describe('fuzzy matching', () => {
  it('matches characters in order, ignoring case, and refuses others', () => {
    expect(fuzzyScore('GNRL', 'general')).not.toBeNull();
    expect(fuzzyScore('lg', 'general')).toBeNull();
    expect(fuzzyScore('', 'anything')).toBe(0);
  });

  it('ranks substrings and word starts above scattered matches', () => {
    const whole = fuzzyScore('gen', 'general');
    const scattered = fuzzyScore('gen', 'green energy');
    expect(whole).not.toBeNull();
    expect(scattered).not.toBeNull();
    expect(whole as number).toBeGreaterThan(scattered as number);
    expect(fuzzyScore('x', 'Project X') as number).toBeGreaterThan(fuzzyScore('x', 'textbox') as number);
  });
});

describe('switcher targets', () => {
  it('lists rooms, their channels and DMs in sidebar order', () => {
    expect(targetsOf(rooms).map((t) => `${t.kind}:${t.label}`)).toEqual([
      'room:Lobby',
      'channel:#general',
      'channel:#random',
      'room:Project X',
      'channel:#green-energy',
      'dm:bob',
    ]);
  });

  it('ranks by the query and finds a channel by its room name', () => {
    expect(rank('gen', targetsOf(rooms))[0]?.label).toBe('#general');
    expect(rank('proj green', targetsOf(rooms)).map((t) => t.label)).toEqual(['#green-energy']);
    expect(rank('bob', targetsOf(rooms)).map((t) => t.kind)).toEqual(['dm']);
    expect(rank('zzz', targetsOf(rooms))).toEqual([]);
  });

  it('labels a DM by the name given for its peer, and still finds it by the username', () => {
    const named = targetsOf(rooms, (peer) => (peer.username === 'bob' ? 'Robert Tables' : peer.username));
    expect(named.at(-1)?.label).toBe('Robert Tables');
    expect(rank('bob', named).map((t) => t.label)).toEqual(['Robert Tables']);
    expect(rank('tables', named).map((t) => t.label)).toEqual(['Robert Tables']);
  });
});

describe('moving through channels', () => {
  const order = sidebarChannelIds(rooms);

  it('follows the sidebar: rooms’ channels, then DMs', () => {
    expect(order).toEqual([11, 12, 21, 31]);
  });

  it('moves up and down, wrapping around', () => {
    expect(neighbourChannel(order, 12, 1)).toBe(21);
    expect(neighbourChannel(order, 12, -1)).toBe(11);
    expect(neighbourChannel(order, 31, 1)).toBe(11);
    expect(neighbourChannel(order, 11, -1)).toBe(31);
  });

  it('starts at an end from no channel, and stays put with one', () => {
    expect(neighbourChannel(order, null, 1)).toBe(11);
    expect(neighbourChannel(order, null, -1)).toBe(31);
    expect(neighbourChannel([5], 5, 1)).toBeNull();
    expect(neighbourChannel([], null, 1)).toBeNull();
  });
});
