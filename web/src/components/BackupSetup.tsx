// Making (or replacing) the key backup: a recovery key by default — 12 words
// shown once, then two of them typed back before anything is stored — or,
// for people who prefer one, a passphrase that the strength meter accepts
// and that is not the login password (docs/PROTOCOL.md §8).

import { useEffect, useState } from 'preact/hooks';
import {
  abandonRecoveryKey,
  confirmRecoveryKey,
  loadEstimator,
  MIN_PASSPHRASE,
  makeBackup,
  newPassphraseProblem,
  pendingKey,
  startRecoveryKey,
  type Strength,
} from '../e2ee/backup.ts';
import { Alert } from './Alert.tsx';
import { SubmitButton } from './SubmitButton.tsx';
import { TextField } from './TextField.tsx';
import { useSubmit } from './useSubmit.ts';

interface Props {
  /** Prefix of the element ids (the card and the reminder panel each have one). */
  prefix: string;
  /** True when a backup is stored and this replaces it. */
  replacing: boolean;
  /** Called with what to tell the person once the backup is stored. */
  onDone: (message: string) => void;
  /** Shown next to the first button, e.g. "Later" on the reminder. */
  extra?: preact.ComponentChildren;
}

export function BackupSetup({ prefix, replacing, onDone, extra }: Props) {
  const [mode, setMode] = useState<'key' | 'passphrase'>('key');
  const pending = pendingKey.value;
  if (pending !== null) {
    return <ConfirmWords prefix={prefix} words={pending.words} positions={pending.positions} stored={pending.stored} cancellable={!replacing && !pending.stored} onDone={onDone} />;
  }
  return mode === 'key' ? (
    <CreateKey prefix={prefix} replacing={replacing} onPassphrase={() => setMode('passphrase')} extra={extra} />
  ) : (
    <PassphraseForm prefix={prefix} replacing={replacing} onDone={onDone} onKey={() => setMode('key')} extra={extra} />
  );
}

function CreateKey({ prefix, replacing, onPassphrase, extra }: { prefix: string; replacing: boolean; onPassphrase: () => void; extra: preact.ComponentChildren }) {
  const submission = useSubmit();
  return (
    <div class="backup-setup" id={`${prefix}-key`}>
      <p>
        {replacing
          ? 'A new recovery key replaces the stored backup: from then on, only the new key opens it.'
          : 'A recovery key is 12 words that open a backup of your keys, so you can restore them in another browser. Nobody can reset it for you.'}
      </p>
      {submission.error !== null && <Alert tone="error">The recovery key could not be made: {submission.error}</Alert>}
      <div class="button-row">
        <button type="button" class="button button-primary" disabled={submission.pending} onClick={() => void submission.run(startRecoveryKey)}>
          {replacing ? 'Create a new recovery key' : 'Create recovery key'}
        </button>
        {extra}
      </div>
      <p class="muted">
        <button type="button" class="link-button" onClick={onPassphrase}>
          Use a passphrase instead
        </button>
      </p>
    </div>
  );
}

function ConfirmWords({
  prefix,
  words,
  positions,
  stored,
  cancellable,
  onDone,
}: {
  prefix: string;
  words: readonly string[];
  positions: readonly number[];
  /** Whether the backup sealed under this key is already stored (a replacement). */
  stored: boolean;
  cancellable: boolean;
  onDone: (message: string) => void;
}) {
  const [typed, setTyped] = useState<string[]>(() => positions.map(() => ''));
  const [problem, setProblem] = useState<string | null>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  const submission = useSubmit();

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    setProblem(null);
    await submission.run(async () => {
      const wrong = await confirmRecoveryKey(typed);
      if (wrong !== null) setProblem(wrong);
      else onDone('Your key backup is stored. Restore it in another browser with your recovery key.');
    });
  }

  return (
    <div class="backup-setup">
      <h3 id={`${prefix}-words-title`}>Your recovery key</h3>
      <p>Write these 12 words down, in order, and keep them somewhere safe. They are shown only now: this browser does not keep them.</p>
      <ol class="recovery-words" aria-labelledby={`${prefix}-words-title`}>
        {words.map((word, i) => (
          <li key={i}>
            <span class="recovery-word-number" aria-hidden="true">
              {i + 1}
            </span>
            <span class="recovery-word">{word}</span>
          </li>
        ))}
      </ol>
      <div class="button-row">
        <button
          type="button"
          class="button button-secondary"
          onClick={() => {
            navigator.clipboard.writeText(words.join(' ')).then(
              () => setCopied(true),
              () => setCopied(false),
            );
          }}
        >
          Copy the words
        </button>
        <span role="status" class="muted">
          {copied === true ? 'Copied.' : copied === false ? 'Could not copy: select the words and copy them yourself.' : ''}
        </span>
      </div>
      <form onSubmit={(e) => void onSubmit(e)} noValidate aria-labelledby={`${prefix}-confirm-title`}>
        <h3 id={`${prefix}-confirm-title`}>Confirm you saved it</h3>
        <p>
          {stored
            ? 'Your backup is now sealed under this key: the old secret no longer opens it. Type the words you saved at the positions asked.'
            : 'Type the words you saved at the positions asked. The backup is stored once they match.'}
        </p>
        {positions.map((position, i) => (
          <TextField
            key={position}
            id={`${prefix}-confirm-word-${i}`}
            label={`Word ${position + 1}`}
            autoComplete="off"
            value={typed[i] ?? ''}
            onValue={(value) => setTyped((old) => old.map((w, j) => (j === i ? value : w)))}
            error={undefined}
          />
        ))}
        {problem !== null && <Alert tone="error">{problem}</Alert>}
        {submission.error !== null && <Alert tone="error">The backup was not saved: {submission.error} Try again.</Alert>}
        <div class="button-row">
          <SubmitButton pending={submission.pending} label="Confirm and store backup" pendingLabel="Saving…" />
          {cancellable && (
            <button type="button" class="button button-secondary" disabled={submission.pending} onClick={abandonRecoveryKey}>
              Cancel
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

const STRENGTH_WORDS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;

function PassphraseForm({
  prefix,
  replacing,
  onDone,
  onKey,
  extra,
}: {
  prefix: string;
  replacing: boolean;
  onDone: (message: string) => void;
  onKey: () => void;
  extra: preact.ComponentChildren;
}) {
  const [passphrase, setPassphrase] = useState('');
  const [confirm, setConfirm] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [estimate, setEstimate] = useState<((p: string) => Strength) | null>(null);
  const submission = useSubmit();
  useEffect(() => {
    let live = true;
    void loadEstimator().then(
      (e) => live && setEstimate(() => e),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);
  const strength = estimate !== null && passphrase !== '' ? estimate(passphrase) : null;

  async function onSubmit(event: SubmitEvent) {
    event.preventDefault();
    setProblem(null);
    await submission.run(async () => {
      const wrong = await newPassphraseProblem(passphrase, confirm);
      setProblem(wrong);
      if (wrong !== null) return;
      await makeBackup(passphrase);
      setPassphrase('');
      setConfirm('');
      onDone(
        replacing ? 'Your key backup was replaced. From now on only the new passphrase opens it.' : 'Your key backup is stored. Restore it in another browser with this passphrase.',
      );
    });
  }

  return (
    <form onSubmit={(e) => void onSubmit(e)} noValidate aria-labelledby={`${prefix}-passphrase-title`}>
      <h3 id={`${prefix}-passphrase-title`}>{replacing ? 'Change your recovery passphrase' : 'Use a recovery passphrase'}</h3>
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
        hint={`At least ${MIN_PASSPHRASE} characters, hard to guess, and not your login password. Several unrelated words work well.`}
        value={passphrase}
        onValue={setPassphrase}
        error={undefined}
      />
      <div class="strength">
        <meter id={`${prefix}-strength`} min={0} max={4} low={2} high={3} optimum={4} value={strength?.score ?? 0} aria-labelledby={`${prefix}-strength-label`} />
        <span id={`${prefix}-strength-label`} aria-live="polite">
          Strength: {strength === null ? '—' : STRENGTH_WORDS[strength.score]}
        </span>
      </div>
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
      <div class="button-row">
        <SubmitButton pending={submission.pending} label={replacing ? 'Replace backup' : 'Save backup'} pendingLabel="Saving…" variant="secondary" />
        {extra}
      </div>
      <p class="muted">
        <button type="button" class="link-button" onClick={onKey}>
          Use a recovery key instead
        </button>
      </p>
    </form>
  );
}
