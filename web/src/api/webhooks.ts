// A channel's webhooks (`/api/channels/{id}/webhooks`, `…/outgoing_webhooks`),
// for the room's owner and admins. An incoming webhook's URL and an outgoing
// one's signing secret come back once, when it is made.

import { apiRequest } from './http.ts';

export interface IncomingWebhook {
  id: number;
  channel_id: number;
  name: string;
  allow_overrides: boolean;
  creator_username: string | null;
  created_at: string;
  last_used_at: string | null;
}

export interface OutgoingWebhook {
  id: number;
  channel_id: number;
  url: string;
  keywords: string[];
  creator_username: string | null;
  created_at: string;
}

export interface Delivery {
  id: number;
  message_id: number;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  updated_at: string;
}

export async function listIncoming(channelId: number): Promise<IncomingWebhook[]> {
  return (await apiRequest<{ webhooks: IncomingWebhook[] }>('GET', `/api/channels/${channelId}/webhooks`)).webhooks;
}

/** Makes one; its URL, shown only now. */
export async function createIncoming(channelId: number, name: string): Promise<string> {
  const made = await apiRequest<{ webhook: { url: string } }>('POST', `/api/channels/${channelId}/webhooks`, { name });
  return made.webhook.url;
}

export async function deleteIncoming(channelId: number, id: number): Promise<void> {
  await apiRequest('DELETE', `/api/channels/${channelId}/webhooks/${id}`);
}

export async function listOutgoing(channelId: number): Promise<OutgoingWebhook[]> {
  return (await apiRequest<{ webhooks: OutgoingWebhook[] }>('GET', `/api/channels/${channelId}/outgoing_webhooks`)).webhooks;
}

/** Registers one; its signing secret, shown only now. */
export async function createOutgoing(channelId: number, url: string, keywords: string[]): Promise<string> {
  const made = await apiRequest<{ secret: string }>('POST', `/api/channels/${channelId}/outgoing_webhooks`, { url, keywords });
  return made.secret;
}

export async function deleteOutgoing(channelId: number, id: number): Promise<void> {
  await apiRequest('DELETE', `/api/channels/${channelId}/outgoing_webhooks/${id}`);
}

export async function deliveries(channelId: number, id: number): Promise<Delivery[]> {
  return (await apiRequest<{ deliveries: Delivery[] }>('GET', `/api/channels/${channelId}/outgoing_webhooks/${id}/deliveries`)).deliveries;
}
