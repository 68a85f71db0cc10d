// A person's name as the UI shows it everywhere (chat/profiles.ts): the
// display name when they set one, with their @username as its title (and,
// where there is room, beside it); the username otherwise; "Deleted user"
// for a deleted account.

import { liveStatus, person, profiles } from '../../chat/profiles.ts';

interface Props {
  /** The user id, or null when only the username is known. */
  userId: number | null;
  /** Null when the server does not name the person (e.g. a message's sender is unknown): `fallback` is shown. */
  username: string | null;
  fallback?: string;
  /** Show `@username` after a display name (where there is room). */
  withUsername?: boolean;
  /** The element's class, e.g. `mention-display`. */
  class?: string;
}

export function PersonName({ userId, username, fallback = '', withUsername = false, class: className }: Props) {
  if (username === null) return <span class={className === undefined ? 'person-name' : `person-name ${className}`}>{fallback}</span>;
  const shown = person(userId, username);
  const classes = ['person-name', shown.deleted ? 'person-deleted' : null, className ?? null].filter((c) => c !== null).join(' ');
  return (
    <span class={classes} title={shown.hasDisplayName ? `@${username}` : undefined}>
      {shown.name}
      {withUsername && shown.hasDisplayName && <span class="muted person-username"> @{username}</span>}
    </span>
  );
}

/** A person's status line (emoji and text), while it is set and not expired; nothing otherwise. */
export function PersonStatus({ userId }: { userId: number }) {
  const status = liveStatus(profiles.value[userId] ?? null);
  if (status === null) return null;
  return (
    <span class="muted person-status">
      {status.emoji !== null && <span aria-hidden={status.text !== null ? 'true' : undefined}>{status.emoji} </span>}
      {status.text}
    </span>
  );
}
