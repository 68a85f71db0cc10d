// Groups a channel's messages for display: a heading per day, and runs of
// messages by the same sender within a few minutes shown under one name.
// A system event stands alone, never inside a sender's group; and the
// message under the "New messages" divider starts a group of its own, so
// the divider sits above a group, never between a name and its message.

import { formatLongDate } from '../i18n/format.ts';
import { t } from '../i18n/index.ts';

/** What grouping needs to know about a message (committed or pending). */
export interface Groupable {
  key: string;
  sender: string;
  /** ISO 8601. */
  created_at: string;
  /** Starts a new group even when its sender continues one (the first unread message, under the divider). */
  startsGroup?: boolean;
  /** Is a group by itself, which no message joins (a system event). */
  standalone?: boolean;
  /** Posted by an integration (a webhook): never grouped with a person of the same name. */
  bot?: boolean;
}

export interface SenderGroup<T> {
  sender: string;
  items: T[];
  /** An integration's group: its head shows a "bot" badge. */
  bot?: boolean;
  /** A standalone item's group (a system event). */
  standalone?: boolean;
}

export interface DayGroup<T> {
  /** Local calendar day, `YYYY-MM-DD`. */
  day: string;
  groups: SenderGroup<T>[];
}

/** Messages further apart than this start a new group even from the same sender. */
export const GROUP_GAP_MS = 5 * 60 * 1000;

export function localDay(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function groupByDayAndSender<T extends Groupable>(items: readonly T[]): DayGroup<T>[] {
  const days: DayGroup<T>[] = [];
  let lastTime = 0;
  for (const item of items) {
    const day = localDay(item.created_at);
    const time = Date.parse(item.created_at);
    let dayGroup = days.at(-1);
    if (dayGroup === undefined || dayGroup.day !== day) {
      dayGroup = { day, groups: [] };
      days.push(dayGroup);
    }
    const group = dayGroup.groups.at(-1);
    const continues =
      group !== undefined && group.standalone !== true && item.standalone !== true && item.startsGroup !== true && group.sender === item.sender && (group.bot === true) === (item.bot === true) && time - lastTime <= GROUP_GAP_MS;
    if (continues) {
      group.items.push(item);
    } else {
      dayGroup.groups.push(
        item.standalone === true ? { sender: item.sender, items: [item], standalone: true } : { sender: item.sender, items: [item], ...(item.bot === true ? { bot: true } : {}) },
      );
    }
    lastTime = time;
  }
  return days;
}

/** "Today", "Yesterday" or the date, for a day heading. */
export function dayLabel(day: string, now: Date = new Date()): string {
  const today = localDay(now.toISOString());
  const yesterday = localDay(new Date(now.getTime() - 86_400_000).toISOString());
  if (day === today) return t('day.today');
  if (day === yesterday) return t('day.yesterday');
  const [y, m, d] = day.split('-').map(Number);
  return formatLongDate(new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1));
}
