import { useEffect, useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import {
  disableTotp,
  enableTotp,
  getTwoFactor,
  newRecoveryCodes,
  secondFactor,
  setupTotp,
  type TwoFactorStatus,
} from '../api/twofactor.ts';
import { saveBlob } from '../files/save.ts';
import { t } from '../i18n/index.ts';
import { refreshSession } from '../state/session.ts';
import { Alert } from './Alert.tsx';
import { CodeField } from './CodeField.tsx';
import { QrCode } from './QrCode.tsx';
import { SubmitButton } from './SubmitButton.tsx';
import { TextField } from './TextField.tsx';
import { useSubmit } from './useSubmit.ts';

/**
 * Two-factor sign-in on the Account page (and alone on the enrolment screen
 * when the site requires it): set up TOTP from a QR code drawn here from the
 * otpauth URI (or the secret typed in), confirm it with a code, keep the
 * recovery codes shown once; turn it off; get new recovery codes.
 */
export function TwoFactorCard({ enrolment = false }: { enrolment?: boolean }) {
  const [status, setStatus] = useState<TwoFactorStatus | null>(null);
  const [setup, setSetup] = useState<{ secret: string; otpauth_uri: string } | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const [password, setPassword] = useState('');
  const [notice, setNotice] = useState<string | null>(null);
  const submit = useSubmit();

  const reload = () =>
    getTwoFactor()
      .then(setStatus)
      .catch(() => setStatus(null));
  useEffect(() => {
    void reload();
  }, []);

  if (status === null) return null;

  const act = (action: () => Promise<void>) => {
    setNotice(null);
    void submit.run(async () => {
      try {
        await action();
      } finally {
        setCode('');
      }
    });
  };
  const prevent = (event: TargetedEvent<HTMLFormElement>) => event.preventDefault();

  const onStart = () =>
    act(async () => {
      setCodes(null);
      setSetup(await setupTotp());
    });
  const onEnable = (event: TargetedEvent<HTMLFormElement>) => {
    prevent(event);
    act(async () => {
      setCodes(await enableTotp(code.trim()));
      setSetup(null);
      await reload();
    });
  };
  const onDisable = (event: TargetedEvent<HTMLFormElement>) => {
    prevent(event);
    act(async () => {
      await disableTotp(password, secondFactor(code));
      setPassword('');
      setCodes(null);
      setNotice(t('twoFactor.disabled'));
      await reload();
    });
  };
  const onNewCodes = (event: TargetedEvent<HTMLFormElement>) => {
    prevent(event);
    act(async () => {
      setCodes(await newRecoveryCodes(secondFactor(code)));
      await reload();
    });
  };

  const codeField = (id: string) => <CodeField id={id} label={t('twoFactor.codeLabel')} hint={t('twoFactor.codeHint')} value={code} onValue={setCode} />;

  return (
    <section class="card" aria-labelledby="two-factor-title">
      <h2 id="two-factor-title">{t('twoFactor.title')}</h2>
      {enrolment && <Alert tone="info">{t('twoFactor.enrolmentRequired')}</Alert>}
      <p class="muted">{t('twoFactor.explain')}</p>
      <p>{status.totp_enabled ? t('twoFactor.on', { count: status.recovery_codes_left }) : t('twoFactor.off')}</p>

      {codes !== null && <RecoveryCodes codes={codes} />}
      {codes !== null && enrolment && (
        <button type="button" class="button button-primary" onClick={() => void refreshSession()}>
          {t('twoFactor.continue')}
        </button>
      )}

      {!status.totp_enabled && setup === null && (
        <button type="button" class="button button-primary" disabled={submit.pending} onClick={onStart}>
          {t('twoFactor.start')}
        </button>
      )}
      {!status.totp_enabled && setup !== null && (
        <div class="two-factor-setup">
          <p>{t('twoFactor.scan')}</p>
          <QrCode text={setup.otpauth_uri} label={t('twoFactor.qrLabel')} />
          <p>
            {t('twoFactor.secretLabel')} <code class="two-factor-secret">{setup.secret}</code>
          </p>
          <form onSubmit={onEnable} noValidate>
            {codeField('two-factor-enable-code')}
            <SubmitButton pending={submit.pending} label={t('twoFactor.enable')} pendingLabel={t('twoFactor.working')} />
          </form>
        </div>
      )}

      {status.totp_enabled && (
        <>
          <h3>{t('twoFactor.newCodesTitle')}</h3>
          <form onSubmit={onNewCodes} noValidate>
            {codeField('two-factor-codes-code')}
            <SubmitButton pending={submit.pending} label={t('twoFactor.newCodes')} pendingLabel={t('twoFactor.working')} variant="secondary" />
          </form>
          <h3>{t('twoFactor.disableTitle')}</h3>
          <form onSubmit={onDisable} noValidate>
            <TextField
              id="two-factor-password"
              label={t('twoFactor.passwordLabel')}
              value={password}
              onValue={setPassword}
              type="password"
              autoComplete="current-password"
              error={undefined}
            />
            {codeField('two-factor-disable-code')}
            <SubmitButton pending={submit.pending} label={t('twoFactor.disable')} pendingLabel={t('twoFactor.working')} variant="secondary" />
          </form>
        </>
      )}
      {notice !== null && <Alert tone="success">{notice}</Alert>}
      {submit.error !== null && <Alert tone="error">{submit.error}</Alert>}
    </section>
  );
}

/** The recovery codes, shown once: a list to copy or download. */
function RecoveryCodes({ codes }: { codes: string[] }) {
  const [copied, setCopied] = useState(false);
  const text = codes.join('\n') + '\n';
  const onCopy = () => {
    void navigator.clipboard
      .writeText(text)
      .then(() => setCopied(true))
      .catch(() => setCopied(false));
  };
  const onDownload = () => {
    saveBlob(new Blob([text], { type: 'text/plain' }), 'securechat-recovery-codes.txt');
  };
  return (
    <div class="recovery-codes" role="region" aria-labelledby="recovery-codes-title">
      <h3 id="recovery-codes-title">{t('twoFactor.codesTitle')}</h3>
      <Alert tone="info">{t('twoFactor.codesOnce')}</Alert>
      <ul class="recovery-code-list">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
      <button type="button" class="button button-secondary" onClick={onCopy}>
        {copied ? t('twoFactor.copied') : t('twoFactor.copy')}
      </button>{' '}
      <button type="button" class="button button-secondary" onClick={onDownload}>
        {t('twoFactor.download')}
      </button>
    </div>
  );
}
