// A person's avatar: initials on their colour (chat/avatar.ts), with their
// presence dot when asked. The initials are decorative (the name is always
// next to them); the dot says "online" or "offline" in words, and the two
// states differ in shape (filled or a ring), not only in colour.

import { presence, presenceSnapshotSeen } from '../../chat/store.ts';
import { avatarColour, initials } from '../../chat/avatar.ts';
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
  return (
    <span class="avatar-wrap">
      <span class="avatar" aria-hidden="true" style={{ backgroundColor: avatarColour(userId ?? username) }}>
        {initials(username)}
      </span>
      {withPresence && userId !== null && <PresenceDot userId={userId} />}
    </span>
  );
}

/**
 * Filled green when the user is online, a grey ring when offline, dashed
 * while not known yet. The snapshot lists everyone online among the people
 * I share a room with (everyone an avatar is shown for), so once it came,
 * anyone it did not list and no later event put online is offline.
 */
export function PresenceDot({ userId }: { userId: number }) {
  const state = presence.value[userId] ?? (presenceSnapshotSeen.value ? false : undefined);
  const label = state === true ? t('presence.online') : state === false ? t('presence.offline') : t('presence.unknown');
  return <span class={`presence presence-${state === true ? 'on' : state === false ? 'off' : 'unknown'}`} role="img" aria-label={label} title={label} />;
}
