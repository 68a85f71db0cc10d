// Threads (`/api/channels/{id}/threads/{root_id}/messages`, `/api/threads…`):
// a thread's replies, following, the per-thread read marker and the list of
// followed threads. The server stores ids only: in encrypted channels the
// replies come back as envelopes, decrypted here like the timeline's.

import { apiRequest } from './http.ts';
import type { Message } from './messages.ts';

/** What a thread's root shows of its replies. */
export interface ThreadSummary {
  reply_count: number;
  last_reply_at: string | null;
  /** Up to five repliers, in the order of their first reply. */
  participants: number[];
}

export interface ThreadPage {
  root: Message;
  /** Oldest first (the API's `before` pages are newest first; this turns them). */
  messages: Message[];
  has_more: boolean;
  following: boolean;
  unread: number;
}

export interface ThreadState {
  following: boolean;
  unread: number;
}

export interface FollowedThread {
  room_id: number;
  root: Message;
  unread: number;
}

export interface FollowedPage {
  threads: FollowedThread[];
  next: number | null;
}

/** The newest replies of a thread (or those older than `before`), oldest first. */
export async function threadPage(channelId: number, rootId: number, before?: number): Promise<ThreadPage> {
  const query = before === undefined ? '' : `?before=${before}`;
  const page = await apiRequest<ThreadPage>('GET', `/api/channels/${channelId}/threads/${rootId}/messages${query}`);
  return { ...page, messages: [...page.messages].reverse() };
}

/** Every reply after `after`, oldest first, a page at a time (catching up after a reconnect). */
export function repliesAfter(channelId: number, rootId: number, after: number): Promise<ThreadPage> {
  return apiRequest<ThreadPage>('GET', `/api/channels/${channelId}/threads/${rootId}/messages?after=${after}&limit=200`);
}

export function setFollowing(rootId: number, following: boolean): Promise<ThreadState> {
  return apiRequest<ThreadState>(following ? 'PUT' : 'DELETE', `/api/threads/${rootId}/follow`);
}

export function markThreadRead(rootId: number, messageId: number): Promise<ThreadState> {
  return apiRequest<ThreadState>('POST', `/api/threads/${rootId}/read`, { message_id: messageId });
}

export function followedThreads(before: number | null = null): Promise<FollowedPage> {
  const query = before === null ? '' : `?before=${before}`;
  return apiRequest<FollowedPage>('GET', `/api/threads${query}`);
}
