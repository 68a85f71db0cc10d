// The key endpoints (`/api/users/*/public_key`, `/api/channels/*/key`,
// `share_key`, `request_key`, `key_backup`). Everything sent here is public
// or sealed: bundles, sealed shares, and the passphrase-sealed backup.

import { apiRequest } from '../api/http.ts';

export interface PublishedKey {
  user_id: number;
  public_key: string;
  fingerprint: string;
}

export interface StoredShare {
  channel_id: number;
  key_version: number;
  encrypted_key: string;
  is_key_rotation: boolean;
  sender_id: number;
}

export function publicKey(userId: number): Promise<PublishedKey> {
  return apiRequest<PublishedKey>('GET', `/api/users/${userId}/public_key`);
}

export async function publish(bundle: string): Promise<void> {
  await apiRequest('PUT', '/api/users/me/public_key', { public_key: bundle });
}

/** My sealed copy of a channel key (the current version when `version` is absent). */
export function myShare(channelId: number, version?: number): Promise<StoredShare> {
  const query = version === undefined ? '' : `?version=${version}`;
  return apiRequest<StoredShare>('GET', `/api/channels/${channelId}/key${query}`);
}

export async function shareKey(share: { user_id: number; channel_id: number; encrypted_key: string; is_key_rotation: boolean; key_version: number }): Promise<void> {
  await apiRequest('POST', '/api/channels/share_key', share);
}

export async function requestKey(channelId: number): Promise<number> {
  return (await apiRequest<{ request_id: number }>('POST', `/api/channels/${channelId}/request_key`)).request_id;
}

export async function putBackup(backup: string): Promise<void> {
  await apiRequest('PUT', '/api/users/me/key_backup', { backup });
}

/** My stored backup; null when none is stored. */
export async function getBackup(): Promise<string | null> {
  return (await apiRequest<{ backup: string | null }>('GET', '/api/users/me/key_backup')).backup;
}
