// Rooms, channels, members, DMs and the user directory (`/api/rooms/*`,
// `/api/channels/*`, `/api/dms`, `/api/users`).

import { apiDownload, apiRequest } from './http.ts';
import type { Profile } from './profiles.ts';

export type Role = 'owner' | 'admin' | 'member';

export interface Peer {
  id: number;
  username: string;
}

export interface Room {
  id: number;
  kind: 'room' | 'dm';
  name: string;
  description: string;
  is_private: boolean;
  created_at: string;
  my_role: Role | null;
  member_count: number;
  dm_peer: Peer | null;
  /** Messages older than this many days are deleted; null keeps them forever. */
  retention_days?: number | null;
  /** Members (not only admins and the owner) may pin. */
  members_may_pin: boolean;
  /** Above this many members only the owner and admins may use @channel, @here, @everyone, @room; null: anyone may. */
  everyone_mention_max_members: number | null;
}

export interface Channel {
  id: number;
  room_id: number;
  name: string;
  topic: string;
  is_encrypted: boolean;
  key_version: number;
  /** The version a key rotation is moving to, while its maker shares it. */
  pending_version?: number | null;
  created_at: string;
  /**
   * Messages sent now disappear this many seconds later; null: off. In an
   * encrypted channel only the server's word: the room's signed log decides
   * (`disappearing/glue.ts`).
   */
  disappearing_seconds?: number | null;
  /** Only on `/api/rooms` (my rooms). */
  unread?: number;
  /**
   * Set here, never by the server: the server lists this channel as
   * plaintext although this browser saw it encrypted; it stays encrypted.
   */
  downgraded?: boolean;
}

export interface RoomWithChannels extends Room {
  channels: Channel[];
}

export interface Member {
  user_id: number;
  username: string;
  /** A bot account (its token reaches only its rooms). */
  is_bot?: boolean;
  role: Role;
  joined_at: string;
  /** The person's display name, status, availability and avatar, when they set any (absent: none). */
  profile?: Profile;
}

export interface Ban {
  user_id: number;
  username: string;
  reason: string;
  created_at: string;
}

export interface DirectoryUser {
  id: number;
  username: string;
  /** Shown to site admins only. */
  disabled?: boolean;
}

const enc = encodeURIComponent;

/** My rooms and DMs with their channels and unread counts. */
export async function myRooms(): Promise<RoomWithChannels[]> {
  return (await apiRequest<{ rooms: RoomWithChannels[] }>('GET', '/api/rooms')).rooms;
}

/** Public rooms whose name contains `q`. */
export async function directory(q: string): Promise<Room[]> {
  return (await apiRequest<{ rooms: Room[] }>('GET', `/api/rooms/public?q=${enc(q)}&limit=50`)).rooms;
}

export async function createRoom(name: string, description: string, isPrivate: boolean): Promise<RoomWithChannels> {
  const answer = await apiRequest<{ room: Room; channels: Channel[] }>('POST', '/api/rooms', {
    name,
    description,
    is_private: isPrivate,
  });
  return { ...answer.room, channels: answer.channels };
}

export async function joinRoom(roomId: number): Promise<void> {
  await apiRequest('POST', `/api/rooms/${roomId}/join`);
}

export async function leaveRoom(roomId: number): Promise<void> {
  await apiRequest('POST', `/api/rooms/${roomId}/leave`);
}

export async function createChannel(roomId: number, name: string, topic: string, isEncrypted: boolean): Promise<Channel> {
  const answer = await apiRequest<{ channel: Channel }>('POST', `/api/rooms/${roomId}/channels`, {
    name,
    topic,
    is_encrypted: isEncrypted,
  });
  return answer.channel;
}

/** Opens (or finds) the DM with a user. */
export async function openDm(userId: number): Promise<RoomWithChannels> {
  const answer = await apiRequest<{ room: Room; channels: Channel[] }>('POST', '/api/dms', { user_id: userId });
  return { ...answer.room, channels: answer.channels };
}

/** Members, and for admins the bans too. */
export async function members(roomId: number): Promise<{ members: Member[]; bans: Ban[] }> {
  const answer = await apiRequest<{ members: Member[]; bans?: Ban[] | null }>('GET', `/api/rooms/${roomId}/members`);
  return { members: answer.members, bans: answer.bans ?? [] };
}

export async function addMember(roomId: number, username: string): Promise<void> {
  await apiRequest('POST', `/api/rooms/${roomId}/members`, { username });
}

export async function kick(roomId: number, userId: number): Promise<void> {
  await apiRequest('DELETE', `/api/rooms/${roomId}/members/${userId}`);
}

export async function ban(roomId: number, userId: number, reason: string): Promise<void> {
  await apiRequest('POST', `/api/rooms/${roomId}/bans`, { user_id: userId, reason });
}

export async function unban(roomId: number, userId: number): Promise<void> {
  await apiRequest('DELETE', `/api/rooms/${roomId}/bans/${userId}`);
}

export async function setRole(roomId: number, userId: number, role: 'admin' | 'member'): Promise<void> {
  await apiRequest('PUT', `/api/rooms/${roomId}/members/${userId}/role`, { role });
}

export async function searchUsers(q: string): Promise<DirectoryUser[]> {
  return (await apiRequest<{ users: DirectoryUser[] }>('GET', `/api/users?q=${enc(q)}&limit=20`)).users;
}

/** Makes `userId` the owner; the old owner becomes an admin. */
export async function transfer(roomId: number, userId: number): Promise<void> {
  await apiRequest('POST', `/api/rooms/${roomId}/transfer`, { user_id: userId });
}

/** Renames or re-describes a room (owner). */
export async function updateRoom(roomId: number, changes: { name?: string; description?: string }): Promise<void> {
  await apiRequest('PATCH', `/api/rooms/${roomId}`, changes);
}

/** Sets the room's permissions: whether members may pin (admins), who may use channel-wide mentions (owner). */
export async function setMembersMayPin(roomId: number, allowed: boolean): Promise<void> {
  await apiRequest('PUT', `/api/rooms/${roomId}/pin_settings`, { members_may_pin: allowed });
}

/** Above `max` members only the owner and admins may use @channel and the like; null lets anyone (owner). */
export async function setMentionLimit(roomId: number, max: number | null): Promise<void> {
  await apiRequest('PUT', `/api/rooms/${roomId}/mention_settings`, { everyone_mention_max_members: max });
}

/** Deletes a room with its channels and messages (owner). */
export async function deleteRoom(roomId: number): Promise<void> {
  await apiRequest('DELETE', `/api/rooms/${roomId}`);
}

/** Renames a channel or changes its topic (admins). */
export async function updateChannel(channelId: number, changes: { name?: string; topic?: string }): Promise<Channel> {
  return (await apiRequest<{ channel: Channel }>('PATCH', `/api/channels/${channelId}`, changes)).channel;
}

/** Sets a channel's disappearing-messages timer (owner and admins); null turns it off. */
export async function setDisappearing(channelId: number, seconds: number | null): Promise<void> {
  await apiRequest('PUT', `/api/channels/${channelId}/disappearing`, { seconds });
}

/** Sets the room's retention (the owner): null keeps messages forever, else 1 to 3650 days. */
export async function setRetention(roomId: number, days: number | null): Promise<void> {
  await apiRequest('PUT', `/api/rooms/${roomId}/retention`, { days });
}

/** Deletes a channel and its messages (admins); a room keeps at least one. */
export async function deleteChannel(channelId: number): Promise<void> {
  await apiRequest('DELETE', `/api/channels/${channelId}`);
}

/** The room's export (its owner only), confirmed with the password: a zip. */
export function exportRoom(roomId: number, password: string): Promise<Blob> {
  return apiDownload(`/api/rooms/${roomId}/export`, { password });
}
