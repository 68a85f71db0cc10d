import { describe, expect, it } from 'vitest';
import { dayLabel, groupByDayAndSender } from './grouping.ts';

function at(key: string, sender: string, iso: string) {
  return { key, sender, created_at: iso };
}

describe('groupByDayAndSender', () => {
  it('groups consecutive messages of one sender and splits on sender, gap and day', () => {
    const days = groupByDayAndSender([
      at('1', 'alice', '2026-03-02T10:00:00'),
      at('2', 'alice', '2026-03-02T10:01:00'),
      at('3', 'bob', '2026-03-02T10:02:00'),
      at('4', 'bob', '2026-03-02T10:30:00'),
      at('5', 'bob', '2026-03-03T09:00:00'),
    ]);
    expect(days.map((d) => d.day)).toEqual(['2026-03-02', '2026-03-03']);
    expect(days[0]?.groups.map((g) => g.items.map((i) => i.key))).toEqual([['1', '2'], ['3'], ['4']]);
    expect(days[1]?.groups.map((g) => g.sender)).toEqual(['bob']);
  });

  it('starts a group at the first unread message, so the divider sits above a name, never under one', () => {
    const days = groupByDayAndSender([
      at('1', 'alice', '2026-03-02T10:00:00'),
      { ...at('2', 'alice', '2026-03-02T10:01:00'), startsGroup: true },
      at('3', 'alice', '2026-03-02T10:02:00'),
    ]);
    expect(days[0]?.groups.map((g) => g.items.map((i) => i.key))).toEqual([['1'], ['2', '3']]);
    expect(days[0]?.groups.map((g) => g.sender)).toEqual(['alice', 'alice']);
  });

  it('keeps a system event out of every group, and a message after it starts a new one', () => {
    const days = groupByDayAndSender([
      at('1', 'alice', '2026-03-02T10:00:00'),
      { ...at('e1', '', '2026-03-02T10:00:30'), standalone: true },
      { ...at('e2', '', '2026-03-02T10:00:40'), standalone: true },
      at('2', 'alice', '2026-03-02T10:01:00'),
    ]);
    const groups = days[0]?.groups ?? [];
    expect(groups.map((g) => g.items.map((i) => i.key))).toEqual([['1'], ['e1'], ['e2'], ['2']]);
    expect(groups.map((g) => g.standalone === true)).toEqual([false, true, true, false]);
  });

  it('labels today and yesterday', () => {
    const now = new Date(2026, 2, 3, 12, 0, 0);
    expect(dayLabel('2026-03-03', now)).toBe('Today');
    expect(dayLabel('2026-03-02', now)).toBe('Yesterday');
    expect(dayLabel('2026-01-15', now)).toContain('2026');
  });
});
