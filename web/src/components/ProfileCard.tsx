import { useEffect, useRef, useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import type { User } from '../api/auth.ts';
import { describeError } from '../api/errors.ts';
import { removeAvatar, updateProfile, uploadAvatar, type Availability, type Profile, type ProfileChange } from '../api/profiles.ts';
import { clearAt, liveStatus, person, profileLoader, type ClearAfter } from '../chat/profiles.ts';
import { formatDateTime } from '../i18n/format.ts';
import { t } from '../i18n/index.ts';
import { Alert } from './Alert.tsx';
import { SubmitButton } from './SubmitButton.tsx';
import { TextField } from './TextField.tsx';
import { useSubmit } from './useSubmit.ts';
import './profile-card.css';

const AVAILABILITIES = [
  ['online', 'profile.availabilityOnline'],
  ['away', 'profile.availabilityAway'],
  ['do_not_disturb', 'profile.availabilityDnd'],
] as const satisfies readonly (readonly [Availability, string])[];

const CLEAR_CHOICES = [
  ['never', 'profile.clearNever'],
  ['hour', 'profile.clearHour'],
  ['today', 'profile.clearToday'],
  ['week', 'profile.clearWeek'],
] as const satisfies readonly (readonly [ClearAfter, string])[];

/** The status's expiry as set ('kept'), or one of the choices. */
type Clear = ClearAfter | 'kept';

interface Fields {
  displayName: string;
  statusText: string;
  statusEmoji: string;
  clear: Clear;
  /** The expiry of the status as set, which 'kept' keeps. */
  keptUntil: number | null;
  availability: Availability;
}

function fieldsOf(profile: Profile): Fields {
  const status = liveStatus(profile);
  return {
    displayName: profile.display_name ?? '',
    statusText: status?.text ?? '',
    statusEmoji: status?.emoji ?? '',
    clear: status?.expires_at != null ? 'kept' : 'never',
    keptUntil: status?.expires_at ?? null,
    availability: profile.availability,
  };
}

/** The change from `before` to `after`: only what was changed (a status is sent whole). */
function changeOf(before: Fields, after: Fields, now: Date): ProfileChange {
  const change: ProfileChange = {};
  const name = after.displayName.trim();
  if (name !== before.displayName.trim()) change.display_name = name === '' ? null : name;
  const statusChanged = after.statusText.trim() !== before.statusText.trim() || after.statusEmoji.trim() !== before.statusEmoji.trim() || after.clear !== before.clear;
  if (statusChanged) {
    const text = after.statusText.trim();
    const emoji = after.statusEmoji.trim();
    change.status_text = text === '' ? null : text;
    change.status_emoji = emoji === '' ? null : emoji;
    const kept = after.keptUntil !== null && after.keptUntil > now.getTime() ? after.keptUntil : null;
    change.status_expires_at = text === '' && emoji === '' ? null : after.clear === 'kept' ? kept : clearAt(after.clear, now);
  }
  if (after.availability !== before.availability) change.availability = after.availability;
  return change;
}

/**
 * The Account page's Profile card: the display name, the status (emoji,
 * text, when it clears), the availability, and the profile picture
 * (uploaded with its progress shown, or removed). Everyone who shares a
 * room sees changes at once (`profile_updated`).
 */
export function ProfileCard({ user }: { user: User }) {
  const profile = person(user.id, user.username).profile;
  const [saved, setSaved] = useState<Fields | null>(null);
  const [fields, setFields] = useState<Fields | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = useSubmit();

  // The form starts from the profile once it is known; later changes (another tab) do not overwrite what is typed.
  useEffect(() => {
    if (profile !== null && fields === null) {
      setFields(fieldsOf(profile));
      setSaved(fieldsOf(profile));
    }
  }, [profile, fields]);

  const set = (patch: Partial<Fields>) => setFields((f) => (f === null ? f : { ...f, ...patch }));

  const onSubmit = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (fields === null || saved === null) return;
    setError(null);
    setNotice(null);
    void submit.run(async () => {
      try {
        const change = changeOf(saved, fields, new Date());
        const next = Object.keys(change).length === 0 ? profile : await updateProfile(change);
        if (next !== null) {
          profileLoader.put(next);
          setFields(fieldsOf(next));
          setSaved(fieldsOf(next));
        }
        setNotice(t('profile.saved'));
      } catch (err) {
        setError(describeError(err));
      }
    });
  };

  return (
    <section class="card profile-card" aria-labelledby="profile-title">
      <h2 id="profile-title">{t('profile.title')}</h2>
      <p class="muted">{t('profile.explain')}</p>
      {fields === null ? (
        <p class="muted">{t('profile.loading')}</p>
      ) : (
        <form onSubmit={onSubmit} noValidate>
          <TextField
            id="profile-display-name"
            label={t('profile.displayName')}
            value={fields.displayName}
            onValue={(displayName) => set({ displayName })}
            autoComplete="nickname"
            hint={t('profile.displayNameHint', { username: user.username })}
            error={undefined}
          />
          <div class="profile-status">
            <div class="field profile-emoji">
              <label for="profile-status-emoji">{t('profile.statusEmoji')}</label>
              <input id="profile-status-emoji" value={fields.statusEmoji} maxLength={16} autocomplete="off" onInput={(e) => set({ statusEmoji: e.currentTarget.value })} />
            </div>
            <div class="field profile-status-text">
              <label for="profile-status-text">{t('profile.statusText')}</label>
              <input id="profile-status-text" value={fields.statusText} maxLength={140} autocomplete="off" onInput={(e) => set({ statusText: e.currentTarget.value })} />
            </div>
          </div>
          <div class="field">
            <label for="profile-clear-after">{t('profile.clearAfter')}</label>
            <select id="profile-clear-after" value={fields.clear} onChange={(e) => set({ clear: e.currentTarget.value as Clear })}>
              {fields.keptUntil !== null && <option value="kept">{formatDateTime(new Date(fields.keptUntil)) ?? ''}</option>}
              {CLEAR_CHOICES.map(([value, key]) => (
                <option key={value} value={value}>
                  {t(key)}
                </option>
              ))}
            </select>
          </div>
          <div class="field">
            <label for="profile-availability">{t('profile.availability')}</label>
            <select id="profile-availability" value={fields.availability} onChange={(e) => set({ availability: e.currentTarget.value as Availability })}>
              {AVAILABILITIES.map(([value, key]) => (
                <option key={value} value={value}>
                  {t(key)}
                </option>
              ))}
            </select>
          </div>
          <SubmitButton pending={submit.pending} label={t('profile.save')} pendingLabel={t('profile.saving')} variant="secondary" />
        </form>
      )}
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      {error !== null && <Alert tone="error">{error}</Alert>}
      <AvatarForm profile={profile} />
    </section>
  );
}

/** The picture: the current one or a preview of the one chosen, uploaded with its progress, or removed. */
function AvatarForm({ profile }: { profile: Profile | null }) {
  const [file, setFile] = useState<File | null>(null);
  const [preview, setPreview] = useState<string | null>(null);
  const [percent, setPercent] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = useSubmit();
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (file === null) {
      setPreview(null);
      return;
    }
    const url = URL.createObjectURL(file);
    setPreview(url);
    return () => URL.revokeObjectURL(url);
  }, [file]);

  const run = (action: () => Promise<Profile>, done: string) => {
    setError(null);
    setNotice(null);
    void submit.run(async () => {
      try {
        profileLoader.put(await action());
        setFile(null);
        if (input.current !== null) input.current.value = '';
        setNotice(done);
      } catch (err) {
        setError(describeError(err));
      } finally {
        setPercent(null);
      }
    });
  };

  const onSubmit = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (file === null) {
      setNotice(null);
      setError(t('profile.avatarMissing'));
      return;
    }
    setPercent(0);
    run(() => uploadAvatar(file, { onProgress: (sent, total) => setPercent(total > 0 ? Math.floor((sent / total) * 100) : 0) }), t('profile.avatarUploaded'));
  };

  const current = profile?.avatar_url ?? null;
  return (
    <>
      <h3 class="profile-avatar-title">{t('profile.avatarTitle')}</h3>
      <div class="profile-avatar">
        {preview !== null ? (
          <img class="profile-avatar-image" src={preview} alt={t('profile.avatarPreview')} />
        ) : current !== null ? (
          <img class="profile-avatar-image" src={current} alt={t('profile.avatarCurrent')} />
        ) : (
          <p class="muted">{t('profile.avatarNone')}</p>
        )}
      </div>
      <form onSubmit={onSubmit} noValidate>
        <div class="field">
          <label for="profile-avatar-file">{t('profile.avatarChoose')}</label>
          <input
            ref={input}
            id="profile-avatar-file"
            type="file"
            accept="image/png,image/jpeg,image/webp,image/gif"
            aria-describedby="profile-avatar-hint"
            onChange={(e) => {
              setError(null);
              setNotice(null);
              setFile(e.currentTarget.files?.[0] ?? null);
            }}
          />
          <p id="profile-avatar-hint" class="field-hint">
            {t('profile.avatarHint')}
          </p>
        </div>
        <div class="button-row">
          <SubmitButton pending={submit.pending} label={t('profile.avatarUpload')} pendingLabel={percent !== null ? t('profile.avatarUploading', { percent }) : t('profile.avatarRemoving')} variant="secondary" />
          {current !== null && (
            <button type="button" class="button button-secondary" disabled={submit.pending} onClick={() => run(removeAvatar, t('profile.avatarRemoved'))}>
              {t('profile.avatarRemove')}
            </button>
          )}
        </div>
        {percent !== null && <progress class="profile-avatar-progress" max={100} value={percent} aria-label={t('profile.avatarUploading', { percent })} />}
      </form>
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      {error !== null && <Alert tone="error">{error}</Alert>}
    </>
  );
}
