// Account → Encryption: this browser's keys, the person's fingerprint, the
// key backup, and what can be done with them (make it with a recovery key
// or a passphrase, test or replace it; restore from it, or start over, when
// this browser has no keys).

import { useState } from 'preact/hooks';
import { backupProblem, backupState, backupUpdatedAt, pendingKey, restoreWith, storedKind, testBackup } from '../e2ee/backup.ts';
import { identityStatus, startOver } from '../e2ee/engine.ts';
import { Alert } from './Alert.tsx';
import { BackupSetup } from './BackupSetup.tsx';
import { SubmitButton } from './SubmitButton.tsx';
import { TextField } from './TextField.tsx';
import { useSubmit } from './useSubmit.ts';

type IdentityStatus = typeof identityStatus.value;

export function EncryptionCard() {
  const status = identityStatus.value;
  const backup = backupState.value;
  const problem = backupProblem.value;
  // Outlives the form that reported it (a first backup swaps the forms shown).
  const [done, setDone] = useState<string | null>(null);
  return (
    <section class="card encryption" id="encryption" aria-labelledby="encryption-title">
      <h2 id="encryption-title">Encryption</h2>
      <p class="muted">Encrypted channels and direct messages can be read only with your keys, which stay in your browsers. The server cannot read them.</p>
      <dl class="facts">
        <div>
          <dt>This browser</dt>
          <dd>
            <BrowserState status={status} />
          </dd>
        </div>
        {status.kind === 'ready' && (
          <div>
            <dt>Your fingerprint</dt>
            <dd class="fingerprint">{status.fingerprint}</dd>
          </div>
        )}
        <div>
          <dt>Key backup</dt>
          <dd>
            {backup === 'stored' ? (
              <>
                <strong>Stored</strong>
                {backupUpdatedAt.value !== null && <> (saved {savedOn(backupUpdatedAt.value)})</>},{' '}
                {storedKind.value === 'passphrase'
                  ? 'sealed with your recovery passphrase'
                  : storedKind.value === 'recovery_key'
                    ? 'sealed with your recovery key'
                    : 'sealed with your recovery key or passphrase'}
                . The server cannot open it. It is kept up to date with the contacts and rooms you verified.
              </>
            ) : backup === 'none' ? (
              <>
                <strong>Not stored.</strong> Without a backup, no other browser can read your encrypted messages.
              </>
            ) : problem !== null ? (
              <strong>Unknown</strong>
            ) : status.kind === 'ready' || status.kind === 'needs-restore' ? (
              'Checking…'
            ) : (
              'Unknown until your keys are loaded.'
            )}
          </dd>
        </div>
      </dl>
      {problem !== null && <Alert tone="error">Could not check for a key backup: {problem} Reload the page to try again.</Alert>}
      {done !== null && <Alert tone="success">{done}</Alert>}
      {status.kind === 'ready' && backup === 'none' && (
        <>
          <h3 id="backup-first-title">Make a backup</h3>
          <BackupSetup prefix="backup-first" replacing={false} onDone={setDone} />
        </>
      )}
      {status.kind === 'ready' && backup === 'stored' && (
        <>
          {pendingKey.value === null && <TestBackupForm kind={storedKind.value} onStart={() => setDone(null)} />}
          <h3 id="backup-new-title">Replace your backup</h3>
          <BackupSetup prefix="backup-new" replacing={true} onDone={setDone} />
        </>
      )}
      {status.kind === 'needs-restore' && <RestoreForms backup={backup} />}
    </section>
  );
}

function BrowserState({ status }: { status: IdentityStatus }) {
  switch (status.kind) {
    case 'ready':
      return (
        <>
          <strong>Keys ready.</strong> This browser can read and send encrypted messages.
        </>
      );
    case 'needs-restore':
      return (
        <>
          <strong>Needs restore.</strong> Your keys were made in another browser; until you restore them here, encrypted messages stay locked in this one.
        </>
      );
    case 'loading':
      return <>Loading your keys…</>;
    case 'error':
      return (
        <>
          <strong>Not set up.</strong> Encryption is unavailable in this browser ({status.message}). Reload the page to try again; if it keeps failing, use another browser.
        </>
      );
    case 'off':
      return (
        <>
          <strong>Not set up.</strong>
        </>
      );
  }
}

function savedOn(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? 'earlier' : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Tries the recovery key or passphrase on the stored backup, here in the browser. */
function TestBackupForm({ kind, onStart }: { kind: 'recovery_key' | 'passphrase' | null; onStart: () => void }) {
  const words = kind === 'recovery_key';
  const [passphrase, setPassphrase] = useState('');
  const [opens, setOpens] = useState<boolean | null>(null);
  const submission = useSubmit();

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    onStart();
    setOpens(null);
    await submission.run(async () => setOpens(await testBackup(passphrase)));
  }

  return (
    <form onSubmit={(e) => void onSubmit(e)} noValidate aria-labelledby="backup-test-title">
      <h3 id="backup-test-title">Test your backup</h3>
      <p>
        {words ? 'Check that you still have your recovery key.' : 'Check that you still know your recovery passphrase.'} It is tried on the stored backup here, in this browser, and
        never sent.
      </p>
      <TextField
        id="backup-test-passphrase"
        label={words ? 'Recovery key to test' : 'Passphrase to test'}
        type={words ? 'text' : 'password'}
        autoComplete="off"
        value={passphrase}
        onValue={(value) => {
          setPassphrase(value);
          setOpens(null);
        }}
        error={undefined}
      />
      {opens === true && <Alert tone="success">{words ? 'Yes: this recovery key opens your backup.' : 'Yes: this passphrase opens your backup.'}</Alert>}
      {opens === false && (
        <Alert tone="error">
          {words ? 'No: this recovery key does not open your backup.' : 'No: this passphrase does not open your backup.'} Check it and try again, or replace the backup below while
          this browser still has your keys.
        </Alert>
      )}
      {submission.error !== null && <Alert tone="error">The backup could not be tested: {submission.error}</Alert>}
      <SubmitButton pending={submission.pending} label="Test backup" pendingLabel="Testing…" variant="secondary" />
    </form>
  );
}

/** This browser has no keys but the account has some: restore them, or start over. */
function RestoreForms({ backup }: { backup: 'unknown' | 'none' | 'stored' }) {
  const [passphrase, setPassphrase] = useState('');
  const kind = storedKind.value;
  const restoring = useSubmit();
  const starting = useSubmit();

  async function onRestore(event: SubmitEvent) {
    event.preventDefault();
    await restoring.run(() => restoreWith(passphrase, kind ?? 'passphrase'));
  }

  return (
    <>
      {backup === 'stored' ? (
        <form onSubmit={(e) => void onRestore(e)} noValidate aria-labelledby="restore-backup-title">
          <h3 id="restore-backup-title">Restore from backup</h3>
          <p>
            {kind === 'recovery_key'
              ? 'Enter the 12 words of your recovery key to restore your keys in this browser (spacing and case do not matter).'
              : 'Enter your recovery passphrase to restore your keys in this browser.'}{' '}
            It opens the backup here; it is never sent.
          </p>
          <TextField
            id="restore-backup-passphrase"
            label={kind === 'recovery_key' ? 'Recovery key' : 'Recovery passphrase'}
            type={kind === 'recovery_key' ? 'text' : 'password'}
            autoComplete="off"
            value={passphrase}
            onValue={setPassphrase}
            error={undefined}
          />
          {restoring.error !== null && <Alert tone="error">{restoring.error} Check {kind === 'recovery_key' ? 'the words' : 'the passphrase'} and try again.</Alert>}
          <SubmitButton pending={restoring.pending} label="Restore from backup" pendingLabel="Restoring…" />
        </form>
      ) : backup === 'none' ? (
        <Alert tone="info">
          No key backup is stored, so there is nothing to restore yet. In a browser that still has your keys, make a backup in Account → Encryption, then reload this page and
          restore it here.
        </Alert>
      ) : null}
      <div class="start-over" role="group" aria-labelledby="start-over-title">
        <h3 id="start-over-title">Start over with new keys</h3>
        <p>
          Only if no browser has your keys any more and you cannot restore them. Starting over loses access to your earlier encrypted messages: they stay unreadable for you, in
          every browser. Others are told that your key changed.
        </p>
        {starting.error !== null && <Alert tone="error">New keys could not be made: {starting.error} Try again.</Alert>}
        <button
          type="button"
          class="button button-secondary"
          disabled={starting.pending}
          onClick={() => {
            if (window.confirm('Start over with new keys? Your earlier encrypted messages stay unreadable for you, and others will see that your key changed.')) {
              void starting.run(startOver);
            }
          }}
        >
          {starting.pending ? 'Making new keys…' : 'Start over with new keys'}
        </button>
      </div>
    </>
  );
}
