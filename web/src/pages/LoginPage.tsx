import { Alert } from '../components/Alert.tsx';
import { AuthLayout } from '../components/AuthLayout.tsx';
import { Link } from '../components/Link.tsx';
import { SubmitButton } from '../components/SubmitButton.tsx';
import { TextField } from '../components/TextField.tsx';
import { useForm } from '../components/useForm.ts';
import { REGISTER_PATH } from '../router.ts';
import { logIn, notice } from '../state/session.ts';
import { normalizeUsername, validateLogin } from '../validation.ts';
import { t } from '../i18n/index.ts';

export function LoginPage() {
  const form = useForm({ idPrefix: 'login', initial: { username: '', password: '' }, validate: validateLogin });
  const currentNotice = notice.value;

  async function onSubmit(event: SubmitEvent) {
    const outcome = await form.submit(event, async ({ username, password }) => {
      notice.value = null;
      await logIn({ username: normalizeUsername(username), password });
    });
    if (outcome === 'failed') {
      // Make retyping the password the obvious next step.
      form.update({ password: '' });
      form.focus('password');
    }
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
    </AuthLayout>
  );
}
