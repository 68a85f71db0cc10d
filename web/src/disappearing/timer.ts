// Disappearing messages, the pure part: the timer choices, the header's
// wording of a channel's policy, and the scheduler that removes each
// message from view at its expiry.
//
// When a message disappears is decided by the E2EE core for encrypted
// channels (crates/securechat-e2ee/src/disappearing.rs: the signed log's
// timer, the server's `expires_at` only sooner) and by the server's
// `expires_at` for plaintext ones; this module only acts on those times.
// One browser timer is armed, for the next expiry of all open channels, so
// a long history costs one timer, never one per message, and nothing polls.

import { t } from '../i18n/index.ts';

/** The timers offered in the channel settings, in seconds (null: off). */
export const TIMER_CHOICES: readonly (number | null)[] = [null, 300, 3600, 28_800, 86_400, 604_800, 2_419_200];

/** The longest delay a browser timer takes (2^31 − 1 ms, about 24.8 days); later expiries re-arm on the way. */
export const MAX_DELAY_MS = 2_147_483_647;

/** A duration in seconds as the settings and the header word it ("5 minutes", "1 week"). */
export function durationLabel(seconds: number): string {
  const units: readonly [number, 'week' | 'day' | 'hour' | 'minute'][] = [
    [604_800, 'week'],
    [86_400, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ];
  for (const [size, unit] of units) {
    if (seconds >= size && seconds % size === 0) return t(`disappearing.${unit}`, { count: seconds / size });
  }
  return t('disappearing.minute', { count: Math.max(1, Math.round(seconds / 60)) });
}

/** The channel header's accessible label of the policy; null when messages are kept forever. */
export function policyLabel(timerSeconds: number | null, retentionDays: number | null): string | null {
  if (timerSeconds !== null && timerSeconds > 0) return t('disappearing.header', { duration: durationLabel(timerSeconds) });
  if (retentionDays !== null && retentionDays > 0) return t('retention.header', { count: retentionDays });
  return null;
}

/** The messages whose expiry has come at `now`, and the next expiry still ahead (null: none). */
export function dueAt(expiries: ReadonlyMap<number, number>, now: number): { due: number[]; next: number | null } {
  const due: number[] = [];
  let next: number | null = null;
  for (const [id, at] of expiries) {
    if (at <= now) due.push(id);
    else if (next === null || at < next) next = at;
  }
  return { due, next };
}

export interface Clock {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const browserClock: Clock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => globalThis.setTimeout(run, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * Keeps each tracked message's expiry and calls `expire` with the ids whose
 * time has come, from one timer armed for the earliest expiry. Tracking a
 * message already due expires it at once (history loaded after its time).
 */
export class ExpiryScheduler {
  private readonly expiries = new Map<number, number>();
  private handle: unknown = null;
  private armedFor: number | null = null;

  constructor(
    private readonly expire: (ids: number[]) => void,
    private readonly clock: Clock = browserClock,
  ) {}

  /** Tracks (or updates) messages' expiries in ms; null stops tracking one. */
  track(entries: Iterable<readonly [number, number | null]>): void {
    let changed = false;
    for (const [id, at] of entries) {
      if (at === null) changed = this.expiries.delete(id) || changed;
      else if (this.expiries.get(id) !== at) {
        this.expiries.set(id, at);
        changed = true;
      }
    }
    if (changed) this.run();
  }

  /** Stops tracking messages (deleted, or their channel closed). */
  forget(ids: Iterable<number>): void {
    let changed = false;
    for (const id of ids) changed = this.expiries.delete(id) || changed;
    if (changed) this.run();
  }

  /** Whether `id` is tracked and due at `now`. */
  isDue(id: number, now = this.clock.now()): boolean {
    const at = this.expiries.get(id);
    return at !== undefined && at <= now;
  }

  /** How many messages are tracked. */
  get size(): number {
    return this.expiries.size;
  }

  /** Expires what is due, then arms one timer for the next expiry. */
  run(): void {
    const { due, next } = dueAt(this.expiries, this.clock.now());
    for (const id of due) this.expiries.delete(id);
    if (next !== this.armedFor) {
      if (this.handle !== null) this.clock.clearTimeout(this.handle);
      this.handle = null;
      this.armedFor = next;
      if (next !== null) {
        const delay = Math.min(Math.max(next - this.clock.now(), 0), MAX_DELAY_MS);
        this.handle = this.clock.setTimeout(() => {
          this.handle = null;
          this.armedFor = null;
          this.run();
        }, delay);
      }
    }
    if (due.length > 0) this.expire(due);
  }

  /** Stops the timer and forgets everything (sign-out). */
  clear(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
    this.armedFor = null;
    this.expiries.clear();
  }
}
