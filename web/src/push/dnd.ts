// Do-not-disturb hours between the form (two `<input type="time">` values in
// the browser's own time) and the API (minutes after midnight plus the
// offset from UTC they are in).

import type { DndHours } from './api.ts';

/** "HH:MM" → minutes after midnight, or null when it is not a time. */
export function minutesOf(value: string): number | null {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value);
  if (match === null) return null;
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Minutes after midnight → "HH:MM". */
export function timeOf(minutes: number): string {
  const m = ((Math.trunc(minutes) % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** The browser's offset from UTC in minutes east (UTC+1 → 60), as the server takes it. */
export function browserUtcOffset(at: Date = new Date()): number {
  // `getTimezoneOffset` counts minutes west, and is -0 at UTC.
  return -at.getTimezoneOffset() || 0;
}

export type DndForm = { from: string; to: string };

/**
 * The hours the form describes, in `utcOffset`; null for an empty form (no
 * hours). Throws 'incomplete' when only one end is set and 'same' when both
 * are the same minute (the server refuses an empty window).
 */
export function dndFromForm(form: DndForm, utcOffset: number): DndHours | null {
  if (form.from === '' && form.to === '') return null;
  const start = minutesOf(form.from);
  const end = minutesOf(form.to);
  if (start === null || end === null) throw new Error('incomplete');
  if (start === end) throw new Error('same');
  return { start, end, utc_offset: utcOffset };
}

/**
 * The form for stored hours, shown in the browser's time now: hours saved
 * from a browser in another time zone are moved by the difference, so the
 * form always shows local times.
 */
export function formFromDnd(dnd: DndHours | null, utcOffset: number): DndForm {
  if (dnd === null) return { from: '', to: '' };
  const shift = utcOffset - dnd.utc_offset;
  return { from: timeOf(dnd.start + shift), to: timeOf(dnd.end + shift) };
}

/** "+01:00", "-05:30", "+00:00": an offset as the hint shows it after "UTC". */
export function offsetLabel(utcOffset: number): string {
  const sign = utcOffset < 0 ? '-' : '+';
  const abs = Math.abs(utcOffset);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
