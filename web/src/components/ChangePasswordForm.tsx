import { useState } from 'preact/hooks';
import { changePassword } from '../state/session.ts';
import { PASSWORD_MIN, validatePasswordChange } from '../validation.ts';
import { Alert } from './Alert.tsx';
import { SubmitButton } from './SubmitButton.tsx';
import { TextField } from './TextField.tsx';
import { useForm } from './useForm.ts';

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
      {changed && <Alert tone="success">Your password was changed. Your other sessions have been logged out.</Alert>}
      {form.error !== null && <Alert tone="error">{form.error}</Alert>}
      <TextField {...form.field('currentPassword')} label="Current password" type="password" autoComplete="current-password" />
      <TextField {...form.field('newPassword')} label="New password" type="password" autoComplete="new-password" hint={`At least ${PASSWORD_MIN} characters and hard to guess: a few unrelated words work well.`} />
      <TextField {...form.field('confirmPassword')} label="Confirm new password" type="password" autoComplete="new-password" />
      <SubmitButton pending={form.pending} label="Change password" pendingLabel="Changing password…" variant="secondary" />
    </form>
  );
}
