import { useState } from 'preact/hooks';
import { changePassword } from '../state/session.ts';
import { PASSWORD_MIN, validatePasswordChange } from '../validation.ts';
import { Alert } from './Alert.tsx';
import { SubmitButton } from './SubmitButton.tsx';
import { TextField } from './TextField.tsx';
import { useForm } from './useForm.ts';
import { t } from '../i18n/index.ts';

const EMPTY = { currentPassword: '', newPassword: '', confirmPassword: '' };

export function ChangePasswordForm() {
  const form = useForm({ idPrefix: 'password', initial: EMPTY, validate: validatePasswordChange });
  const [changed, setChanged] = useState(false);

  async function onSubmit(event: SubmitEvent) {
    setChanged(false);
    const outcome = await form.submit(event, ({ currentPassword, newPassword }) => changePassword(currentPassword, newPassword));
    if (outcome === 'succeeded') {
      form.update(EMPTY);
      setChanged(true);
    }
  }

  return (
    <form onSubmit={onSubmit} noValidate>
      {changed && <Alert tone="success">{t('password.changed')}</Alert>}
      {form.error !== null && <Alert tone="error">{form.error}</Alert>}
      <TextField {...form.field('currentPassword')} label={t('password.current')} type="password" autoComplete="current-password" />
      <TextField {...form.field('newPassword')} label={t('password.new')} type="password" autoComplete="new-password" hint={t('auth.register.passwordHint', { min: PASSWORD_MIN })} />
      <TextField {...form.field('confirmPassword')} label={t('password.confirmNew')} type="password" autoComplete="new-password" />
      <SubmitButton pending={form.pending} label={t('password.submit')} pendingLabel={t('password.pending')} variant="secondary" />
    </form>
  );
}
