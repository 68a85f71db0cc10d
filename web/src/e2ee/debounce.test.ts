import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { debounce } from './debounce.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('debounce', () => {
  it('runs once, the wait after the last schedule', async () => {
    const run = vi.fn(() => Promise.resolve());
    const d = debounce(run, 2000);
    d.schedule();
    await vi.advanceTimersByTimeAsync(1500);
    d.schedule();
    await vi.advanceTimersByTimeAsync(1999);
    expect(run).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(run).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('a steady stream of schedules still runs once maxWait has passed', async () => {
    const run = vi.fn(() => Promise.resolve());
    const d = debounce(run, 2000, 5000);
    for (let t = 0; t < 4900; t += 500) {
      d.schedule();
      await vi.advanceTimersByTimeAsync(500);
    }
    expect(run).toHaveBeenCalledTimes(1);
    // The burst's first schedule came at 0: the run was at 5000, not 2000 after the last.
    d.schedule();
    await vi.advanceTimersByTimeAsync(2000);
    expect(run).toHaveBeenCalledTimes(2);
  });

  it('never overlaps a run: a schedule during one runs again after it', async () => {
    let finish: () => void = () => undefined;
    let active = 0;
    let most = 0;
    const run = vi.fn(
      () =>
        new Promise<void>((resolve) => {
          active += 1;
          most = Math.max(most, active);
          finish = () => {
            active -= 1;
            resolve();
          };
        }),
    );
    const d = debounce(run, 100);
    d.schedule();
    await vi.advanceTimersByTimeAsync(100);
    expect(run).toHaveBeenCalledTimes(1);
    d.schedule();
    await vi.advanceTimersByTimeAsync(500);
    expect(run).toHaveBeenCalledTimes(1);
    finish();
    await vi.advanceTimersByTimeAsync(100);
    expect(run).toHaveBeenCalledTimes(2);
    finish();
    expect(most).toBe(1);
  });

  it('keeps going after a failed run, and cancel forgets a pending one', async () => {
    const run = vi.fn(() => Promise.reject(new Error('offline')));
    const d = debounce(run, 100);
    d.schedule();
    await vi.advanceTimersByTimeAsync(100);
    d.schedule();
    await vi.advanceTimersByTimeAsync(100);
    expect(run).toHaveBeenCalledTimes(2);
    d.schedule();
    d.cancel();
    await vi.advanceTimersByTimeAsync(1000);
    expect(run).toHaveBeenCalledTimes(2);
  });
});
