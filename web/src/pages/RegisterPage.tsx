import { Alert } from '../components/Alert.tsx';
import { AuthLayout } from '../components/AuthLayout.tsx';
import { Link } from '../components/Link.tsx';
import { SubmitButton } from '../components/SubmitButton.tsx';
import { TextField } from '../components/TextField.tsx';
import { useForm } from '../components/useForm.ts';
import { LOGIN_PATH, navigate } from '../router.ts';
import { registerAndLogIn } from '../state/session.ts';
import { PASSWORD_MIN, USERNAME_MAX, USERNAME_MIN, normalizeUsername, validateRegistration } from '../validation.ts';
import { useEffect, useState } from 'preact/hooks';
import { registrationMode, type RegistrationMode } from '../api/admin.ts';
import { t } from '../i18n/index.ts';

/** The invitation token of `/register?invite=TOKEN`, if any. */
function inviteToken(): string | null {
  const token = new URLSearchParams(location.search).get('invite');
  return token === null || token.trim() === '' ? null : token.trim();
}

export function RegisterPage() {
  const invite = inviteToken();
  const [mode, setMode] = useState<RegistrationMode | null>(null);
  useEffect(() => {
    // Only to say so up front: the server decides at registration.
    registrationMode().then(setMode, () => setMode(null));
  }, []);
  const form = useForm({
    idPrefix: 'register',
    initial: { username: '', password: '', confirmPassword: '' },
    validate: validateRegistration,
  });

  async function onSubmit(event: SubmitEvent) {
    await form.submit(event, async ({ username, password }) => {
      const outcome = await registerAndLogIn({ username: normalizeUsername(username), password }, invite);
      // When signed in, routing moves on to the home page by itself.
      if (outcome === 'needs-login') navigate(LOGIN_PATH);
    });
  }

  return (
    <AuthLayout
      title={t('auth.register.title')}
      footer={
        <>
          {t('auth.register.haveAccount')} <Link href={LOGIN_PATH}>{t('auth.register.loginLink')}</Link>
        </>
      }
    >
      {mode === 'closed' && <Alert tone="info">{t('auth.register.closed')}</Alert>}
      {mode === 'invite_only' && invite === null && <Alert tone="info">{t('auth.register.inviteOnly')}</Alert>}
      {invite !== null && mode !== 'closed' && <Alert tone="info">{t('auth.register.invited')}</Alert>}
      {form.error !== null && <Alert tone="error">{form.error}</Alert>}
      <form onSubmit={onSubmit} noValidate>
        <TextField
          {...form.field('username')}
          label={t('auth.username')}
          autoComplete="username"
          hint={t('auth.register.usernameHint', { min: USERNAME_MIN, max: USERNAME_MAX })}
          autoFocus
        />
        <TextField {...form.field('password')} label={t('auth.password')} type="password" autoComplete="new-password" hint={t('auth.register.passwordHint', { min: PASSWORD_MIN })} />
        <TextField {...form.field('confirmPassword')} label={t('auth.register.confirm')} type="password" autoComplete="new-password" />
        <SubmitButton pending={form.pending} label={t('auth.register.submit')} pendingLabel={t('auth.register.pending')} />
      </form>
    </AuthLayout>
  );
}
