import { useEffect, useState } from 'preact/hooks';
import type { TargetedEvent } from 'preact';
import { SSO_LOGIN_URL, authOptions } from '../api/auth.ts';
import { ApiError } from '../api/errors.ts';
import { secondFactor } from '../api/twofactor.ts';
import type { SecondFactor } from '../api/twofactor.ts';
import { Alert } from '../components/Alert.tsx';
import { AuthLayout } from '../components/AuthLayout.tsx';
import { CodeField } from '../components/CodeField.tsx';
import { Link } from '../components/Link.tsx';
import { SubmitButton } from '../components/SubmitButton.tsx';
import { TextField } from '../components/TextField.tsx';
import { useForm } from '../components/useForm.ts';
import { useSubmit } from '../components/useSubmit.ts';
import { REGISTER_PATH } from '../router.ts';
import { finishSsoSignIn, logIn, logInWithPasskey, notice } from '../state/session.ts';
import { normalizeUsername, validateLogin } from '../validation.ts';
import { t } from '../i18n/index.ts';
import { passkeySecondFactor, passkeysSupported } from '../api/passkeys.ts';
import { passkeyFailure } from '../components/PasskeysCard.tsx';

/** The `sso_error` codes the server's single sign-on callback redirects here with. */
const SSO_ERRORS = [
  'sso_disabled',
  'sso_unavailable',
  'sso_cancelled',
  'sso_invalid_state',
  'sso_refused',
  'sso_domain_not_allowed',
  'sso_email_unverified',
  'sso_account_disabled',
  'sso_throttled',
  'sso_no_username',
  'sso_failed',
] as const;
type SsoError = (typeof SSO_ERRORS)[number];

/** What the single sign-on callback said in this page's URL (`sso_error`, or `sso=second_factor`). */
interface SsoReturn {
  error: SsoError | null;
  secondFactor: boolean;
}

function readSsoReturn(): SsoReturn {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('sso_error');
  const error = code === null ? null : ((SSO_ERRORS as readonly string[]).includes(code) ? (code as SsoError) : 'sso_failed');
  const secondFactor = params.get('sso') === 'second_factor';
  if (code !== null || secondFactor) {
    // Said once: a reload or a later visit does not repeat it.
    window.history.replaceState(window.history.state, '', window.location.pathname);
  }
  return { error, secondFactor };
}

/** The single sign-on button's label, once the server says sign-on is on. */
function useSsoLabel(): string | null {
  const [label, setLabel] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    authOptions()
      .then((options) => {
        if (live && options.sso_enabled) setLabel(options.sso_label ?? 'SSO');
      })
      .catch(() => {
        // No button: password sign-in still works.
      });
    return () => {
      live = false;
    };
  }, []);
  return label;
}

/** The username and password already accepted, while the second factor is asked for. */
interface FirstStep {
  username: string;
  password: string;
}

export function LoginPage() {
  const form = useForm({ idPrefix: 'login', initial: { username: '', password: '' }, validate: validateLogin });
  const [firstStep, setFirstStep] = useState<FirstStep | null>(null);
  const [sso, setSso] = useState<SsoReturn>(readSsoReturn);
  const ssoLabel = useSsoLabel();
  const passkey = useSubmit();
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
  const currentNotice = notice.value;

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

  if (sso.secondFactor) {
    return <SecondFactorStep submitFactor={finishSsoSignIn} onBack={() => setSso({ error: null, secondFactor: false })} />;
  }

  if (firstStep !== null) {
    return (
      <SecondFactorStep
        submitFactor={(factor) => logIn({ ...firstStep, ...factor })}
        passkeyFor={firstStep}
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
      {sso.error !== null && <Alert tone="error">{t(`auth.sso.errors.${sso.error}`)}</Alert>}
      {form.error !== null && <Alert tone="error">{form.error}</Alert>}
      <form onSubmit={onSubmit} noValidate>
        <TextField {...form.field('username')} label={t('auth.username')} autoComplete="username" autoFocus />
        <TextField {...form.field('password')} label={t('auth.password')} type="password" autoComplete="current-password" />
        <SubmitButton pending={form.pending} label={t('auth.login.submit')} pendingLabel={t('auth.login.pending')} />
      </form>
      {ssoLabel !== null && (
        <>
          <p class="auth-or">{t('auth.sso.or')}</p>
          {/* A full navigation: the server sends the browser on to the provider. */}
          <a class="button button-secondary button-block" href={SSO_LOGIN_URL}>
            {t('auth.sso.button', { label: ssoLabel })}
          </a>
        </>
      )}
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

/**
 * The second step of signing in: a code from the authenticator app, or a
 * recovery code, after a password or a single sign-on; after a password,
 * a passkey too.
 */
function SecondFactorStep({
  submitFactor,
  passkeyFor = null,
  onBack,
}: {
  submitFactor: (factor: SecondFactor) => Promise<void>;
  /** The password step this one follows, which a passkey can answer instead of a code (none after a single sign-on). */
  passkeyFor?: FirstStep | null;
  onBack: () => void;
}) {
  const [code, setCode] = useState('');
  const submit = useSubmit();

  const onPasskey = (first: FirstStep) => {
    void submit.run(async () => {
      try {
        await logIn({ ...first, ...(await passkeySecondFactor(first.username, first.password)) });
      } catch (err) {
        throw passkeyFailure(err);
      }
    });
  };

  const onSubmit = (event: TargetedEvent<HTMLFormElement>) => {
    event.preventDefault();
    void submit.run(async () => {
      try {
        await submitFactor(secondFactor(code));
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
      {passkeyFor !== null && passkeysSupported() && (
        <p>
          <button type="button" class="button button-secondary" disabled={submit.pending} onClick={() => onPasskey(passkeyFor)}>
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
