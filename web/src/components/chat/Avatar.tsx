// A person's avatar: their picture when they set one (the 64-pixel
// rendition), else initials (of the display name when set) on their colour
// (chat/avatar.ts), with their presence dot when asked. The avatar is
// decorative (the name is always next to it); the dot says in words whether
// the person is online, away, not to be disturbed or offline, and the
// states differ in shape (filled, half filled, barred, a ring), not only in
// colour.

import { presence, presenceSnapshotSeen } from '../../chat/store.ts';
import { avatarColour, initials } from '../../chat/avatar.ts';
import { person, profiles } from '../../chat/profiles.ts';
import { smallAvatarUrl } from '../../api/profiles.ts';
import './avatar.css';
import { t } from '../../i18n/index.ts';

interface Props {
  /** The user id, or null when only the name is known. */
  userId: number | null;
  username: string;
  /** Show the presence dot. */
  withPresence?: boolean;
}

export function Avatar({ userId, username, withPresence = false }: Props) {
  const shown = person(userId, username);
  const picture = shown.profile?.avatar_url ?? null;
  return (
    <span class="avatar-wrap">
      {picture !== null ? (
        <img class="avatar avatar-picture" src={smallAvatarUrl(picture)} alt="" aria-hidden="true" width={64} height={64} loading="lazy" decoding="async" />
      ) : (
        <span class="avatar" aria-hidden="true" style={{ backgroundColor: avatarColour(userId ?? username) }}>
          {initials(shown.name)}
        </span>
      )}
      {withPresence && userId !== null && !shown.deleted && <PresenceDot userId={userId} />}
    </span>
  );
}

/**
 * Filled green when the user is online, half filled amber when they are
 * online but away, red with a bar for do not disturb, a grey ring when
 * offline, dashed while not known yet. The snapshot lists everyone online
 * among the people I share a room with (everyone an avatar is shown for),
 * so once it came, anyone it did not list and no later event put online is
 * offline.
 */
export function PresenceDot({ userId }: { userId: number }) {
  const state = presence.value[userId] ?? (presenceSnapshotSeen.value ? false : undefined);
  const availability = profiles.value[userId]?.availability ?? 'online';
  let kind: 'on' | 'away' | 'dnd' | 'off' | 'unknown';
  if (state === true) kind = availability === 'away' ? 'away' : availability === 'do_not_disturb' ? 'dnd' : 'on';
  else kind = state === false ? 'off' : 'unknown';
  const label = { on: t('presence.online'), away: t('presence.away'), dnd: t('presence.dnd'), off: t('presence.offline'), unknown: t('presence.unknown') }[kind];
  return <span class={`presence presence-${kind}`} role="img" aria-label={label} title={label} />;
}
