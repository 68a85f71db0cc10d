// The backfill's locked messages: read without their key, kept by version,
// read again once the key is held, dropped when the history no longer has
// them. The engine, the history API and the index are fakes here; the
// browser tests run the real ones.

import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Message } from '../api/messages.ts';

const world = vi.hoisted(() => ({
  /** The channel's history, oldest first. */
  history: [] as { id: number; version: number; deleted: boolean }[],
  /** History pages served (`olderThan` calls). */
  olderPages: 0,
  /** Key versions this browser holds. */
  held: new Set<number>(),
}));

vi.mock('../e2ee/engine.ts', () => ({
  holdsKey: (_channel: number, version: number) => world.held.has(version),
  readForIndex: (messages: readonly Message[]) =>
    Promise.resolve(
      Object.fromEntries(
        messages
          .filter((m) => !m.deleted)
          .map((m) => [m.id, world.held.has(m.key_version ?? 0) ? { kind: 'text', text: `message ${m.id}`, what: null } : { kind: 'no-key', version: m.key_version }]),
      ),
    ),
}));

vi.mock('../state/session.ts', () => ({ authenticated: <T>(call: () => Promise<T>) => call() }));

vi.mock('../api/messages.ts', () => {
  const message = (m: { id: number; version: number; deleted: boolean }) =>
    ({ id: m.id, channel_id: 1, sender_id: 2, sender_username: 'bob', created_at: '2026-12-01T00:00:00Z', content: null, envelope: 'sealed', key_version: m.version, deleted: m.deleted, file: null }) as unknown as Message;
  return {
    olderThan: (_channel: number, before: number, limit: number) => {
      world.olderPages += 1;
      const older = world.history.filter((m) => m.id < before).reverse();
      return Promise.resolve({ messages: older.slice(0, limit).map(message), has_more: older.length > limit });
    },
    newerThan: (_channel: number, after: number, limit: number) => {
      const newer = world.history.filter((m) => m.id > after);
      return Promise.resolve({ messages: newer.slice(0, limit).map(message), has_more: newer.length > limit });
    },
  };
});

const { Backfill, backfillView } = await import('./backfill.ts');
type Index = ConstructorParameters<typeof Backfill>[0];

/** The index's writes, in memory. */
function fakeIndex() {
  const records = new Map<number, string>();
  const states = new Map<string, unknown>();
  const index = {
    spent: {},
    add: (list: { id: number; text: string }[]) => {
      for (const r of list) records.set(r.id, r.text);
      return Promise.resolve();
    },
    remove: (ids: number[]) => {
      for (const id of ids) records.delete(id);
      return Promise.resolve();
    },
    state: (name: string) => Promise.resolve(states.get(name)),
    setState: (name: string, value: unknown) => {
      states.set(name, structuredClone(value));
      return Promise.resolve();
    },
  };
  return { records, index: index as unknown as Index };
}

const channels = () => [{ id: 1, is_encrypted: true }] as never;

beforeEach(() => {
  const stored = new Map<string, string>();
  vi.stubGlobal('localStorage', {
    getItem: (k: string) => stored.get(k) ?? null,
    setItem: (k: string, v: string) => stored.set(k, v),
    removeItem: (k: string) => stored.delete(k),
  });
  // 450 messages: 1–300 under version 1, 301–450 under version 2.
  world.history = Array.from({ length: 450 }, (_, i) => ({ id: i + 1, version: i < 300 ? 1 : 2, deleted: false }));
  world.held = new Set([1]);
});

describe('locked messages', () => {
  it('are counted apart, kept, and indexed once their key arrives', async () => {
    const { records, index } = fakeIndex();
    const backfill = new Backfill(index, 7, channels);
    await backfill.run();
    expect(records.size).toBe(300);
    expect(backfillView.value).toMatchObject({ state: 'done', indexed: 300, locked: 150 });

    // A key of another version arriving changes nothing.
    backfill.keysArrived();
    await backfill.run();
    expect(records.size).toBe(300);

    // Version 2 arrives; one of its messages was deleted meanwhile.
    world.held.add(2);
    world.history[399] = { id: 400, version: 2, deleted: true };
    backfill.keysArrived();
    await vi.waitFor(() => expect(backfillView.value.locked).toBe(0));
    await vi.waitFor(() => expect(backfillView.value.state).toBe('done'));
    expect(records.size).toBe(449);
    expect(records.has(400)).toBe(false);
    expect(records.get(450)).toBe('message 450');
    expect(backfillView.value.indexed).toBe(450);
  });

  it('survive a reload: the next page load reads them once their key is held', async () => {
    const { records, index } = fakeIndex();
    await new Backfill(index, 7, channels).run();
    expect(backfillView.value.locked).toBe(150);

    world.held.add(2);
    const again = new Backfill(index, 7, channels);
    await again.start();
    again.keysArrived();
    await vi.waitFor(() => expect(backfillView.value.locked).toBe(0));
    await vi.waitFor(() => expect(backfillView.value.state).toBe('done'));
    expect(records.size).toBe(450);
  });

  it('are read again without paging through the history between them', async () => {
    // 5,000 messages; three far apart were sealed under a key this browser lacks.
    world.history = Array.from({ length: 5000 }, (_, i) => ({ id: i + 1, version: [100, 2500, 4900].includes(i + 1) ? 2 : 1, deleted: false }));
    const { records, index } = fakeIndex();
    const backfill = new Backfill(index, 7, channels);
    await backfill.run();
    expect(backfillView.value.locked).toBe(3);

    world.held.add(2);
    world.olderPages = 0;
    backfill.keysArrived();
    await vi.waitFor(() => expect(backfillView.value.locked).toBe(0));
    await vi.waitFor(() => expect(backfillView.value.state).toBe('done'));
    expect(records.size).toBe(5000);
    // One page per locked message, not the two dozen pages between the first and the last.
    expect(world.olderPages).toBeLessThanOrEqual(3);
  });

  it('stay locked while their key is missing', async () => {
    const { records, index } = fakeIndex();
    const backfill = new Backfill(index, 7, channels);
    await backfill.run();
    backfill.keysArrived();
    await backfill.run();
    expect(backfillView.value).toMatchObject({ indexed: 300, locked: 150 });
    expect([...records.keys()].every((id) => id <= 300)).toBe(true);
  });
});
