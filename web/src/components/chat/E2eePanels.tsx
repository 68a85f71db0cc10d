// What end-to-end encryption asks of the person: restoring or creating the
// identity, the key backup (recovery key or passphrase), key changes of others, and key
// requests to approve.

import { Fragment, type ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { rooms, timelines } from '../../chat/store.ts';
import { personName } from '../../chat/profiles.ts';
import {
  acceptNewKey,
  approveKeyRequest,
  dismissKeyRequest,
  identityStatus,
  keyChanges,
  keyRequests,
  safetyNumber,
  startOver,
} from '../../e2ee/engine.ts';
import { backupState, pendingKey, reminderSnoozed, restoreWith, storedKind } from '../../e2ee/backup.ts';
import { RovingToolbar } from '../RovingToolbar.tsx';
import { BackupSetup, recoveryKeyAbout } from '../BackupSetup.tsx';
import { LinkThisDevice } from '../LinkThisDevice.tsx';
import { ACCOUNT_PATH } from '../../router.ts';
import { Alert } from '../Alert.tsx';
import { confirmAction } from '../ConfirmDialog.tsx';
import { Dialog } from '../Dialog.tsx';
import { Link } from '../Link.tsx';
import { useSubmit } from '../useSubmit.ts';
import './e2ee-panels.css';
import { t } from '../../i18n/index.ts';
import { withParts } from '../../i18n/rich.tsx';

/**
 * The encryption panels above the chat. On a phone they fold into one line
 * (a button with aria-expanded; the stylesheet hides the panels while it is
 * folded), so the messages keep the screen; on a wider screen the button is
 * hidden and the panels always show.
 */
export function E2eePanels() {
  const status = identityStatus.value;
  const [open, setOpen] = useState(false);
  return (
    <div class={`e2ee-panels${open ? ' unfolded' : ''}`}>
      <button type="button" class="e2ee-fold" aria-expanded={open} aria-controls="e2ee-panels-body" onClick={() => setOpen(!open)}>
        {open ? t('panels.hide') : t('panels.attention')}
      </button>
      <div class="e2ee-body" id="e2ee-panels-body">
        {status.kind === 'error' && <Alert tone="error">{t('panels.unavailable', { message: status.message })}</Alert>}
        {status.kind === 'needs-restore' && <RestorePanel />}
        {status.kind === 'ready' && backupState.value === 'none' && !reminderSnoozed.value && <BackupPanel />}
        <KeyChanges />
        <KeyRequests />
      </div>
    </div>
  );
}

function RestorePanel() {
  const [passphrase, setPassphrase] = useState('');
  const kind = storedKind.value;
  const words = kind === 'recovery_key';
  const submission = useSubmit();
  const status = identityStatus.value;
  const revoked = status.kind === 'needs-restore' && status.revoked === true;
  return (
    <section class="panel" aria-labelledby="restore-title">
      <h2 id="restore-title">{revoked ? t('panels.removedTitle') : t('panels.readHere')}</h2>
      {revoked && <p>{t('panels.revokedText')}</p>}
      <LinkThisDevice prefix="chat" />
      <h3>{t('panels.orRestore')}</h3>
      {backupState.value === 'none' ? (
        <p>{withParts(t('panels.noBackup', { skipInterpolation: true }), { place: <Link href={ACCOUNT_PATH}>{t('panels.accountEncryption')}</Link> })}</p>
      ) : (
        <>
          <p>{words ? t('panels.enterWords') : t('panels.enterPassphrase')}</p>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void submission.run(() => restoreWith(passphrase, kind ?? 'passphrase'));
            }}
          >
            <label class="visually-hidden" for="restore-passphrase">
              {words ? t('restore.labelKey') : t('restore.labelPassphrase')}
            </label>
            {words ? (
              <input
                id="restore-passphrase"
                type="text"
                autocomplete="off"
                autocapitalize="none"
                spellcheck={false}
                value={passphrase}
                onInput={(e) => setPassphrase(e.currentTarget.value)}
                placeholder={t('panels.wordsPlaceholder')}
              />
            ) : (
              <input id="restore-passphrase" type="password" autocomplete="off" value={passphrase} onInput={(e) => setPassphrase(e.currentTarget.value)} placeholder={t('restore.labelPassphrase')} />
            )}
            <button type="submit" class="button button-primary" disabled={submission.pending}>
              {submission.pending ? t('panels.restoring') : t('panels.restore')}
            </button>
          </form>
        </>
      )}
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      <p class="muted">
        {backupState.value === 'none' ? t('panels.noOtherBrowser') : words ? t('panels.lostKey') : t('panels.lostPassphrase')}{' '}
        <button
          type="button"
          class="link-button"
          onClick={() =>
            void confirmAction({
              title: t('panels.newKeysTitle'),
              message: t('panels.newKeysMessage'),
              action: t('panels.newKeysAction'),
            }).then((yes) => {
              if (yes) void submission.run(startOver);
            })
          }
        >
          {t('panels.newKeysInstead')}
        </button>
      </p>
    </section>
  );
}

/**
 * The reminder to back up the keys, on one line: what it is and its
 * buttons; the explanation is behind "Details", so that it does not push
 * the chat down every time.
 */
function BackupPanel() {
  const [details, setDetails] = useState(false);
  // While it is one line of buttons, they are one tab stop (a toolbar), so
  // the reminder costs the keyboard one Tab on the way to the composer; the
  // recovery key's words and fields, once started, are a form as usual.
  const Group = pendingKey.value === null ? ReminderActions : Fragment;
  return (
    <section class="panel panel-compact" aria-labelledby="backup-title">
      <h2 id="backup-title">{t('panels.backupTitle')}</h2>
      <Group>
        <BackupSetup
          prefix="backup"
          replacing={false}
          brief
          onDone={() => undefined}
          extra={
            <button type="button" class="button button-secondary" onClick={() => (reminderSnoozed.value = true)}>
              {t('panels.later')}
            </button>
          }
        />
        <button type="button" class="link-button" aria-expanded={details} aria-controls="backup-details" onClick={() => setDetails(!details)}>
          {details ? t('panels.hideDetails') : t('panels.details')}
        </button>
      </Group>
      <div class="panel-details" id="backup-details" hidden={!details}>
        <p>{withParts(t('panels.backupDetails', { skipInterpolation: true }), { place: <Link href={ACCOUNT_PATH}>{t('panels.accountEncryption')}</Link> })}</p>
        <p>{recoveryKeyAbout()}</p>
      </div>
    </section>
  );
}

function ReminderActions({ children }: { children: ComponentChildren }) {
  return <RovingToolbar label={t('panels.backupTitle')}>{children}</RovingToolbar>;
}

function KeyChanges() {
  const [verifying, setVerifying] = useState<number | null>(null);
  const ids = Object.keys(keyChanges.value).map(Number);
  if (ids.length === 0 && verifying === null) return null;
  const names = nameLookup();
  return (
    <>
      {ids.map((id) => (
        <div key={id} class="alert alert-error key-change" role="alert">
          {withParts(t('panels.keyChanged', { skipInterpolation: true }), { name: <strong>{names.get(id) ?? t('panels.userFallback', { id })}</strong> })}{' '}
          <button type="button" class="link-button" onClick={() => setVerifying(id)}>
            {t('panels.verify')}
          </button>{' '}
          <button type="button" class="link-button" onClick={() => setVerifying(id)}>
            {t('panels.acceptNewKey')}
          </button>
        </div>
      ))}
      {verifying !== null && <VerifyDialog userId={verifying} username={names.get(verifying) ?? t('panels.userFallback', { id: verifying })} onClose={() => setVerifying(null)} />}
    </>
  );
}

function nameLookup(): Map<number, string> {
  const names = new Map<number, string>();
  for (const timeline of Object.values(timelines.value)) {
    for (const m of timeline.messages) if (m.sender_id !== null && m.sender_username !== null) names.set(m.sender_id, personName(m.sender_id, m.sender_username));
  }
  for (const room of rooms.value) if (room.dm_peer !== null) names.set(room.dm_peer.id, personName(room.dm_peer.id, room.dm_peer.username));
  for (const r of keyRequests.value) names.set(r.requester_id, personName(r.requester_id, r.requester_username));
  return names;
}

function KeyRequests() {
  const [error, setError] = useState<string | null>(null);
  const requests = keyRequests.value;
  if (requests.length === 0) return null;
  const channelName = (id: number) => {
    for (const room of rooms.value) {
      const channel = room.channels.find((c) => c.id === id);
      if (channel !== undefined) return t('panels.channelIn', { channel: channel.name, room: room.name });
    }
    return t('panels.channelFallback', { id });
  };
  return (
    <section class="panel" aria-labelledby="requests-title">
      <h2 id="requests-title">{t('panels.requestsTitle')}</h2>
      {error !== null && <Alert tone="error">{error}</Alert>}
      <ul class="member-list">
        {requests.map((r) => (
          <li key={r.request_id} class="member">
            <span>
              {withParts(t('panels.asksFor', { skipInterpolation: true }), { name: <strong>{personName(r.requester_id, r.requester_username)}</strong>, channel: channelName(r.channel_id) })}
            </span>
            <span class="member-actions">
              <button
                type="button"
                class="button button-primary"
                aria-label={t('panels.approveLabel', { name: personName(r.requester_id, r.requester_username) })}
                onClick={() => {
                  setError(null);
                  const room = rooms.value.find((candidate) => candidate.id === r.room_id);
                  if (room === undefined) return dismissKeyRequest(r.request_id);
                  approveKeyRequest(r, room).catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
                }}
              >
                {t('panels.approve')}
              </button>
              <button type="button" class="button button-secondary" onClick={() => dismissKeyRequest(r.request_id)}>
                {t('panels.dismiss')}
              </button>
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Safety numbers side by side: both people read them out and compare. */
export function VerifyDialog({ userId, username, onClose }: { userId: number; username: string; onClose: () => void }) {
  const [info, setInfo] = useState<Awaited<ReturnType<typeof safetyNumber>> | 'loading' | 'error'>('loading');
  const [acceptError, setAcceptError] = useState<string | null>(null);
  useEffect(() => {
    safetyNumber(userId)
      .then((result) => setInfo(result))
      .catch(() => setInfo('error'));
  }, [userId]);
  return (
    <Dialog title={t('verify.title', { name: username })} onClose={onClose}>
      {info === 'loading' && <p>{t('verify.computing')}</p>}
      {info === 'error' && <Alert tone="error">{t('verify.failed')}</Alert>}
      {info === null && <p>{t('verify.noKey', { name: username })}</p>}
      {info !== null && typeof info === 'object' && (
        <>
          <p>{t('verify.compare', { name: username })}</p>
          <p class="safety-number" aria-label={t('verify.safetyNumber')}>
            {info.number}
          </p>
          <dl class="fingerprints">
            <dt>{t('verify.yourKey')}</dt>
            <dd>{info.mine}</dd>
            <dt>{info.offered ? t('verify.theirNewKey', { name: username }) : t('verify.theirKey', { name: username })}</dt>
            <dd>{info.theirs}</dd>
          </dl>
          {info.offered && (
            <>
              <p>{t('verify.changed', { name: username })}</p>
              <button
                type="button"
                class="button button-primary"
                onClick={() => {
                  try {
                    acceptNewKey(userId, info.theirs);
                    onClose();
                  } catch (err) {
                    setAcceptError(err instanceof Error ? err.message : String(err));
                  }
                }}
              >
                {t('verify.accept')}
              </button>
              {acceptError !== null && <Alert tone="error">{acceptError}</Alert>}
            </>
          )}
        </>
      )}
    </Dialog>
  );
}
