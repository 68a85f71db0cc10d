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
import { t } from '../i18n/index.ts';

/** What a recovery key is, said where one is offered. */
export function recoveryKeyAbout(): string {
  return t('backup.about');
}

interface Props {
  /** Prefix of the element ids (the card and the reminder panel each have one). */
  prefix: string;
  /** True when a backup is stored and this replaces it. */
  replacing: boolean;
  /** Called with what to tell the person once the backup is stored. */
  onDone: (message: string) => void;
  /** Shown next to the first button, e.g. "Later" on the reminder. */
  extra?: preact.ComponentChildren;
  /** On one line, without the explanation (the reminder above the chat shows it behind its own toggle). */
  brief?: boolean;
}

export function BackupSetup({ prefix, replacing, onDone, extra, brief = false }: Props) {
  const [mode, setMode] = useState<'key' | 'passphrase'>('key');
  const pending = pendingKey.value;
  if (pending !== null) {
    return <ConfirmWords prefix={prefix} words={pending.words} positions={pending.positions} stored={pending.stored} cancellable={!replacing && !pending.stored} onDone={onDone} />;
  }
  return mode === 'key' ? (
    <CreateKey prefix={prefix} replacing={replacing} onPassphrase={() => setMode('passphrase')} extra={extra} brief={brief} />
  ) : (
    <PassphraseForm prefix={prefix} replacing={replacing} onDone={onDone} onKey={() => setMode('key')} extra={extra} />
  );
}

function CreateKey({
  prefix,
  replacing,
  onPassphrase,
  extra,
  brief,
}: {
  prefix: string;
  replacing: boolean;
  onPassphrase: () => void;
  extra: preact.ComponentChildren;
  brief: boolean;
}) {
  const submission = useSubmit();
  const other = (
    <button type="button" class="link-button" onClick={onPassphrase}>
      {t('backup.usePassphrase')}
    </button>
  );
  return (
    <div class={`backup-setup${brief ? ' backup-setup-brief' : ''}`} id={`${prefix}-key`}>
      {!brief && (
        <p>
          {replacing ? t('backup.replaceKeyIntro') : recoveryKeyAbout()}
        </p>
      )}
      {submission.error !== null && <Alert tone="error">{t('backup.keyFailed', { error: submission.error })}</Alert>}
      <div class="button-row">
        <button type="button" class="button button-primary" disabled={submission.pending} onClick={() => void submission.run(startRecoveryKey)}>
          {replacing ? t('backup.createNewKey') : t('backup.createKey')}
        </button>
        {extra}
        {brief && other}
      </div>
      {!brief && <p class="muted">{other}</p>}
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
      else onDone(t('backup.storedWithKey'));
    });
  }

  return (
    <div class="backup-setup">
      <h3 id={`${prefix}-words-title`}>{t('backup.yourKey')}</h3>
      <p>{t('backup.writeDown')}</p>
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
          {t('backup.copy')}
        </button>
        <span role="status" class="muted">
          {copied === true ? t('backup.copied') : copied === false ? t('backup.copyFailed') : ''}
        </span>
      </div>
      <form onSubmit={(e) => void onSubmit(e)} noValidate aria-labelledby={`${prefix}-confirm-title`}>
        <h3 id={`${prefix}-confirm-title`}>{t('backup.confirmTitle')}</h3>
        <p>{stored ? t('backup.confirmStored') : t('backup.confirmNew')}</p>
        {positions.map((position, i) => (
          <TextField
            key={position}
            id={`${prefix}-confirm-word-${i}`}
            label={t('backup.word', { n: position + 1 })}
            autoComplete="off"
            value={typed[i] ?? ''}
            onValue={(value) => setTyped((old) => old.map((w, j) => (j === i ? value : w)))}
            error={undefined}
          />
        ))}
        {problem !== null && <Alert tone="error">{problem}</Alert>}
        {submission.error !== null && <Alert tone="error">{t('backup.notSaved', { error: submission.error })}</Alert>}
        <div class="button-row">
          <SubmitButton pending={submission.pending} label={t('backup.confirmSubmit')} pendingLabel={t('backup.saving')} />
          {cancellable && (
            <button type="button" class="button button-secondary" disabled={submission.pending} onClick={abandonRecoveryKey}>
              {t('common.cancel')}
            </button>
          )}
        </div>
      </form>
    </div>
  );
}

/** The meter's word for a zxcvbn score (0–4). */
function strengthWord(score: Strength['score']): string {
  return t(`backup.strength${score}`);
}

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
      onDone(replacing ? t('backup.replacedPassphrase') : t('backup.storedWithPassphrase'));
    });
  }

  return (
    <form onSubmit={(e) => void onSubmit(e)} noValidate aria-labelledby={`${prefix}-passphrase-title`}>
      <h3 id={`${prefix}-passphrase-title`}>{replacing ? t('backup.changePassphrase') : t('backup.usePassphraseTitle')}</h3>
      <p>{replacing ? t('backup.replacePassphraseIntro') : t('backup.passphraseIntro')}</p>
      <TextField
        id={`${prefix}-passphrase`}
        label={replacing ? t('backup.newPassphrase') : t('backup.passphrase')}
        type="password"
        autoComplete="new-password"
        hint={t('backup.passphraseHint', { min: MIN_PASSPHRASE })}
        value={passphrase}
        onValue={setPassphrase}
        error={undefined}
      />
      <div class="strength">
        <meter id={`${prefix}-strength`} min={0} max={4} low={2} high={3} optimum={4} value={strength?.score ?? 0} aria-labelledby={`${prefix}-strength-label`} />
        <span id={`${prefix}-strength-label`} aria-live="polite">
          {t('backup.strength', { strength: strength === null ? '—' : strengthWord(strength.score) })}
        </span>
      </div>
      <TextField
        id={`${prefix}-confirm`}
        label={replacing ? t('backup.confirmNewPassphrase') : t('backup.confirmPassphrase')}
        type="password"
        autoComplete="new-password"
        value={confirm}
        onValue={setConfirm}
        error={undefined}
      />
      {problem !== null && <Alert tone="error">{problem}</Alert>}
      {submission.error !== null && <Alert tone="error">{t('backup.notSaved', { error: submission.error })}</Alert>}
      <div class="button-row">
        <SubmitButton pending={submission.pending} label={replacing ? t('backup.replace') : t('backup.save')} pendingLabel={t('backup.saving')} variant="secondary" />
        {extra}
      </div>
      <p class="muted">
        <button type="button" class="link-button" onClick={onKey}>
          {t('backup.useKey')}
        </button>
      </p>
    </form>
  );
}
