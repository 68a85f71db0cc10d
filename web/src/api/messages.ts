// Message history (`GET /api/channels/{id}/messages`) and the message shape
// shared with the real-time events.

import type { Reaction } from '../chat/reactions.ts';
import { apiRequest } from './http.ts';
import type { ThreadSummary } from './threads.ts';
import type { MessageFields } from './message-fields.ts';

/** A committed message as the server describes it. */
export interface Message extends MessageFields {
  client_msg_id: string;
  created_at: string;
  edited_at: string | null;
  /** When it disappears (ms since the epoch), if its channel had a timer when it was sent. */
  expires_at?: number | null;
  /** The attached file, if any (its name is null in encrypted channels). */
  file?: Attachment | null;
  /** In history and `join_channel` answers: reactions with whether I am among them (absent when none). */
  reactions?: Reaction[] | null;
  /** On a thread's root: its summary (null while it has no reply). */
  thread?: ThreadSummary | null;
  /** Sent by a bot account. */
  sender_is_bot?: boolean;
  /** Posted through an incoming webhook: shown as this integration, not as `sender_username` (its maker). */
  webhook?: WebhookSender | null;
}

/** The integration a webhook's message shows as its sender. */
export interface WebhookSender {
  id: number;
  name: string;
  /** An https image URL the poster named; not loaded by the page (its CSP allows no remote images). */
  icon_url: string | null;
}

/** A file as a message carries it. */
export interface Attachment {
  id: number;
  name: string | null;
  content_type: string;
  size: number;
  sha256: string;
  encrypted: boolean;
  url: string;
}

export interface HistoryPage {
  /** Oldest first (the API's `before` pages are newest first; this turns them). */
  messages: Message[];
  has_more: boolean;
}

/** Up to `limit` messages older than `before`, oldest first. */
export async function olderThan(channelId: number, before: number, limit = 50): Promise<HistoryPage> {
  const answer = await apiRequest<{ messages: Message[]; has_more: boolean }>(
    'GET',
    `/api/channels/${channelId}/messages?before=${before}&limit=${limit}`,
  );
  return { messages: [...answer.messages].reverse(), has_more: answer.has_more };
}

/** Up to `limit` messages newer than `after`, oldest first (catching up past a resume's limit). */
export async function newerThan(channelId: number, after: number, limit = 200): Promise<HistoryPage> {
  return apiRequest<HistoryPage>('GET', `/api/channels/${channelId}/messages?after=${after}&limit=${limit}`);
}
