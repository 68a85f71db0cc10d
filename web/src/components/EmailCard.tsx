import { useEffect, useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { ApiError, describeError } from '../api/errors.ts';
import { getEmail, removeEmail, setEmail, verifyEmail, type EmailStatus } from '../api/email.ts';
import { t } from '../i18n/index.ts';
import { Alert } from './Alert.tsx';
import { SubmitButton } from './SubmitButton.tsx';
import { TextField } from './TextField.tsx';
import { useSubmit } from './useSubmit.ts';

/** The sentence for an email route's refusal, in the reader's language. */
function emailError(err: unknown): string {
  if (err instanceof ApiError) {
    switch (err.code) {
      case 'invalid_address':
        return t('email.errors.invalidAddress');
      case 'wrong_code':
        return t('email.errors.wrongCode');
      case 'code_expired':
        return t('email.errors.codeExpired');
      case 'too_many_attempts':
        return t('email.errors.tooManyAttempts');
      case 'no_code':
        return t('email.errors.noCode');
    }
    if (err.status === 503) return t('email.errors.unreachable');
  }
  return describeError(err);
}

/**
 * The Account page's email card: add an address, confirm it with the code
 * the server mails to it, remove it. Digests of missed mentions and DMs go
 * only to a confirmed address. Hidden when the server sends no email.
 */
export function EmailCard() {
  const [status, setStatus] = useState<EmailStatus | null>(null);
  const [address, setAddress] = useState('');
  const [code, setCode] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = useSubmit();

  useEffect(() => {
    getEmail()
      .then(setStatus)
      .catch(() => setStatus(null));
  }, []);

  if (status === null || !status.enabled) return null;

  const act = (action: () => Promise<EmailStatus>, done: (next: EmailStatus) => string | null) => {
    setError(null);
    setNotice(null);
    void submit.run(async () => {
      try {
        const next = await action();
        setStatus(next);
        setNotice(done(next));
      } catch (err) {
        setError(emailError(err));
      }
    });
  };

  const onAdd = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    act(
      () => setEmail(address.trim()),
      () => {
        setCode('');
        return t('email.codeSent');
      },
    );
  };
  const onVerify = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    act(
      () => verifyEmail(code.trim()),
      () => t('email.verifiedNotice'),
    );
  };
  const onRemove = () =>
    act(
      () => removeEmail(),
      () => {
        setAddress('');
        return t('email.removed');
      },
    );

  const delay = status.delay_minutes ?? 15;
  return (
    <section class="card" aria-labelledby="email-title">
      <h2 id="email-title">{t('email.title')}</h2>
      <p class="muted">{t('email.explain', { count: delay })}</p>
      {status.address !== null && (
        <p>
          {status.verified ? t('email.verified', { address: status.address }) : t('email.unverified', { address: status.address })}
        </p>
      )}
      {status.address !== null && !status.verified && status.code_pending && (
        <form onSubmit={onVerify} noValidate>
          <TextField
            id="email-code"
            label={t('email.codeLabel')}
            value={code}
            onValue={setCode}
            autoComplete="one-time-code"
            hint={t('email.codeHint')}
            error={undefined}
          />
          <SubmitButton pending={submit.pending} label={t('email.verify')} pendingLabel={t('email.verifying')} />
        </form>
      )}
      {(status.address === null || !status.verified) && (
        <form onSubmit={onAdd} noValidate>
          <TextField
            id="email-address"
            label={t('email.addressLabel')}
            value={address}
            onValue={setAddress}
            autoComplete="email"
            hint={t('email.addressHint')}
            error={undefined}
          />
          <SubmitButton
            pending={submit.pending}
            label={status.address === null ? t('email.add') : t('email.sendAgain')}
            pendingLabel={t('email.sending')}
            variant="secondary"
          />
        </form>
      )}
      {status.address !== null && (
        <button type="button" class="button button-secondary" disabled={submit.pending} onClick={onRemove}>
          {t('email.remove')}
        </button>
      )}
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      {error !== null && <Alert tone="error">{error}</Alert>}
    </section>
  );
}
