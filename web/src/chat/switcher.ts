// Finding your way: what the quick switcher (Ctrl/Cmd+K) offers and how it
// ranks it, and the sidebar order that Alt+Up / Alt+Down move through.
// Pure, so the rules are unit-tested.

import type { Peer, RoomWithChannels } from '../api/rooms.ts';

/** Something the quick switcher can go to. */
export type Target =
  | { kind: 'channel'; key: string; label: string; detail: string; channelId: number }
  | { kind: 'room'; key: string; label: string; detail: string; channelId: number }
  /** `username`: the peer's, matched as well as the label (their display name when set). */
  | { kind: 'dm'; key: string; label: string; detail: string; channelId: number; username?: string }
  | { kind: 'person'; key: string; label: string; detail: string; userId: number };

/**
 * How well `query` matches `text`, higher is better; `null` when it does
 * not match. Every character of the query must appear in order (case
 * ignored); whole substrings, matches at the start of a word and runs of
 * consecutive characters score higher, so "gen" finds "general" before
 * "green energy". Words of the query match in any order ("proj green"
 * finds #green-energy in Project X).
 */
export function fuzzyScore(query: string, text: string): number | null {
  const words = query.trim().toLowerCase().split(/\s+/).filter((w) => w !== '');
  const t = text.toLowerCase();
  if (words.length === 0) return 0;
  let total = 0;
  for (const word of words) {
    const score = wordScore(word, t);
    if (score === null) return null;
    total += score;
  }
  return total;
}

function wordScore(q: string, t: string): number | null {
  const at = t.indexOf(q);
  if (at !== -1) return 1000 - at * 2 + (at === 0 || !isWordChar(t[at - 1] ?? '') ? 200 : 0) - t.length;
  let score = 0;
  let from = 0;
  let previous = -2;
  for (const c of q) {
    const found = t.indexOf(c, from);
    if (found === -1) return null;
    score += found === previous + 1 ? 15 : 0;
    score += found === 0 || !isWordChar(t[found - 1] ?? '') ? 10 : 0;
    score -= Math.min(found - from, 10);
    previous = found;
    from = found + 1;
  }
  return score - t.length;
}

function isWordChar(c: string): boolean {
  return /[\p{L}\p{N}]/u.test(c);
}

/** Every room (to its first channel), channel and DM of `rooms`, in sidebar order; a DM is labelled by `nameOf` its peer. */
export function targetsOf(rooms: readonly RoomWithChannels[], nameOf: (peer: Peer) => string = (peer) => peer.username): Target[] {
  const targets: Target[] = [];
  for (const room of rooms) {
    if (room.kind === 'dm') continue;
    const first = room.channels[0];
    if (first !== undefined) targets.push({ kind: 'room', key: `room-${room.id}`, label: room.name, detail: 'Room', channelId: first.id });
    for (const channel of room.channels) {
      targets.push({ kind: 'channel', key: `channel-${channel.id}`, label: `#${channel.name}`, detail: room.name, channelId: channel.id });
    }
  }
  for (const room of rooms) {
    const channel = room.channels[0];
    if (room.kind !== 'dm' || channel === undefined) continue;
    const peer = room.dm_peer;
    const label = peer === null ? room.name : nameOf(peer);
    targets.push({ kind: 'dm', key: `dm-${room.id}`, label, detail: 'Direct message', channelId: channel.id, ...(peer !== null && label !== peer.username ? { username: peer.username } : {}) });
  }
  return targets;
}

/** The text a target is matched on: its label, for a channel its room too, for a DM its peer's username too. */
function haystack(target: Target): string {
  if (target.kind === 'channel') return `${target.label.slice(1)} ${target.detail}`;
  if (target.kind === 'dm' && target.username !== undefined) return `${target.label} ${target.username}`;
  return target.label;
}

/**
 * The targets matching `query`, best first (ties keep their order); all of
 * them, in order, for an empty query. At most `limit`.
 */
export function rank(query: string, targets: readonly Target[], limit = 30): Target[] {
  return targets
    .map((target, index) => ({ target, index, score: fuzzyScore(query, haystack(target)) }))
    .filter((m): m is { target: Target; index: number; score: number } => m.score !== null)
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .slice(0, limit)
    .map((m) => m.target);
}

/** The channels in the order the sidebar lists them: rooms' channels, then DMs. */
export function sidebarChannelIds(rooms: readonly RoomWithChannels[]): number[] {
  const groups = rooms.filter((r) => r.kind !== 'dm').flatMap((r) => r.channels.map((c) => c.id));
  const dms = rooms.filter((r) => r.kind === 'dm').flatMap((r) => (r.channels[0] === undefined ? [] : [r.channels[0].id]));
  return [...groups, ...dms];
}

/**
 * The channel `step` places from `current` in `order` (wrapping around);
 * from no channel, the first (down) or the last (up). `null` when there is
 * none to go to.
 */
export function neighbourChannel(order: readonly number[], current: number | null, step: 1 | -1): number | null {
  if (order.length === 0) return null;
  const at = current === null ? -1 : order.indexOf(current);
  if (at === -1) return (step === 1 ? order[0] : order[order.length - 1]) ?? null;
  const next = order[(at + step + order.length) % order.length] ?? null;
  return next === current ? null : next;
}
