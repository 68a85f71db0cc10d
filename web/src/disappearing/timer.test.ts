import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dueAt, durationLabel, ExpiryScheduler, MAX_DELAY_MS, policyLabel, TIMER_CHOICES } from './timer.ts';

describe('dueAt', () => {
  it('splits what is due from the next expiry ahead', () => {
    const expiries = new Map([
      [1, 1000],
      [2, 5000],
      [3, 999],
      [4, 3000],
    ]);
    expect(dueAt(expiries, 1000)).toEqual({ due: [1, 3], next: 3000 });
    expect(dueAt(expiries, 10_000)).toEqual({ due: [1, 2, 3, 4], next: null });
    expect(dueAt(new Map(), 0)).toEqual({ due: [], next: null });
  });
});

describe('ExpiryScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('removes each message at its expiry with one timer for the next one', () => {
    const expired: number[][] = [];
    const scheduler = new ExpiryScheduler((ids) => expired.push(ids));
    scheduler.track([
      [1, 1_000_000 + 300_000],
      [2, 1_000_000 + 60_000],
      [3, 1_000_000 + 300_000],
      [4, null],
    ]);
    expect(vi.getTimerCount()).toBe(1);
    expect(scheduler.size).toBe(3);
    vi.advanceTimersByTime(59_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([[2]]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(240_000);
    expect(expired).toEqual([[2], [1, 3]]);
    expect(vi.getTimerCount()).toBe(0);
    expect(scheduler.size).toBe(0);
  });

  it('expires at once what was already due when it arrived', () => {
    const expired: number[][] = [];
    const scheduler = new ExpiryScheduler((ids) => expired.push(ids));
    scheduler.track([
      [7, 999_999],
      [8, 1_500_000],
    ]);
    expect(expired).toEqual([[7]]);
    expect(scheduler.isDue(8)).toBe(false);
  });

  it('re-arms for an earlier expiry and keeps one timer however many messages', () => {
    const expired: number[][] = [];
    const scheduler = new ExpiryScheduler((ids) => expired.push(ids));
    scheduler.track(Array.from({ length: 500 }, (_, i) => [i, 2_000_000 + i * 1000] as const));
    expect(vi.getTimerCount()).toBe(1);
    scheduler.track([[1000, 1_010_000]]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual([[1000]]);
    // A server shortening a message's life moves it earlier; forgetting drops it.
    scheduler.track([[5, 1_020_000]]);
    scheduler.forget([0]);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual([[1000], [5]]);
    vi.advanceTimersByTime(990_000);
    expect(expired[2]).toEqual([1]);
  });

  it('waits past the longest browser timer by re-arming', () => {
    const expired: number[][] = [];
    const scheduler = new ExpiryScheduler((ids) => expired.push(ids));
    const fourWeeks = 2_419_200_000;
    scheduler.track([[1, 1_000_000 + fourWeeks]]);
    vi.advanceTimersByTime(MAX_DELAY_MS);
    expect(expired).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(fourWeeks - MAX_DELAY_MS);
    expect(expired).toEqual([[1]]);
  });

  it('clear stops the timer', () => {
    const expired: number[][] = [];
    const scheduler = new ExpiryScheduler((ids) => expired.push(ids));
    scheduler.track([[1, 1_100_000]]);
    scheduler.clear();
    vi.advanceTimersByTime(200_000);
    expect(expired).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('labels', () => {
  it('words every choice and the header policy', () => {
    expect(TIMER_CHOICES.filter((s) => s !== null).map((s) => durationLabel(s))).toEqual(['5 minutes', '1 hour', '8 hours', '1 day', '1 week', '4 weeks']);
    expect(policyLabel(86_400, 30)).toBe('Messages disappear after 1 day');
    expect(policyLabel(null, 30)).toBe('Kept 30 days');
    expect(policyLabel(null, null)).toBeNull();
  });
});
