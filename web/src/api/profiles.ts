// Profiles: display name, status, availability and avatar
// (`/api/users/me/profile`, `/api/users/{id}/profile`, `/api/users/me/avatar`).

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
