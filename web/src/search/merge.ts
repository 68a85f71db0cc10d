// One list of results from two sources: the server's pages (plaintext
// channels) and the local index (encrypted channels), in one order — the
// server's: relevance (score, then newest) or newest first — and grouped by
// channel for display. While the server has more pages, a local result is
// shown only once it ranks above the server's last result so far, so
// "Load more" never inserts results above ones already seen.

import type { Sort } from './api.ts';
import type { Segment } from './text.ts';

export interface Hit {
  messageId: number;
  channelId: number;
  channelName: string;
  roomName: string;
  /** `room` or `dm`. */
  roomKind: string;
  /** Found by this browser's index of an encrypted channel. */
  local: boolean;
  sender: string | null;
  createdAt: string;
  snippet: Segment[];
  score: number;
}

export interface Group {
  channelId: number;
  channelName: string;
  roomName: string;
  roomKind: string;
  local: boolean;
  hits: Hit[];
}

/** Whether `a` comes before `b` in `sort` order. */
function before(a: Hit, b: Hit, sort: Sort): number {
  return (sort === 'relevance' ? b.score - a.score : 0) || b.messageId - a.messageId;
}

/** The merged list: server hits as paged, local hits that rank within what the server has shown (all once it is done). */
export function mergeHits(server: readonly Hit[], local: readonly Hit[], serverDone: boolean, sort: Sort): Hit[] {
  const last = server.at(-1);
  const shownLocal = serverDone || last === undefined ? local : local.filter((h) => before(h, last, sort) < 0);
  const seen = new Set<number>();
  return [...server, ...shownLocal].filter((h) => (seen.has(h.messageId) ? false : (seen.add(h.messageId), true))).sort((a, b) => before(a, b, sort));
}

/** Hits grouped by channel, the groups in the order of their best hit. */
export function groupByChannel(hits: readonly Hit[]): Group[] {
  const groups = new Map<number, Group>();
  for (const h of hits) {
    let g = groups.get(h.channelId);
    if (g === undefined) {
      g = { channelId: h.channelId, channelName: h.channelName, roomName: h.roomName, roomKind: h.roomKind, local: h.local, hits: [] };
      groups.set(h.channelId, g);
    }
    g.hits.push(h);
  }
  return [...groups.values()];
}
