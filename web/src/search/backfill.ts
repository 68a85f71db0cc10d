// The background backfill of the local index: every encrypted channel's
// history, newest first, a page at a time (GET /api/channels/{id}/messages
// ?before=…), read by the E2EE engine without being shown, then indexed.
// Where each channel stopped is kept in the index (sealed), so a reload goes
// on from there; on each start it also catches up on what was written since
// the newest message it indexed. It can be paused (remembered in
// localStorage, which learns nothing but that flag) and resumed.
//
// A message whose key this browser does not hold yet (its share still on
// the way, or never sent to this device) is not indexed and not forgotten:
// its id is kept by key version, and once the key arrives those messages are
// fetched and read again. Without their key they stay counted as locked.

import { signal } from '@preact/signals';
import { type Message, newerThan, olderThan } from '../api/messages.ts';
import type { Channel } from '../api/rooms.ts';
import { holdsKey, readForIndex } from '../e2ee/engine.ts';
import { authenticated } from '../state/session.ts';
import type { LocalIndex } from './index.ts';
import { toIndexed } from './indexed.ts';

/** Where one channel's backfill is. */
interface ChannelProgress {
  /** The oldest message id indexed by paging back; null before the first page. */
  oldest: number | null;
  /** The newest message id seen. */
  newest: number | null;
  /** Messages read from this channel's history. */
  count: number;
  /** Nothing older is left. */
  done: boolean;
  /** Ids of messages read without their key, by key version (at most LOCKED_KEPT per version). */
  locked?: Record<number, number[]>;
}

type Progresses = Record<number, ChannelProgress>;

/** The steps of one page of backfill, timed. */
type Step = 'fetch' | 'read' | 'index' | 'progress';

export interface BackfillView {
  /** Messages read so far, over every encrypted channel (without the locked ones). */
  indexed: number;
  /** Messages read without their key: indexed once it arrives. */
  locked: number;
  /** About how many there are in all (grows as pages reveal each channel's density). */
  estimate: number;
  state: 'idle' | 'running' | 'paused' | 'done' | 'error';
  error: string | null;
  /**
   * Milliseconds of wall time this page's backfill spent in each step
   * (fetching pages, reading them with the E2EE core, writing the index,
   * saving its progress), and the index writes' own split: shown to nobody,
   * read by benchmarks (they say where the time goes).
   */
  spent: Record<string, number>;
}

export const backfillView = signal<BackfillView>({ indexed: 0, estimate: 0, locked: 0, state: 'idle', error: null, spent: {} });

const PAGE = 200;
/** Locked ids kept per key version; beyond that a version's older locked messages are found again only by a new backfill. */
const LOCKED_KEPT = 10_000;
const STATE = 'backfill';

/**
 * About how many messages a channel holds: those read, plus, below the
 * oldest one reached, as many as the channel's density of ids so far says.
 */
function estimateOf(p: ChannelProgress): number {
  if (p.done || p.oldest === null || p.newest === null) return p.count;
  const density = p.count / Math.max(p.newest - p.oldest + 1, 1);
  return p.count + Math.round(density * Math.max(p.oldest - 1, 0));
}

function lockedCount(p: ChannelProgress): number {
  return Object.values(p.locked ?? {}).reduce((n, ids) => n + ids.length, 0);
}

export class Backfill {
  private progress: Progresses = {};
  private running = false;
  private stopped = false;
  /** Keys arrived since locked messages were last read again. */
  private keysArrivedSince = false;
  private readonly spent: Record<Step, number> = { fetch: 0, read: 0, index: 0, progress: 0 };

  constructor(
    private readonly index: LocalIndex,
    private readonly userId: number,
    private readonly channels: () => readonly Channel[],
  ) {}

  private get pausedKey(): string {
    return `securechat-search-paused-${this.userId}`;
  }

  isPaused(): boolean {
    return localStorage.getItem(this.pausedKey) === '1';
  }

  /** Loads where each channel stopped and starts (unless paused). */
  async start(): Promise<void> {
    this.progress = (await this.index.state<Progresses>(STATE)) ?? {};
    this.show(this.isPaused() ? 'paused' : 'idle');
    if (!this.isPaused()) void this.run();
  }

  stop(): void {
    this.stopped = true;
  }

  pause(): void {
    localStorage.setItem(this.pausedKey, '1');
    this.show('paused');
  }

  resume(): void {
    localStorage.removeItem(this.pausedKey);
    this.show(this.running ? 'running' : 'idle');
    void this.run();
  }

  /** Fetches what was written since the last run, then goes on (opening search calls it). */
  catchUp(): void {
    if (this.running) return;
    this.caughtUp = new Set();
    if (!this.isPaused()) void this.run();
  }

  /** Keys arrived (the E2EE engine's key epoch moved): locked messages whose key is now held are read again. */
  keysArrived(): void {
    if (!this.hasLocked()) return;
    this.keysArrivedSince = true;
    if (!this.isPaused()) void this.run();
  }

  /** Goes through every encrypted channel until done, paused or stopped; a second call while running does nothing. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        if (this.stopped || this.isPaused()) return;
        const next = this.channels().find((c) => c.is_encrypted && this.needsWork(c.id));
        if (next === undefined) {
          if (!this.keysArrivedSince) break;
          this.keysArrivedSince = false;
          await this.readUnlocked();
          continue;
        }
        this.show('running');
        await this.step(next.id);
        // Let the page breathe between pages.
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
      this.caughtUp = new Set(this.channels().map((c) => c.id));
      this.show('done');
    } catch (err) {
      if (!this.stopped) this.show('error', err instanceof Error ? err.message : String(err));
    } finally {
      this.running = false;
    }
  }

  /** Channels whose newer messages were fetched in this run. */
  private caughtUp = new Set<number>();

  private needsWork(channelId: number): boolean {
    const p = this.progress[channelId];
    return p === undefined || !p.done || !this.caughtUp.has(channelId);
  }

  /** One page of one channel: newer messages first (once per run), then older ones. */
  private async step(channelId: number): Promise<void> {
    const p = this.progress[channelId] ?? { oldest: null, newest: null, count: 0, done: false };
    let at = performance.now();
    const lap = (step: Step) => {
      const now = performance.now();
      this.spent[step] += now - at;
      at = now;
    };
    let messages: Message[];
    if (!this.caughtUp.has(channelId) && p.newest !== null) {
      const page = await authenticated(() => newerThan(channelId, p.newest ?? 0, PAGE));
      messages = page.messages;
      if (!page.has_more) this.caughtUp.add(channelId);
    } else if (!p.done) {
      const page = await authenticated(() => olderThan(channelId, p.oldest ?? Number.MAX_SAFE_INTEGER, PAGE));
      messages = page.messages;
      p.done = !page.has_more;
      if (p.newest === null) this.caughtUp.add(channelId);
    } else {
      this.caughtUp.add(channelId);
      return;
    }
    lap('fetch');
    if (this.stopped) return;
    const read = await readForIndex(messages);
    lap('read');
    for (const m of messages) {
      const r = read[m.id];
      if (r?.kind !== 'no-key') continue;
      p.locked ??= {};
      const ids = (p.locked[r.version] ??= []);
      if (ids.length < LOCKED_KEPT && !ids.includes(m.id)) ids.push(m.id);
    }
    const indexed = messages.flatMap((m) => toIndexed(m, read[m.id]) ?? []);
    await this.index.add(indexed);
    const gone = messages.filter((m) => m.deleted).map((m) => m.id);
    if (gone.length > 0) await this.index.remove(gone);
    lap('index');
    for (const m of messages) {
      if (p.oldest === null || m.id < p.oldest) p.oldest = m.id;
      if (p.newest === null || m.id > p.newest) p.newest = m.id;
    }
    p.count += messages.length;
    this.progress = { ...this.progress, [channelId]: p };
    await this.index.setState(STATE, this.progress);
    lap('progress');
    this.show('running');
  }

  private hasLocked(): boolean {
    return Object.values(this.progress).some((p) => lockedCount(p) > 0);
  }

  /**
   * Reads again the locked messages whose key this browser now holds: the
   * pages of history from the newest such message back to the oldest, of
   * which only those messages are read. What is still unreadable stays
   * locked; an id the history no longer holds (deleted) is dropped.
   */
  private async readUnlocked(): Promise<void> {
    for (const [key, p] of Object.entries(this.progress)) {
      const channelId = Number(key);
      const versions = Object.entries(p.locked ?? {})
        .filter(([version, ids]) => ids.length > 0 && holdsKey(channelId, Number(version)))
        .map(([version]) => Number(version));
      if (versions.length === 0) continue;
      const wanted = new Set(versions.flatMap((v) => p.locked?.[v] ?? []));
      // Newest first, as history pages come; each page starts just above
      // the next message still wanted, so long stretches of history with
      // nothing locked in them are skipped rather than read.
      const queue = [...wanted].sort((a, b) => b - a);
      let next = 0;
      const seen = new Set<number>();
      const stillLocked = new Map<number, number>();
      for (let top = queue[0]; top !== undefined; top = queue[next]) {
        if (this.stopped) return;
        this.show('running');
        const before = top + 1;
        const page = await authenticated(() => olderThan(channelId, before, PAGE));
        const mine = page.messages.filter((m) => wanted.has(m.id));
        for (const m of mine) seen.add(m.id);
        if (mine.length > 0) {
          const read = await readForIndex(mine);
          await this.index.add(mine.flatMap((m) => toIndexed(m, read[m.id]) ?? []));
          for (const m of mine) {
            const r = read[m.id];
            if (r?.kind === 'no-key') stillLocked.set(m.id, r.version);
          }
        }
        if (page.messages.length === 0) break;
        // Every wanted id at or above the page's oldest is now settled:
        // read, or gone from the history.
        let pageOldest = Number.MAX_SAFE_INTEGER;
        for (const m of page.messages) pageOldest = Math.min(pageOldest, m.id);
        while ((queue[next] ?? 0) >= pageOldest) next += 1;
        if (!page.has_more) break;
      }
      const locked: Record<number, number[]> = {};
      for (const [version, ids] of Object.entries(p.locked ?? {})) {
        const v = Number(version);
        const left = versions.includes(v) ? ids.filter((id) => seen.has(id) && stillLocked.has(id)) : ids;
        if (left.length > 0) locked[v] = left;
      }
      this.progress = { ...this.progress, [channelId]: { ...p, locked } };
      await this.index.setState(STATE, this.progress);
    }
    this.show('running');
  }

  private show(state: BackfillView['state'], error: string | null = null): void {
    const all = Object.values(this.progress);
    const locked = all.reduce((n, p) => n + lockedCount(p), 0);
    backfillView.value = {
      locked,
      indexed: all.reduce((n, p) => n + p.count, 0) - locked,
      estimate: all.reduce((n, p) => n + estimateOf(p), 0),
      state,
      error,
      spent: { ...this.spent, ...this.index.spent },
    };
  }
}
