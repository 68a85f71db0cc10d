// Pinned messages of a channel and the caller's saved messages
// (`/api/channels/{id}/pins`, `/api/saved`). The server stores ids only:
// the messages come back as the timeline has them (encrypted ones as
// envelopes, decrypted here like any other).

import { apiRequest } from './http.ts';
import type { Message } from './messages.ts';

export interface Pin {
  message: Message;
  pinned_by: number | null;
  pinned_by_username: string | null;
  pinned_at: string;
}

export interface PinList {
  pins: Pin[];
  members_may_pin: boolean;
  /** The caller may pin and unpin in this channel. */
  may_pin: boolean;
  max_pins: number;
}

export interface SavedItem {
  message: Message;
  room_id: number;
  saved_at: string;
}

export interface SavedPage {
  saved: SavedItem[];
  next: string | null;
}

export function listPins(channelId: number): Promise<PinList> {
  return apiRequest<PinList>('GET', `/api/channels/${channelId}/pins`);
}

export async function setPinned(channelId: number, messageId: number, pinned: boolean): Promise<void> {
  await apiRequest(pinned ? 'PUT' : 'DELETE', `/api/channels/${channelId}/pins/${messageId}`);
}

export function listSaved(before: string | null): Promise<SavedPage> {
  const query = before === null ? '' : `?before=${encodeURIComponent(before)}`;
  return apiRequest<SavedPage>('GET', `/api/saved${query}`);
}

export async function setSaved(messageId: number, saved: boolean): Promise<void> {
  await apiRequest(saved ? 'PUT' : 'DELETE', `/api/saved/${messageId}`);
}
