// What end-to-end encryption asks of the person: restoring or creating the
// identity, the key backup (recovery key or passphrase), key changes of others, and key
// requests to approve.

import { useEffect, useState } from 'preact/hooks';
import { rooms, timelines } from '../../chat/store.ts';
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
import { backupState, reminderSnoozed, restoreWith, storedKind } from '../../e2ee/backup.ts';
import { BackupSetup } from '../BackupSetup.tsx';
import { ACCOUNT_PATH } from '../../router.ts';
import { Alert } from '../Alert.tsx';
import { Dialog } from '../Dialog.tsx';
import { Link } from '../Link.tsx';
import { useSubmit } from '../useSubmit.ts';

export function E2eePanels() {
  const status = identityStatus.value;
  return (
    <div class="e2ee-panels">
      {status.kind === 'error' && <Alert tone="error">Encryption is unavailable in this browser: {status.message}</Alert>}
      {status.kind === 'needs-restore' && <RestorePanel />}
      {status.kind === 'ready' && backupState.value === 'none' && !reminderSnoozed.value && <BackupPanel />}
      <KeyChanges />
      <KeyRequests />
    </div>
  );
}

function RestorePanel() {
  const [passphrase, setPassphrase] = useState('');
  const kind = storedKind.value;
  const words = kind === 'recovery_key';
  const submission = useSubmit();
  return (
    <section class="panel" aria-labelledby="restore-title">
      <h2 id="restore-title">Restore your encryption keys</h2>
      {backupState.value === 'none' ? (
        <p>
          Your account already has encryption keys from another browser, but no key backup is stored, so encrypted messages stay locked here. In the browser that has your keys,
          make a backup in <Link href={ACCOUNT_PATH}>Account → Encryption</Link>, then reload this page and restore it.
        </p>
      ) : (
        <>
          <p>
            Your account already has encryption keys from another browser.{' '}
            {words ? 'Enter the 12 words of your recovery key to read your encrypted messages here.' : 'Enter your recovery passphrase to read your encrypted messages here.'}
          </p>
          <form
            class="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void submission.run(() => restoreWith(passphrase, kind ?? 'passphrase'));
            }}
          >
            <label class="visually-hidden" for="restore-passphrase">
              {words ? 'Recovery key' : 'Recovery passphrase'}
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
                placeholder="The 12 words of your recovery key"
              />
            ) : (
              <input id="restore-passphrase" type="password" autocomplete="off" value={passphrase} onInput={(e) => setPassphrase(e.currentTarget.value)} placeholder="Recovery passphrase" />
            )}
            <button type="submit" class="button button-primary" disabled={submission.pending}>
              {submission.pending ? 'Restoring…' : 'Restore'}
            </button>
          </form>
        </>
      )}
      {submission.error !== null && <Alert tone="error">{submission.error}</Alert>}
      <p class="muted">
        {backupState.value === 'none' ? 'No other browser has your keys any more?' : words ? 'Lost the recovery key?' : 'Lost the passphrase?'}{' '}
        <button
          type="button"
          class="link-button"
          onClick={() => {
            if (window.confirm('Create new keys? Old encrypted messages stay unreadable here, and your contacts will see that your key changed.')) void submission.run(startOver);
          }}
        >
          Create new keys instead
        </button>
      </p>
    </section>
  );
}

function BackupPanel() {
  return (
    <section class="panel" aria-labelledby="backup-title">
      <h2 id="backup-title">Back up your encryption keys</h2>
      <p>
        Your encryption keys are only in this browser: without a backup, another browser cannot read your encrypted messages. A recovery key seals a backup of them that the server
        stores but cannot open. You can also do this in <Link href={ACCOUNT_PATH}>Account → Encryption</Link>.
      </p>
      <BackupSetup
        prefix="backup"
        replacing={false}
        onDone={() => undefined}
        extra={
          <button type="button" class="button button-secondary" onClick={() => (reminderSnoozed.value = true)}>
            Later
          </button>
        }
      />
    </section>
  );
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
          The encryption key of <strong>{names.get(id) ?? `user ${id}`}</strong> changed. Messages signed with the new key are shown as warnings until you accept it. Compare safety numbers
          first if you can.{' '}
          <button type="button" class="link-button" onClick={() => setVerifying(id)}>
            Verify
          </button>{' '}
          <button type="button" class="link-button" onClick={() => setVerifying(id)}>
            Accept new key
          </button>
        </div>
      ))}
      {verifying !== null && <VerifyDialog userId={verifying} username={names.get(verifying) ?? `user ${verifying}`} onClose={() => setVerifying(null)} />}
    </>
  );
}

function nameLookup(): Map<number, string> {
  const names = new Map<number, string>();
  for (const timeline of Object.values(timelines.value)) {
    for (const m of timeline.messages) if (m.sender_id !== null && m.sender_username !== null) names.set(m.sender_id, m.sender_username);
  }
  for (const room of rooms.value) if (room.dm_peer !== null) names.set(room.dm_peer.id, room.dm_peer.username);
  for (const r of keyRequests.value) names.set(r.requester_id, r.requester_username);
  return names;
}

function KeyRequests() {
  const [error, setError] = useState<string | null>(null);
  const requests = keyRequests.value;
  if (requests.length === 0) return null;
  const channelName = (id: number) => {
    for (const room of rooms.value) {
      const channel = room.channels.find((c) => c.id === id);
      if (channel !== undefined) return `#${channel.name} in ${room.name}`;
    }
    return `channel ${id}`;
  };
  return (
    <section class="panel" aria-labelledby="requests-title">
      <h2 id="requests-title">Key requests</h2>
      {error !== null && <Alert tone="error">{error}</Alert>}
      <ul class="member-list">
        {requests.map((r) => (
          <li key={r.request_id} class="member">
            <span>
              <strong>{r.requester_username}</strong> asks for the key of {channelName(r.channel_id)}
            </span>
            <span class="member-actions">
              <button
                type="button"
                class="button button-primary"
                aria-label={`Approve ${r.requester_username}`}
                onClick={() => {
                  setError(null);
                  const room = rooms.value.find((candidate) => candidate.id === r.room_id);
                  if (room === undefined) return dismissKeyRequest(r.request_id);
                  approveKeyRequest(r, room).catch((err: unknown) => setError(err instanceof Error ? err.message : String(err)));
                }}
              >
                Approve
              </button>
              <button type="button" class="button button-secondary" onClick={() => dismissKeyRequest(r.request_id)}>
                Dismiss
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
    <Dialog title={`Verify ${username}`} onClose={onClose}>
      {info === 'loading' && <p>Computing…</p>}
      {info === 'error' && <Alert tone="error">The safety number could not be computed.</Alert>}
      {info === null && <p>{username} has not published an encryption key yet.</p>}
      {info !== null && typeof info === 'object' && (
        <>
          <p>Compare this number with the one {username} sees (in person or on a call). If they match, nobody is in the middle.</p>
          <p class="safety-number" aria-label="Safety number">
            {info.number}
          </p>
          <dl class="fingerprints">
            <dt>Your key</dt>
            <dd>{info.mine}</dd>
            <dt>{info.offered ? `${username}’s new key` : `${username}’s key`}</dt>
            <dd>{info.theirs}</dd>
          </dl>
          {info.offered && (
            <>
              <p>
                {username}’s key changed. Accept it only if the numbers match: exactly the key shown here is trusted, and messages signed with it are shown
                normally.
              </p>
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
                Accept this key
              </button>
              {acceptError !== null && <Alert tone="error">{acceptError}</Alert>}
            </>
          )}
        </>
      )}
    </Dialog>
  );
}
