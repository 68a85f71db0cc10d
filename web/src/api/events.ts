// A channel's system events (`GET /api/channels/{id}/events`): joins,
// departures, removals, renames, topics and key rotations, stored by the
// server with each change and paged by event id like message history.

import { apiRequest } from './http.ts';

/** What happened; the server's `kind`. */
export type SystemEventKind =
  | 'joined'
  | 'added'
  | 'left'
  | 'removed'
  | 'banned'
  | 'channel_created'
  | 'channel_renamed'
  | 'topic_changed'
  | 'room_renamed'
  | 'key_rotated'
  | 'disappearing_changed'
  | 'retention_changed';

export interface EventPerson {
  id: number;
  username: string;
}

/** One system event, as the server describes it. */
export interface SystemEvent {
  id: number;
  room_id: number;
  /** Null for a room-wide event (membership, room renamed). */
  channel_id: number | null;
  kind: SystemEventKind;
  actor: EventPerson | null;
  target: EventPerson | null;
  /** The new name or topic, the new key version, the timer's seconds or the retention's days (`0`: off); empty otherwise. */
  detail: string;
  /** ISO 8601. */
  created_at: string;
}

export interface EventsPage {
  /** Oldest first. */
  events: SystemEvent[];
  /** Whether more lie beyond this page in the direction asked. */
  has_more: boolean;
}

/** Up to `limit` events older than `before` (the newest when null), oldest first. */
export async function eventsBefore(channelId: number, before: number | null, limit = 100): Promise<EventsPage> {
  const from = before === null ? '' : `&before=${before}`;
  const answer = await apiRequest<EventsPage>('GET', `/api/channels/${channelId}/events?limit=${limit}${from}`);
  return { events: [...answer.events].reverse(), has_more: answer.has_more };
}

/** Up to `limit` events newer than `after`, oldest first (catching up). */
export async function eventsAfter(channelId: number, after: number, limit = 200): Promise<EventsPage> {
  return apiRequest<EventsPage>('GET', `/api/channels/${channelId}/events?after=${after}&limit=${limit}`);
}
