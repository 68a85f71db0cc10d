// The channel header's notification dialog: what this channel notifies me
// about (every message, mentions, nothing, or the default — every message
// in a DM, mentions elsewhere) and muting it for a while or until unmuted.
// The server keeps the choice for every device of mine (webpush/http/settings.rs).

import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../../api/errors.ts';
import type { Channel } from '../../api/rooms.ts';
import { channelNotifications, saveChannelNotifications, type ChannelNotifications, type Level } from '../../push/api.ts';
import { pushState } from '../../push/client.ts';
import { muteUntil, MUTE_CHOICES, mutedForever, type MuteChoice } from '../../push/mute.ts';
import { formatDateTime } from '../../i18n/format.ts';
import { t } from '../../i18n/index.ts';
import { authenticated } from '../../state/session.ts';
import { Alert } from '../Alert.tsx';
import { Dialog } from '../Dialog.tsx';

const LEVELS: readonly Level[] = ['all', 'mentions', 'none'];

const levelName = (level: Level) => t(level === 'all' ? 'push.levelAll' : level === 'mentions' ? 'push.levelMentions' : 'push.levelNone');

const muteName = (choice: MuteChoice) => t(choice === '1h' ? 'push.mute1h' : choice === '8h' ? 'push.mute8h' : choice === 'week' ? 'push.muteWeek' : 'push.muteForever');

export function ChannelNotificationsDialog({ channel, title, dm, onClose }: { channel: Channel; title: string; dm: boolean; onClose: () => void }) {
  const [current, setCurrent] = useState<ChannelNotifications | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    authenticated(() => channelNotifications(channel.id))
      .then(setCurrent)
      .catch((err: unknown) => setError(describeError(err)));
  }, [channel.id]);
  const save = (value: { level: Level | null; mute_until: string | null }) => {
    const before = current;
    if (before === null) return;
    // Shown at once (a radio button that stayed unchecked until the answer would look ignored); undone if refused.
    setCurrent({ ...before, ...value });
    setBusy(true);
    setError(null);
    authenticated(() => saveChannelNotifications(channel.id, value))
      .then(setCurrent)
      .catch((err: unknown) => {
        setCurrent(before);
        setError(describeError(err));
      })
      .finally(() => setBusy(false));
  };
  // The default: the server's answer while no level is chosen; else what it
  // would be (every message in a DM, mentions elsewhere: webpush/decide.rs).
  const defaultLevel: Level = current !== null && current.level === null && !busy ? current.effective_level : dm ? 'all' : 'mentions';
  const muted = current?.mute_until ?? null;
  const mutedNow = muted !== null && Date.parse(muted) > Date.now();
  return (
    <Dialog title={t('push.dialogTitle', { channel: title })} onClose={onClose}>
      {pushState.value !== 'on' && <p class="muted">{t('push.notOnHere')}</p>}
      {current !== null && (
        <>
          <fieldset class="push-level">
            <legend>{t('push.level')}</legend>
            <label class="check">
              <input type="radio" name="push-level" value="" checked={current.level === null} disabled={busy} onChange={() => save({ level: null, mute_until: muted })} />{' '}
              {t('push.levelDefault', { level: levelName(defaultLevel) })}
            </label>
            {LEVELS.map((level) => (
              <label class="check" key={level}>
                <input type="radio" name="push-level" value={level} checked={current.level === level} disabled={busy} onChange={() => save({ level, mute_until: muted })} /> {levelName(level)}
              </label>
            ))}
          </fieldset>
          <fieldset class="push-mute">
            <legend>{t('push.mute')}</legend>
            <p role="status" class="muted">
              {!mutedNow ? t('push.notMuted') : mutedForever(muted) ? t('push.mutedForever') : t('push.mutedUntil', { time: formatDateTime(muted) ?? muted })}
            </p>
            <div class="button-row">
              {MUTE_CHOICES.map((choice) => (
                <button key={choice} type="button" class="button button-secondary" disabled={busy} onClick={() => save({ level: current.level, mute_until: muteUntil(choice, new Date()) })}>
                  {muteName(choice)}
                </button>
              ))}
              {mutedNow && (
                <button type="button" class="button button-secondary" disabled={busy} onClick={() => save({ level: current.level, mute_until: null })}>
                  {t('push.unmute')}
                </button>
              )}
            </div>
          </fieldset>
        </>
      )}
      {error !== null && <Alert tone="error">{error}</Alert>}
    </Dialog>
  );
}

/** A bell drawn in SVG (emoji fonts are not everywhere); decorative: the button says "Notifications". */
export function BellIcon() {
  return (
    <svg class="bell-icon" viewBox="0 0 16 16" width="14" height="14" focusable="false" aria-hidden="true">
      <path d="M8 1.5a4 4 0 0 0-4 4v3L2.5 11v1h11v-1L12 8.5v-3a4 4 0 0 0-4-4z" fill="currentColor" />
      <path d="M6.5 13a1.5 1.5 0 0 0 3 0" fill="none" stroke="currentColor" stroke-width="1.4" />
    </svg>
  );
}
