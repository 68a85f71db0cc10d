import { useState } from 'preact/hooks';
import { redeemReset } from '../api/admin.ts';
import { Alert } from '../components/Alert.tsx';
import { AuthLayout } from '../components/AuthLayout.tsx';
import { Link } from '../components/Link.tsx';
import { SubmitButton } from '../components/SubmitButton.tsx';
import { TextField } from '../components/TextField.tsx';
import { useForm } from '../components/useForm.ts';
import { LOGIN_PATH } from '../router.ts';
import { PASSWORD_MIN, validatePasswordReset } from '../validation.ts';
import { t } from '../i18n/index.ts';

/** `/reset-password?token=…`: a new password with a one-time link an administrator made. */
export function ResetPasswordPage() {
  const token = new URLSearchParams(location.search).get('token') ?? '';
  const [done, setDone] = useState(false);
  const form = useForm({
    idPrefix: 'reset',
    initial: { newPassword: '', confirmPassword: '' },
    validate: validatePasswordReset,
  });

  async function onSubmit(event: SubmitEvent) {
    await form.submit(event, async ({ newPassword }) => {
      await redeemReset(token, newPassword);
      setDone(true);
    });
  }

  return (
    <AuthLayout
      title={t('auth.reset.title')}
      footer={<Link href={LOGIN_PATH}>{t('auth.register.loginLink')}</Link>}
    >
      {done ? (
        <Alert tone="success">{t('auth.reset.done')}</Alert>
      ) : (
        <>
          {form.error !== null && <Alert tone="error">{form.error}</Alert>}
          <form onSubmit={onSubmit} noValidate>
            <TextField {...form.field('newPassword')} label={t('password.new')} type="password" autoComplete="new-password" hint={t('auth.register.passwordHint', { min: PASSWORD_MIN })} autoFocus />
            <TextField {...form.field('confirmPassword')} label={t('password.confirmNew')} type="password" autoComplete="new-password" />
            <SubmitButton pending={form.pending} label={t('auth.reset.submit')} pendingLabel={t('auth.reset.pending')} />
          </form>
        </>
      )}
    </AuthLayout>
  );
}
