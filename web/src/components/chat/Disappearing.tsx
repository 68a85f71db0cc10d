// Disappearing messages and retention in the UI: the channel header's
// compact policy (a timer icon whose label says it), the warning when the
// server states another timer than an encrypted channel's signed log, and
// the settings forms (a channel's timer for owners and admins, the room's
// retention for its owner).

import { useEffect, useState } from 'preact/hooks';
import * as roomsApi from '../../api/rooms.ts';
import type { Channel, Room, RoomWithChannels } from '../../api/rooms.ts';
import { refreshRooms } from '../../chat/store.ts';
import { channelTimer, refreshTimers, setChannelTimer, timersEpoch } from '../../disappearing/glue.ts';
import { durationLabel, policyLabel, TIMER_CHOICES } from '../../disappearing/timer.ts';
import { authenticated } from '../../state/session.ts';
import { Alert } from '../Alert.tsx';
import { useSubmit } from '../useSubmit.ts';
import { t } from '../../i18n/index.ts';

/** A stopwatch drawn in SVG, sized like the padlock; its label says the policy. */
export function TimerIcon({ label }: { label: string }) {
  return (
    <svg class="lock-icon policy-icon" viewBox="0 0 16 16" width="14" height="14" focusable="false" role="img" aria-label={label}>
      <title>{label}</title>
      <rect x="6" y="0.5" width="4" height="1.6" rx="0.5" fill="currentColor" />
      <circle cx="8" cy="9" r="5.6" fill="none" stroke="currentColor" stroke-width="1.6" />
      <path d="M8 9V5.8" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" />
    </svg>
  );
}

/** The timer that applies to `channel` (the signed log's when encrypted), re-read when a log is verified again. */
export function useChannelTimer(room: Room, channel: Channel) {
  void timersEpoch.value;
  const view = channelTimer(channel);
  // Opening an encrypted channel, or its setting changing on the server, verifies the room's log again.
  useEffect(() => {
    if (channel.is_encrypted) void refreshTimers(room.id).catch(() => undefined);
  }, [room.id, channel.id, channel.is_encrypted, channel.disappearing_seconds]);
  return view;
}

/** The header's policy: an icon before the topic, nothing when messages are kept forever. */
export function PolicyBadge({ seconds, retentionDays }: { seconds: number | null; retentionDays: number | null }) {
  const label = policyLabel(seconds, retentionDays);
  if (label === null) return null;
  return (
    <span class="policy" title={label}>
      <TimerIcon label={label} />
    </span>
  );
}

/** The server's timer differs from the signed log's: say so, and which applies. */
export function TimerMismatch({ signed, server }: { signed: number | null; server: number | null }) {
  const word = (s: number | null) => (s === null ? t('disappearing.off') : durationLabel(s));
  return <Alert tone="error">{t('disappearing.mismatch', { server: word(server), signed: word(signed) })}</Alert>;
}

/** A channel's disappearing-messages timer (owner and admins). */
export function DisappearingForm({ room, channel }: { room: RoomWithChannels; channel: Channel }) {
  void timersEpoch.value;
  const current = channelTimer(channel).seconds;
  const [choice, setChoice] = useState<number | null>(current);
  const [saved, setSaved] = useState(false);
  const submission = useSubmit();
  const id = `settings-channel-${channel.id}-timer`;

  async function save(event: Event) {
    event.preventDefault();
    setSaved(false);
    const outcome = await submission.run(async () => {
      await setChannelTimer(room, channel, choice);
      await refreshRooms();
    });
    if (outcome === 'succeeded') setSaved(true);
  }

  return (
    <form class="settings-timer" onSubmit={(e) => void save(e)} aria-label={t('disappearing.formLabel', { channel: channel.name })}>
      <div class="field">
        <label for={id}>{t('disappearing.setting')}</label>
        <select id={id} aria-describedby={`${id}-hint`} value={choice === null ? '' : String(choice)} onChange={(e) => setChoice(e.currentTarget.value === '' ? null : Number(e.currentTarget.value))}>
          {TIMER_CHOICES.map((s) => (
            <option key={s ?? 0} value={s === null ? '' : String(s)}>
              {s === null ? t('disappearing.off') : durationLabel(s)}
            </option>
          ))}
        </select>
        <p class="muted hint" id={`${id}-hint`}>
          {t('disappearing.hint')}
          {channel.is_encrypted && ` ${t('disappearing.hintEncrypted')}`}
        </p>
      </div>
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      {saved && <Alert tone="success">{t('disappearing.saved')}</Alert>}
      <button type="submit" class="button button-secondary" disabled={submission.pending || choice === current}>
        {t('disappearing.save')}
      </button>
    </form>
  );
}

/** The room's retention (its owner): keep forever, or N days. */
export function RetentionForm({ room }: { room: RoomWithChannels }) {
  const current = room.retention_days ?? null;
  const [forever, setForever] = useState(current === null);
  const [days, setDays] = useState(String(current ?? 30));
  const [saved, setSaved] = useState(false);
  const submission = useSubmit();
  const parsed = Number(days);
  const valid = forever || (Number.isInteger(parsed) && parsed >= 1 && parsed <= 3650);

  async function save(event: Event) {
    event.preventDefault();
    setSaved(false);
    const outcome = await submission.run(async () => {
      await authenticated(() => roomsApi.setRetention(room.id, forever ? null : parsed));
      await refreshRooms();
    });
    if (outcome === 'succeeded') setSaved(true);
  }

  return (
    <form class="settings-retention" onSubmit={(e) => void save(e)} aria-label={t('retention.setting')}>
      <fieldset>
        <legend>{t('retention.setting')}</legend>
        <label class="check">
          <input type="radio" name="retention" checked={forever} onChange={() => setForever(true)} /> {t('retention.forever')}
        </label>
        <label class="check">
          <input type="radio" name="retention" checked={!forever} onChange={() => setForever(false)} /> {t('retention.days')}
        </label>
        {!forever && (
          <div class="field">
            <label for="settings-retention-days">{t('retention.daysLabel')}</label>
            <input id="settings-retention-days" type="number" inputMode="numeric" min={1} max={3650} required value={days} onInput={(e) => setDays(e.currentTarget.value)} />
          </div>
        )}
        <p class="muted hint">{t('retention.hint')}</p>
      </fieldset>
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      {saved && <Alert tone="success">{t('retention.saved')}</Alert>}
      <button type="submit" class="button button-secondary" disabled={submission.pending || !valid}>
        {t('retention.save')}
      </button>
    </form>
  );
}
