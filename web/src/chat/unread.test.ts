import { describe, expect, it } from 'vitest';
import { afterArrival, setCount, total } from './unread.ts';

const base = { channelId: 4, fromMe: false, watching: false, known: false };

describe('unread counts', () => {
  it('counts a new message from someone else in a channel not being watched', () => {
    expect(afterArrival({}, base)).toEqual({ 4: 1 });
    expect(afterArrival({ 4: 2 }, base)).toEqual({ 4: 3 });
  });

  it('ignores my own messages, the watched channel and duplicates', () => {
    const counts = { 4: 1 };
    expect(afterArrival(counts, { ...base, fromMe: true })).toBe(counts);
    expect(afterArrival(counts, { ...base, watching: true })).toBe(counts);
    expect(afterArrival(counts, { ...base, known: true })).toBe(counts);
  });

  it("takes the server's count and sums a room's channels", () => {
    const counts = setCount({ 4: 3, 5: 2 }, 4, 0);
    expect(counts).toEqual({ 4: 0, 5: 2 });
    expect(total(counts, [4, 5, 6])).toBe(2);
  });
});
