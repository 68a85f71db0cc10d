import { describe, expect, it } from 'vitest';
import { browserUtcOffset, dndFromForm, formFromDnd, minutesOf, offsetLabel, timeOf } from './dnd.ts';

describe('do-not-disturb hours', () => {
  it('turns times into minutes after midnight and back', () => {
    expect(minutesOf('00:00')).toBe(0);
    expect(minutesOf('22:30')).toBe(1350);
    expect(minutesOf('23:59')).toBe(1439);
    for (const bad of ['', '24:00', '7:00', '12:60', 'noon']) expect(minutesOf(bad)).toBeNull();
    expect(timeOf(1350)).toBe('22:30');
    expect(timeOf(-30)).toBe('23:30');
    expect(timeOf(1440 + 61)).toBe('01:01');
  });

  it('sends the hours in the browser offset, or none for an empty form', () => {
    expect(dndFromForm({ from: '22:00', to: '07:00' }, 60)).toEqual({ start: 1320, end: 420, utc_offset: 60 });
    expect(dndFromForm({ from: '', to: '' }, 60)).toBeNull();
    expect(() => dndFromForm({ from: '22:00', to: '' }, 60)).toThrow('incomplete');
    expect(() => dndFromForm({ from: '08:00', to: '08:00' }, 60)).toThrow('same');
  });

  it('shows stored hours in the local time of this browser', () => {
    expect(formFromDnd(null, 60)).toEqual({ from: '', to: '' });
    expect(formFromDnd({ start: 1320, end: 420, utc_offset: 60 }, 60)).toEqual({ from: '22:00', to: '07:00' });
    // Saved at UTC+1, read at UTC-5: six hours earlier.
    expect(formFromDnd({ start: 1320, end: 420, utc_offset: 60 }, -300)).toEqual({ from: '16:00', to: '01:00' });
  });

  it('counts the offset east of UTC, as the server does', () => {
    const at = new Date('2026-06-01T12:00:00Z');
    expect(browserUtcOffset(at)).toBe(-at.getTimezoneOffset() || 0);
    expect(Object.is(browserUtcOffset(at), -0)).toBe(false);
    expect(offsetLabel(60)).toBe('+01:00');
    expect(offsetLabel(-330)).toBe('-05:30');
    expect(offsetLabel(0)).toBe('+00:00');
  });
});
