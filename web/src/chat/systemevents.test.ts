import { describe, expect, it } from 'vitest';
import type { SystemEvent, SystemEventKind } from '../api/events.ts';
import { describeEvent, interleave, mergeEvents, needsOlder, shownEvents } from './systemevents.ts';

const alice = { id: 1, username: 'alice' };
const bob = { id: 2, username: 'bob' };
const charlie = { id: 3, username: 'charlie' };

function ev(id: number, kind: SystemEventKind, time: string, extra: Partial<SystemEvent> = {}): SystemEvent {
  return { id, room_id: 1, channel_id: null, kind, actor: null, target: null, detail: '', created_at: time, ...extra };
}

describe('mergeEvents', () => {
  it('keeps events sorted by id and each once, whatever pages overlap', () => {
    const a = ev(1, 'joined', '2026-03-02T10:00:00Z');
    const b = ev(2, 'left', '2026-03-02T10:01:00Z');
    const c = ev(3, 'added', '2026-03-02T10:02:00Z');
    expect(mergeEvents([b, c], [a, b]).map((e) => e.id)).toEqual([1, 2, 3]);
    const same = [a];
    expect(mergeEvents(same, [])).toBe(same);
  });
});

describe('how far back events are fetched and shown', () => {
  const events = [ev(5, 'joined', '2026-03-02T10:00:00Z'), ev(6, 'left', '2026-03-02T11:00:00Z')];

  it('fetches older events until they reach before the oldest loaded message', () => {
    expect(needsOlder({ events, hasOlder: true }, '2026-03-02T09:00:00Z')).toBe(true);
    expect(needsOlder({ events, hasOlder: true }, '2026-03-02T10:30:00Z')).toBe(false);
    expect(needsOlder({ events, hasOlder: false }, '2026-03-02T09:00:00Z')).toBe(false);
    // The whole history is loaded: every event belongs.
    expect(needsOlder({ events, hasOlder: true }, null)).toBe(true);
    expect(needsOlder({ events: [], hasOlder: true }, '2026-03-02T09:00:00Z')).toBe(true);
  });

  it('shows only events inside the loaded history, all of them at its start', () => {
    expect(shownEvents(events, '2026-03-02T10:30:00Z', false).map((e) => e.id)).toEqual([6]);
    expect(shownEvents(events, '2026-03-02T10:30:00Z', true).map((e) => e.id)).toEqual([5, 6]);
    expect(shownEvents(events, null, false).map((e) => e.id)).toEqual([5, 6]);
  });
});

describe('interleave', () => {
  it('puts each event before the first newer message, keeping the messages’ order', () => {
    const messages = [
      { key: 'm1', created_at: '2026-03-02T10:00:00Z' },
      { key: 'm2', created_at: '2026-03-02T10:05:00Z' },
      { key: 'm3', created_at: '2026-03-02T10:05:00Z' },
    ];
    const events = [
      { key: 'e0', created_at: '2026-03-02T09:00:00Z' },
      { key: 'e1', created_at: '2026-03-02T10:03:00Z' },
      { key: 'e2', created_at: '2026-03-02T10:05:00Z' },
      { key: 'e3', created_at: '2026-03-02T11:00:00Z' },
    ];
    expect(interleave(messages, events).map((i) => i.key)).toEqual(['e0', 'm1', 'e1', 'm2', 'm3', 'e2', 'e3']);
    expect(interleave([], events).map((i) => i.key)).toEqual(['e0', 'e1', 'e2', 'e3']);
  });
});

describe('describeEvent', () => {
  const t = '2026-03-02T10:00:00Z';

  it('says who did what in one line', () => {
    expect(describeEvent(ev(1, 'joined', t, { actor: bob, target: bob }))).toBe('bob joined');
    expect(describeEvent(ev(1, 'added', t, { actor: alice, target: bob }))).toBe('alice added bob');
    expect(describeEvent(ev(1, 'left', t, { actor: bob, target: bob }))).toBe('bob left');
    expect(describeEvent(ev(1, 'removed', t, { actor: alice, target: charlie }))).toBe('charlie was removed by alice');
    expect(describeEvent(ev(1, 'removed', t, { target: charlie }))).toBe('charlie was removed');
    expect(describeEvent(ev(1, 'banned', t, { actor: alice, target: charlie }))).toBe('charlie was banned by alice');
    expect(describeEvent(ev(1, 'channel_created', t, { actor: alice, detail: 'plans' }))).toBe('alice created #plans');
    expect(describeEvent(ev(1, 'channel_renamed', t, { actor: alice, detail: 'plans' }))).toBe('alice renamed the channel to #plans');
    expect(describeEvent(ev(1, 'topic_changed', t, { actor: alice, detail: 'Q3' }))).toBe('alice changed the topic to “Q3”');
    expect(describeEvent(ev(1, 'topic_changed', t, { actor: alice }))).toBe('alice cleared the topic');
    expect(describeEvent(ev(1, 'room_renamed', t, { actor: alice, detail: 'Roadmap' }))).toBe('alice renamed the room to Roadmap');
    expect(describeEvent(ev(1, 'added', t, { target: bob }))).toBe('Someone added bob');
  });

  it('gives a key rotation the membership change that caused it, once', () => {
    const left = ev(1, 'left', t, { actor: charlie, target: charlie });
    const renamed = ev(2, 'channel_renamed', t, { actor: alice, detail: 'x' });
    const rotated = ev(3, 'key_rotated', t, { actor: alice, detail: '2' });
    expect(describeEvent(rotated, [left, renamed])).toBe('The encryption key was rotated (charlie left)');
    expect(describeEvent(rotated, [ev(1, 'removed', t, { actor: alice, target: charlie })])).toBe('The encryption key was rotated (charlie was removed)');
    expect(describeEvent(rotated, [left, rotated])).toBe('The encryption key was rotated');
    expect(describeEvent(rotated)).toBe('The encryption key was rotated');
  });

  it('names people as it is told (display names, in the view)', () => {
    const nameOf = (p: { id: number; username: string }) => (p.username === 'alice' ? 'Alice Liddell' : p.username);
    expect(describeEvent(ev(1, 'added', t, { actor: alice, target: bob }), [], nameOf)).toBe('Alice Liddell added bob');
    const rotated = ev(3, 'key_rotated', t, { actor: bob, detail: '2' });
    expect(describeEvent(rotated, [ev(1, 'left', t, { actor: alice, target: alice })], nameOf)).toBe('The encryption key was rotated (Alice Liddell left)');
  });
});
