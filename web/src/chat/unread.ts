// Unread counts per channel, kept in step with the server.
//
// The server's count (from `/api/rooms`, the `mark_read` answer and the
// `unread` event) is authoritative; between those, a live message from
// someone else in a channel the user is not looking at adds one.

export type UnreadCounts = Readonly<Record<number, number>>;

export interface Arrival {
  channelId: number;
  /** The message was sent by the signed-in user (any of their devices). */
  fromMe: boolean;
  /** The user is looking at this channel right now (open and the tab visible). */
  watching: boolean;
  /** The message was already counted (a duplicate delivery). */
  known: boolean;
}

export function afterArrival(counts: UnreadCounts, arrival: Arrival): UnreadCounts {
  if (arrival.fromMe || arrival.watching || arrival.known) return counts;
  return { ...counts, [arrival.channelId]: (counts[arrival.channelId] ?? 0) + 1 };
}

export function setCount(counts: UnreadCounts, channelId: number, unread: number): UnreadCounts {
  if (counts[channelId] === unread) return counts;
  return { ...counts, [channelId]: Math.max(0, unread) };
}

/** The sum over some channels (a room's badge). */
export function total(counts: UnreadCounts, channelIds: readonly number[]): number {
  return channelIds.reduce((sum, id) => sum + (counts[id] ?? 0), 0);
}
