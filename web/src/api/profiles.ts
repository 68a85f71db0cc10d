// Profiles: display name, status, availability and avatar
// (`/api/users/me/profile`, `/api/users/{id}/profile`, `/api/users/me/avatar`).

import { apiRequest } from './http.ts';
import { sendBytes, type SendOptions } from './upload.ts';

/** The availability a person chose; being connected is the `presence` event's. */
export type Availability = 'online' | 'away' | 'do_not_disturb';

export interface ProfileStatus {
  text: string | null;
  emoji: string | null;
  /** ms since the epoch; null: until changed. */
  expires_at: number | null;
}

export interface Profile {
  user_id: number;
  display_name: string | null;
  status: ProfileStatus | null;
  availability: Availability;
  /** The 256-pixel PNG, versioned (add `&size=64` for the small one). */
  avatar_url: string | null;
}

/** A profile change: absent fields are kept, null clears. */
export interface ProfileChange {
  display_name?: string | null;
  /** Text, emoji and expiry are one status: sent together. */
  status_text?: string | null;
  status_emoji?: string | null;
  /** ms since the epoch, in the future and within a year; null: until changed. */
  status_expires_at?: number | null;
  availability?: Availability;
}

interface ProfileAnswer {
  profile: Profile;
}

/** Someone's profile (myself, or someone I share a room with; 404 otherwise). */
export async function fetchProfile(userId: number): Promise<Profile> {
  return (await apiRequest<ProfileAnswer>('GET', `/api/users/${userId}/profile`)).profile;
}

/** Changes my display name, status or availability. */
export async function updateProfile(change: ProfileChange): Promise<Profile> {
  return (await apiRequest<ProfileAnswer>('PATCH', '/api/users/me/profile', change)).profile;
}

/** Sets my avatar from a picture (at most 10 MB and 4096×4096 pixels), reporting progress. */
export async function uploadAvatar(picture: Blob, options: SendOptions = {}): Promise<Profile> {
  return ((await sendBytes('PUT', '/api/users/me/avatar', picture, options)) as unknown as ProfileAnswer).profile;
}

/** Removes my avatar. */
export async function removeAvatar(): Promise<Profile> {
  return (await apiRequest<ProfileAnswer>('DELETE', '/api/users/me/avatar')).profile;
}

/** The URL of an avatar's 64-pixel rendition, for small avatars. */
export function smallAvatarUrl(avatarUrl: string): string {
  return `${avatarUrl}${avatarUrl.includes('?') ? '&' : '?'}size=64`;
}
