import { useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { ApiError } from '../api/errors.ts';
import { passkeySecondFactor, passkeysSupported } from '../api/passkeys.ts';
import { secondFactor } from '../api/twofactor.ts';
import { Alert } from '../components/Alert.tsx';
import { AuthLayout } from '../components/AuthLayout.tsx';
import { CodeField } from '../components/CodeField.tsx';
import { Link } from '../components/Link.tsx';
import { passkeyFailure } from '../components/PasskeysCard.tsx';
import { SubmitButton } from '../components/SubmitButton.tsx';
import { TextField } from '../components/TextField.tsx';
import { useForm } from '../components/useForm.ts';
import { useSubmit } from '../components/useSubmit.ts';
import { REGISTER_PATH } from '../router.ts';
import { logIn, logInWithPasskey, notice } from '../state/session.ts';
import { normalizeUsername, validateLogin } from '../validation.ts';
import { t } from '../i18n/index.ts';

/** The username and password already accepted, while the second factor is asked for. */
interface FirstStep {
  username: string;
  password: string;
}

export function LoginPage() {
  const form = useForm({ idPrefix: 'login', initial: { username: '', password: '' }, validate: validateLogin });
  const [firstStep, setFirstStep] = useState<FirstStep | null>(null);
  const passkey = useSubmit();
  const currentNotice = notice.value;

  const onPasskey = () => {
    notice.value = null;
    void passkey.run(async () => {
      try {
        await logInWithPasskey();
      } catch (err) {
        throw passkeyFailure(err);
      }
    });
  };

  async function onSubmit(event: SubmitEvent) {
    let needsFactor: FirstStep | null = null;
    const outcome = await form.submit(event, async ({ username, password }) => {
      notice.value = null;
      const credentials = { username: normalizeUsername(username), password };
      try {
        await logIn(credentials);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'second_factor_required') {
          needsFactor = credentials;
          return;
        }
        throw err;
      }
    });
    if (needsFactor !== null) {
      setFirstStep(needsFactor);
    } else if (outcome === 'failed') {
      // Make retyping the password the obvious next step.
      form.update({ password: '' });
      form.focus('password');
    }
  }

  if (firstStep !== null) {
    return (
      <SecondFactorStep
        firstStep={firstStep}
        onBack={() => {
          setFirstStep(null);
          form.update({ password: '' });
        }}
      />
    );
  }

  return (
    <AuthLayout
      title={t('auth.login.title')}
      footer={
        <>
          {t('auth.login.newHere')} <Link href={REGISTER_PATH}>{t('auth.login.createLink')}</Link>
        </>
      }
    >
      {currentNotice !== null && <Alert tone={currentNotice.tone}>{t(currentNotice.text)}</Alert>}
      {form.error !== null && <Alert tone="error">{form.error}</Alert>}
      <form onSubmit={onSubmit} noValidate>
        <TextField {...form.field('username')} label={t('auth.username')} autoComplete="username" autoFocus />
        <TextField {...form.field('password')} label={t('auth.password')} type="password" autoComplete="current-password" />
        <SubmitButton pending={form.pending} label={t('auth.login.submit')} pendingLabel={t('auth.login.pending')} />
      </form>
      {passkeysSupported() && (
        <div class="passkey-sign-in">
          <p class="muted">{t('passkeys.login.or')}</p>
          {passkey.error !== null && <Alert tone="error">{passkey.error}</Alert>}
          <button type="button" class="button button-secondary" disabled={passkey.pending} aria-busy={passkey.pending} onClick={onPasskey}>
            {passkey.pending ? t('passkeys.working') : t('passkeys.login.signIn')}
          </button>
        </div>
      )}
    </AuthLayout>
  );
}

/** The second step of signing in: a code from the authenticator app, a recovery code, or a passkey. */
function SecondFactorStep({ firstStep, onBack }: { firstStep: FirstStep; onBack: () => void }) {
  const [code, setCode] = useState('');
  const submit = useSubmit();

  const onPasskey = () => {
    void submit.run(async () => {
      try {
        await logIn({ ...firstStep, ...(await passkeySecondFactor(firstStep.username, firstStep.password)) });
      } catch (err) {
        throw passkeyFailure(err);
      }
    });
  };

  const onSubmit = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    void submit.run(async () => {
      try {
        await logIn({ ...firstStep, ...secondFactor(code) });
      } catch (err) {
        setCode('');
        throw err;
      }
    });
  };

  return (
    <AuthLayout title={t('twoFactor.login.title')}>
      <p>{t('twoFactor.login.explain')}</p>
      {submit.error !== null && <Alert tone="error">{submit.error}</Alert>}
      <form onSubmit={onSubmit} noValidate>
        <CodeField id="login-code" label={t('twoFactor.login.codeLabel')} hint={t('twoFactor.login.codeHint')} value={code} onValue={setCode} autoFocus />
        <SubmitButton pending={submit.pending} label={t('twoFactor.login.submit')} pendingLabel={t('auth.login.pending')} />
      </form>
      {passkeysSupported() && (
        <p>
          <button type="button" class="button button-secondary" disabled={submit.pending} onClick={onPasskey}>
            {t('passkeys.login.useForSecondFactor')}
          </button>
        </p>
      )}
      <p>
        <button type="button" class="button button-secondary" onClick={onBack}>
          {t('twoFactor.login.back')}
        </button>
      </p>
    </AuthLayout>
  );
}
