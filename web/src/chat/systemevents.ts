// System events in a channel's timeline: the pure rules behind the quiet
// lines between messages ("bob joined", "alice renamed the channel to
// #plans", "The encryption key was rotated (charlie left)").
//
// Events come from the server's event pages (newest page, older pages while
// scrolling back, and what follows the last one held after a push or a
// reconnect), so they are kept sorted and unique by id like messages. They
// are shown in time order among the loaded messages, and only as far back
// as the loaded history reaches: an event older than the oldest loaded
// message would otherwise sit at the top above a gap.

import type { EventPerson, SystemEvent } from '../api/events.ts';
import { t } from '../i18n/index.ts';
import { durationLabel } from '../disappearing/timer.ts';

export interface ChannelEvents {
  /** Oldest first, unique by id. */
  events: SystemEvent[];
  /** Whether the server holds events older than the first one here. */
  hasOlder: boolean;
}

/** Merges `incoming` into `existing`: sorted by id, each once. */
export function mergeEvents(existing: readonly SystemEvent[], incoming: readonly SystemEvent[]): SystemEvent[] {
  if (incoming.length === 0) return existing as SystemEvent[];
  const byId = new Map<number, SystemEvent>();
  for (const e of existing) byId.set(e.id, e);
  for (const e of incoming) byId.set(e.id, e);
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** Whether older events must be fetched to cover the loaded history back to `oldestMessage` (null: the whole channel). */
export function needsOlder(state: ChannelEvents, oldestMessage: string | null): boolean {
  if (!state.hasOlder) return false;
  const first = state.events[0];
  if (first === undefined || oldestMessage === null) return true;
  return Date.parse(first.created_at) >= Date.parse(oldestMessage);
}

/**
 * The events to show: all of them once the history reaches the channel's
 * start, else those no older than the oldest loaded message.
 */
export function shownEvents(events: readonly SystemEvent[], oldestMessage: string | null, historyComplete: boolean): SystemEvent[] {
  if (historyComplete || oldestMessage === null) return [...events];
  const from = Date.parse(oldestMessage);
  return events.filter((e) => Date.parse(e.created_at) >= from);
}

/**
 * Puts events among `items` (in their order) by time: each event goes
 * before the first item newer than it, so a change shows where it happened
 * between messages.
 */
export function interleave<T extends { created_at: string }, E extends { created_at: string }>(items: readonly T[], events: readonly E[]): (T | E)[] {
  const out: (T | E)[] = [];
  let next = 0;
  for (const item of items) {
    const time = Date.parse(item.created_at);
    while (next < events.length && Date.parse(events[next]?.created_at ?? '') < time) {
      out.push(events[next] as E);
      next += 1;
    }
    out.push(item);
  }
  for (; next < events.length; next += 1) out.push(events[next] as E);
  return out;
}

/** How a person is named in the lines: by default their username (the view passes chat/profiles.ts's `personName`). */
export type NameOf = (person: EventPerson) => string;

const byUsername: NameOf = (person) => person.username;

function who(person: EventPerson | null, nameOf: NameOf): string {
  return person === null ? t('events.someone') : nameOf(person);
}

/** Why a key was rotated: the membership change just before it (since the previous rotation), as a whole line. */
function rotatedBecause(before: readonly SystemEvent[], nameOf: NameOf): string {
  for (let i = before.length - 1; i >= 0; i -= 1) {
    const e = before[i];
    if (e === undefined || e.kind === 'key_rotated') break;
    const name = who(e.target, nameOf);
    switch (e.kind) {
      case 'left':
        return t('events.rotatedLeft', { name });
      case 'removed':
        return t('events.rotatedRemoved', { name });
      case 'banned':
        return t('events.rotatedBanned', { name });
      case 'joined':
        return t('events.rotatedJoined', { name });
      case 'added':
        return t('events.rotatedAdded', { name });
      default:
        break;
    }
  }
  return t('events.rotated');
}

/**
 * The line for `event`; `before` are the channel's events before it
 * (oldest first), which say why a key was rotated; people are named by `nameOf`.
 */
export function describeEvent(event: SystemEvent, before: readonly SystemEvent[] = [], nameOf: NameOf = byUsername): string {
  const actor = who(event.actor, nameOf);
  const target = who(event.target, nameOf);
  switch (event.kind) {
    case 'joined':
      return t('events.joined', { target });
    case 'added':
      return t('events.added', { actor, target });
    case 'left':
      return t('events.left', { target });
    case 'removed':
      return event.actor === null ? t('events.removed', { target }) : t('events.removedBy', { target, actor });
    case 'banned':
      return event.actor === null ? t('events.banned', { target }) : t('events.bannedBy', { target, actor });
    case 'channel_created':
      return t('events.channelCreated', { actor, channel: event.detail });
    case 'channel_renamed':
      return t('events.channelRenamed', { actor, channel: event.detail });
    case 'topic_changed':
      return event.detail === '' ? t('events.topicCleared', { actor }) : t('events.topicChanged', { actor, topic: event.detail });
    case 'room_renamed':
      return t('events.roomRenamed', { actor, room: event.detail });
    case 'key_rotated':
      return rotatedBecause(before, nameOf);
    case 'disappearing_changed': {
      const seconds = Number(event.detail);
      return seconds > 0 ? t('disappearing.changed', { actor, duration: durationLabel(seconds) }) : t('disappearing.turnedOff', { actor });
    }
    case 'retention_changed': {
      const days = Number(event.detail);
      return days > 0 ? t('retention.changed', { actor, days }) : t('retention.turnedOff', { actor });
    }
  }
}
