// The Web Push endpoints of the server (`/api/push/*` and a channel's
// `/notifications`): the VAPID key, this browser's subscription, the
// account's settings and each channel's level and mute.

import { apiRequest } from '../api/http.ts';

export type Level = 'all' | 'mentions' | 'none';

/** Do-not-disturb hours: minutes after midnight, in `utc_offset` minutes from UTC. */
export interface DndHours {
  start: number;
  end: number;
  utc_offset: number;
}

export interface PushSettings {
  /** Pushes about plaintext channels leave the text out. */
  no_content: boolean;
  dnd: DndHours | null;
}

export interface ChannelNotifications {
  channel_id: number;
  /** The level chosen, or null for the default. */
  level: Level | null;
  /** The level in force (the chosen one or the default). */
  effective_level: Level;
  /** RFC 3339, or null. */
  mute_until: string | null;
}

export async function vapidPublicKey(): Promise<string> {
  return (await apiRequest<{ key: string }>('GET', '/api/push/vapid_public_key')).key;
}

export async function subscribe(subscription: { endpoint: string; keys: { p256dh: string; auth: string } }): Promise<void> {
  await apiRequest('POST', '/api/push/subscriptions', subscription);
}

export async function unsubscribe(endpoint: string): Promise<void> {
  await apiRequest('DELETE', '/api/push/subscriptions', { endpoint });
}

export async function settings(): Promise<PushSettings> {
  const answer = await apiRequest<PushSettings>('GET', '/api/push/settings');
  return { no_content: answer.no_content, dnd: answer.dnd ?? null };
}

export async function saveSettings(value: PushSettings): Promise<PushSettings> {
  const answer = await apiRequest<PushSettings>('PUT', '/api/push/settings', value);
  return { no_content: answer.no_content, dnd: answer.dnd ?? null };
}

export async function channelNotifications(channelId: number): Promise<ChannelNotifications> {
  return apiRequest<ChannelNotifications>('GET', `/api/channels/${channelId}/notifications`);
}

export async function saveChannelNotifications(channelId: number, value: { level: Level | null; mute_until: string | null }): Promise<ChannelNotifications> {
  return apiRequest<ChannelNotifications>('PUT', `/api/channels/${channelId}/notifications`, value);
}
