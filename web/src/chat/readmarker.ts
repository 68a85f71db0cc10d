// The "New messages" divider: where the unread part of a channel begins.
//
// The server counts as unread the live messages of others after the user's
// read marker. When a channel is opened with `unread` such messages, the
// first of them is the `unread`-th of others' live messages counted back
// from the newest; the divider goes just before it.

import type { Message } from '../api/messages.ts';

/**
 * The id of the first unread message, or null when nothing is unread. When
 * fewer are loaded than are unread, the unread part starts before the loaded
 * history and the oldest loaded one is the first shown.
 */
export function firstUnreadId(messages: readonly Message[], unread: number, myId: number): number | null {
  if (unread <= 0) return null;
  let seen = 0;
  let oldest: number | null = null;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const m = messages[i];
    if (m === undefined || m.deleted || m.sender_id === myId) continue;
    seen += 1;
    oldest = m.id;
    if (seen === unread) break;
  }
  return oldest;
}
