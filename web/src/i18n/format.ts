// Dates, times and numbers in the UI's locale, through Intl. Each reads the
// `language` signal (via `intlLocale`), so a shown date follows a change of
// language like the messages around it.

import { intlLocale } from './index.ts';

function parse(value: string | Date): Date | null {
  const d = typeof value === 'string' ? new Date(value) : value;
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Hours and minutes, as beside a message: "14:05", "2:05 PM", "下午2:05". Empty when unreadable. */
export function formatTime(value: string | Date): string {
  const d = parse(value);
  return d === null ? '' : d.toLocaleTimeString(intlLocale(), { hour: '2-digit', minute: '2-digit' });
}

/** Time with the short style of the locale. Empty when unreadable. */
export function formatShortTime(value: string | Date): string {
  const d = parse(value);
  return d === null ? '' : d.toLocaleTimeString(intlLocale(), { timeStyle: 'short' });
}

/** A date and time: "Dec 6, 2026, 2:05 PM", "2026年12月6日 14:05". Null when unreadable. */
export function formatDateTime(value: string | Date): string | null {
  const d = parse(value);
  return d === null ? null : d.toLocaleString(intlLocale(), { dateStyle: 'medium', timeStyle: 'short' });
}

/** A whole day for a heading: "Sunday, December 6, 2026", "2026年12月6日星期日". */
export function formatLongDate(value: Date): string {
  return value.toLocaleDateString(intlLocale(), { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

/** A number with the locale's grouping. */
export function formatNumber(value: number): string {
  return value.toLocaleString(intlLocale());
}
