// A system event of the timeline as one quiet line ("bob joined", "alice
// renamed the channel to #plans"), with its time shown on hover or focus.
// It is never part of a sender's group (grouping.ts: `standalone`), and it
// is a focusable stop of the message list, so keyboard and screen-reader
// users meet it in order with the messages and hear its time.

import type { SystemEvent } from '../../api/events.ts';
import type { Timeline } from '../../chat/timeline.ts';
import { systemEvents } from '../../chat/eventsync.ts';
import { describeEvent, shownEvents } from '../../chat/systemevents.ts';
import { personName } from '../../chat/profiles.ts';
import { formatDateTime, formatTime } from '../../i18n/format.ts';
import './system-events.css';

/** A system event as an item of the message list. */
export interface EventItem {
  key: string;
  sender: string;
  created_at: string;
  kind: 'event';
  standalone: true;
  event: SystemEvent;
  text: string;
}

/** The channel's events to show among its loaded messages, oldest first. */
export function eventItems(channelId: number, timeline: Timeline): EventItem[] {
  const all = systemEvents.value[channelId]?.events ?? [];
  const shown = shownEvents(all, timeline.messages[0]?.created_at ?? null, !timeline.hasOlder);
  return shown.map((event) => ({
    key: `e${event.id}`,
    sender: '',
    created_at: event.created_at,
    kind: 'event',
    standalone: true,
    event,
    text: describeEvent(
      event,
      all.filter((e) => e.id < event.id),
      (p) => personName(p.id, p.username),
    ),
  }));
}

export function SystemEventLine({ item }: { item: EventItem }) {
  const full = formatDateTime(item.created_at) ?? '';
  return (
    <div class="system-event" tabIndex={-1} data-kind={item.event.kind} title={full}>
      <span class="system-event-text">{item.text}</span>{' '}
      <time class="system-event-time" dateTime={item.created_at}>
        {formatTime(item.created_at)}
      </time>
    </div>
  );
}
