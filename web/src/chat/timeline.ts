// A channel's messages in order: the pure logic behind the message list.
//
// Messages arrive from three places that overlap: the `join_channel` answer,
// history pages fetched while scrolling up, and live events. Ids are
// assigned by the server in commit order, so the list is kept sorted by id
// and every arrival is merged by id: nothing shows twice, and a late copy
// never undoes an edit or a delete that was already seen.

import type { Message } from '../api/messages.ts';

export interface Timeline {
  /** Committed messages, oldest first, unique by id. */
  messages: Message[];
  /** Whether older messages exist on the server than the first one here. */
  hasOlder: boolean;
}

export const EMPTY_TIMELINE: Timeline = { messages: [], hasOlder: false };

/** The newer of two copies of the same message. */
function fresher(a: Message, b: Message): Message {
  if (a.deleted !== b.deleted) return a.deleted ? a : b;
  const ae = a.edited_at ?? '';
  const be = b.edited_at ?? '';
  return be >= ae ? b : a;
}

/** Merges `incoming` into `existing` (both in any order); the result is sorted by id and unique. */
export function mergeMessages(existing: readonly Message[], incoming: readonly Message[]): Message[] {
  if (incoming.length === 0) return existing as Message[];
  const byId = new Map<number, Message>();
  for (const m of existing) byId.set(m.id, m);
  for (const m of incoming) {
    const known = byId.get(m.id);
    byId.set(m.id, known === undefined ? m : fresher(known, m));
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** Adds messages; `hasOlder` is only changed by `addOlder`. */
export function addMessages(timeline: Timeline, incoming: readonly Message[]): Timeline {
  return { ...timeline, messages: mergeMessages(timeline.messages, incoming) };
}

/** Adds a page of older history and records whether there is more. */
export function addOlder(timeline: Timeline, page: readonly Message[], hasMore: boolean): Timeline {
  return { messages: mergeMessages(timeline.messages, page), hasOlder: hasMore };
}

/** Marks a message deleted (its text goes; the row stays, as on the server). */
export function markDeleted(timeline: Timeline, id: number): Timeline {
  if (!timeline.messages.some((m) => m.id === id)) return timeline;
  return {
    ...timeline,
    messages: timeline.messages.map((m) => (m.id === id ? { ...m, deleted: true, content: null, envelope: null } : m)),
  };
}

/** The id to resume after (`join_channel {after}`), or null when nothing is known. */
export function lastId(timeline: Timeline): number | null {
  const last = timeline.messages.at(-1);
  return last === undefined ? null : last.id;
}

/** The id to page back from (`before`), or null when nothing is known. */
export function firstId(timeline: Timeline): number | null {
  const first = timeline.messages[0];
  return first === undefined ? null : first.id;
}
