// Account → Encryption: this browser's keys, the person's fingerprint, the
// key backup, and what can be done with them (make, test or replace the
// backup; restore from it, or start over, when this browser has no keys).

import { useState } from 'preact/hooks';
import { backupProblem, backupState, backupUpdatedAt, makeBackup, MIN_PASSPHRASE, passphraseProblem, testBackup } from '../e2ee/backup.ts';
import { identityStatus, restoreFromBackup, startOver } from '../e2ee/engine.ts';
import { Alert } from './Alert.tsx';
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
                {backupUpdatedAt.value !== null && <> (saved {savedOn(backupUpdatedAt.value)})</>}, sealed with your recovery passphrase. The server cannot open it.
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
        <NewPassphraseForm replacing={false} onDone={() => setDone('Your key backup is stored. Restore it in another browser with this passphrase.')} />
      )}
      {status.kind === 'ready' && backup === 'stored' && (
        <>
          <TestBackupForm onStart={() => setDone(null)} />
          <NewPassphraseForm replacing={true} onDone={() => setDone('Your key backup was replaced. From now on only the new passphrase opens it.')} />
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

/** A new recovery passphrase, typed twice: makes the first backup or replaces the stored one. */
function NewPassphraseForm({ replacing, onDone }: { replacing: boolean; onDone: () => void }) {
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const submission = useSubmit();
  const prefix = replacing ? 'backup-new' : 'backup-first';
  const title = replacing ? 'Change your recovery passphrase' : 'Make a backup';

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    const wrong = passphraseProblem(passphrase, confirm);
    setProblem(wrong);
    if (wrong !== null) return;
    const outcome = await submission.run(() => makeBackup(passphrase));
    if (outcome === 'succeeded') {
      setPassphrase('');
      setConfirm('');
      onDone();
    }
  }

  return (
    <form onSubmit={(e) => void onSubmit(e)} noValidate aria-labelledby={`${prefix}-title`}>
      <h3 id={`${prefix}-title`}>{title}</h3>
      <p>
        {replacing
          ? 'A new passphrase replaces the stored backup: from then on, only the new passphrase opens it.'
          : 'Choose a recovery passphrase. It seals a backup of your keys, so you can restore them in another browser. Nobody can reset it for you: write it down somewhere safe.'}
      </p>
      <TextField
        id={`${prefix}-passphrase`}
        label={replacing ? 'New recovery passphrase' : 'Recovery passphrase'}
        type="password"
        autoComplete="new-password"
        hint={`At least ${MIN_PASSPHRASE} characters.`}
        value={passphrase}
        onValue={setPassphrase}
        error={undefined}
      />
      <TextField
        id={`${prefix}-confirm`}
        label={replacing ? 'Confirm new recovery passphrase' : 'Confirm recovery passphrase'}
        type="password"
        autoComplete="new-password"
        value={confirm}
        onValue={setConfirm}
        error={undefined}
      />
      {problem !== null && <Alert tone="error">{problem}</Alert>}
      {submission.error !== null && <Alert tone="error">The backup was not saved: {submission.error} Try again.</Alert>}
      <SubmitButton pending={submission.pending} label={replacing ? 'Replace backup' : 'Save backup'} pendingLabel="Saving…" variant="secondary" />
    </form>
  );
}

/** Tries a passphrase on the stored backup, here in the browser. */
function TestBackupForm({ onStart }: { onStart: () => void }) {
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
      <p>Check that you still know your recovery passphrase. It is tried on the stored backup here, in this browser, and never sent.</p>
      <TextField
        id="backup-test-passphrase"
        label="Passphrase to test"
        type="password"
        autoComplete="off"
        value={passphrase}
        onValue={(value) => {
          setPassphrase(value);
          setOpens(null);
        }}
        error={undefined}
      />
      {opens === true && <Alert tone="success">Yes: this passphrase opens your backup.</Alert>}
      {opens === false && (
        <Alert tone="error">No: this passphrase does not open your backup. Check it and try again, or set a new passphrase below while this browser still has your keys.</Alert>
      )}
      {submission.error !== null && <Alert tone="error">The backup could not be tested: {submission.error}</Alert>}
      <SubmitButton pending={submission.pending} label="Test backup" pendingLabel="Testing…" variant="secondary" />
    </form>
  );
}

/** This browser has no keys but the account has some: restore them, or start over. */
function RestoreForms({ backup }: { backup: 'unknown' | 'none' | 'stored' }) {
  const [passphrase, setPassphrase] = useState('');
  const restoring = useSubmit();
  const starting = useSubmit();

  async function onRestore(event: SubmitEvent) {
    event.preventDefault();
    await restoring.run(() => restoreFromBackup(passphrase));
  }

  return (
    <>
      {backup === 'stored' ? (
        <form onSubmit={(e) => void onRestore(e)} noValidate aria-labelledby="restore-backup-title">
          <h3 id="restore-backup-title">Restore from backup</h3>
          <p>Enter your recovery passphrase to restore your keys in this browser. It opens the backup here; it is never sent.</p>
          <TextField id="restore-backup-passphrase" label="Recovery passphrase" type="password" autoComplete="off" value={passphrase} onValue={setPassphrase} error={undefined} />
          {restoring.error !== null && <Alert tone="error">{restoring.error} Check the passphrase and try again.</Alert>}
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
