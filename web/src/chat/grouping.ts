// Groups a channel's messages for display: a heading per day, and runs of
// messages by the same sender within a few minutes shown under one name.

/** What grouping needs to know about a message (committed or pending). */
export interface Groupable {
  key: string;
  sender: string;
  /** ISO 8601. */
  created_at: string;
}

export interface SenderGroup<T> {
  sender: string;
  items: T[];
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
    if (group !== undefined && group.sender === item.sender && time - lastTime <= GROUP_GAP_MS) {
      group.items.push(item);
    } else {
      dayGroup.groups.push({ sender: item.sender, items: [item] });
    }
    lastTime = time;
  }
  return days;
}

/** "Today", "Yesterday" or the date, for a day heading. */
export function dayLabel(day: string, now: Date = new Date()): string {
  const today = localDay(now.toISOString());
  const yesterday = localDay(new Date(now.getTime() - 86_400_000).toISOString());
  if (day === today) return 'Today';
  if (day === yesterday) return 'Yesterday';
  const [y, m, d] = day.split('-').map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1).toLocaleDateString(undefined, {
    weekday: 'long',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
  });
}
