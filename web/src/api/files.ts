// File uploads and downloads (`/api/channels/{id}/files`, `/api/files/{id}`)
// and room resources (`/api/rooms/{id}/resources`).
//
// Uploads send the raw file (or, in an encrypted channel, the ciphertext
// made in this page) through `./upload.ts`, which reports progress.

import { ApiError, NETWORK_ERROR } from './errors.ts';
import { sendBytes, UploadCancelled } from './upload.ts';
import { apiRequest } from './http.ts';
import type { Message } from './messages.ts';
import { t } from '../i18n/index.ts';

/** A stored file as the server describes it. */
export interface FileInfo {
  id: number;
  channel_id?: number;
  uploader_id?: number | null;
  /** Null for encrypted files: the name travels inside the encrypted message. */
  name: string | null;
  content_type: string;
  size: number;
  /** Hex SHA-256 of the stored bytes (the ciphertext when encrypted). */
  sha256: string;
  encrypted: boolean;
  message_id?: number | null;
  created_at?: string;
  url: string;
}

export interface Uploaded {
  file: FileInfo;
  /** The message the server posted (plaintext channels only). */
  message: Message | null;
}

export interface UploadOptions {
  /** Plaintext channels only; an encrypted upload carries no name. */
  name?: string;
  caption?: string;
  clientMsgId?: string;
  onProgress?: (sent: number, total: number) => void;
  signal?: AbortSignal;
}

export { UploadCancelled };

/** Uploads one file's bytes to a channel, reporting progress; cancellable through `signal`. */
export async function uploadFile(channelId: number, body: Blob, options: UploadOptions = {}): Promise<Uploaded> {
  const query = new URLSearchParams();
  if (options.name !== undefined) query.set('name', options.name);
  if (options.caption !== undefined && options.caption !== '') query.set('caption', options.caption);
  if (options.clientMsgId !== undefined) query.set('client_msg_id', options.clientMsgId);
  const qs = query.toString();
  const answer = await sendBytes('POST', `/api/channels/${channelId}/files${qs === '' ? '' : `?${qs}`}`, body, options);
  return { file: answer['file'] as FileInfo, message: (answer['message'] as Message | undefined) ?? null };
}

/** The bytes of a file (the ciphertext for an encrypted one). */
export async function downloadBytes(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, NETWORK_ERROR, 'The server could not be reached.');
  }
  if (!response.ok) throw new ApiError(response.status, `http_${response.status}`, t('files.downloadFailed'));
  return new Uint8Array(await response.arrayBuffer());
}

/** The files of a channel, newest first. */
export async function channelFiles(channelId: number): Promise<FileInfo[]> {
  const answer = await apiRequest<{ files: FileInfo[] }>('GET', `/api/channels/${channelId}/files`);
  return answer.files;
}

/** A shared link or document of a room. */
export interface Resource {
  id: number;
  room_id: number;
  channel_id: number | null;
  title: string | null;
  url: string | null;
  description: string | null;
  envelope: string | null;
  key_version: number | null;
  file_id: number | null;
  pinned: boolean;
  created_by: number | null;
  created_by_username: string | null;
  created_at: string;
  updated_at?: string;
}

export interface ResourceFields {
  title: string;
  url: string;
  description: string;
  pinned: boolean;
}

export async function listResources(roomId: number, q?: string): Promise<Resource[]> {
  const qs = q !== undefined && q.trim() !== '' ? `?q=${encodeURIComponent(q.trim())}` : '';
  const answer = await apiRequest<{ resources: Resource[] }>('GET', `/api/rooms/${roomId}/resources${qs}`);
  return answer.resources;
}

export async function addResource(roomId: number, fields: ResourceFields): Promise<Resource> {
  const answer = await apiRequest<{ resource: Resource }>('POST', `/api/rooms/${roomId}/resources`, fields);
  return answer.resource;
}

export async function updateResource(roomId: number, resourceId: number, fields: ResourceFields): Promise<Resource> {
  const answer = await apiRequest<{ resource: Resource }>('PUT', `/api/rooms/${roomId}/resources/${resourceId}`, fields);
  return answer.resource;
}

export async function removeResource(roomId: number, resourceId: number): Promise<void> {
  await apiRequest<unknown>('DELETE', `/api/rooms/${roomId}/resources/${resourceId}`);
}
