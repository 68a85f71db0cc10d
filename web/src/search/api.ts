// `GET /api/search`: the server's search of plaintext channels (encrypted
// channels are searched in this browser, see index.ts).

import { apiRequest } from '../api/http.ts';
import type { Message } from '../api/messages.ts';
import type { Segment } from './text.ts';

export interface ServerResult {
  message: Message;
  channel: { id: number; name: string };
  room: { id: number; name: string; kind: string };
  snippet: Segment[];
}

export interface ServerPage {
  results: ServerResult[];
  /** Pass as `before` for the next page; null on the last. */
  next: string | null;
}

export type Sort = 'relevance' | 'newest';

/** One page of the server's results for `q`. */
export async function searchServer(q: string, options: { sort: Sort; before?: string | null; channelId?: number | null; limit?: number }): Promise<ServerPage> {
  const params = new URLSearchParams({ q, sort: options.sort, limit: String(options.limit ?? 20) });
  if (options.before != null) params.set('before', options.before);
  if (options.channelId != null) params.set('channel_id', String(options.channelId));
  const page = await apiRequest<{ results: ServerResult[]; next: string | null }>('GET', `/api/search?${params.toString()}`);
  // A message past its disappearing time is not shown, even in the moment before the server purges it.
  const now = Date.now();
  const results = page.results.filter((r) => r.message.expires_at == null || r.message.expires_at > now);
  return { results, next: page.next };
}
