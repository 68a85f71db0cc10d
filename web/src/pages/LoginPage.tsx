import { Alert } from '../components/Alert.tsx';
import { AuthLayout } from '../components/AuthLayout.tsx';
import { Link } from '../components/Link.tsx';
import { SubmitButton } from '../components/SubmitButton.tsx';
import { TextField } from '../components/TextField.tsx';
import { useForm } from '../components/useForm.ts';
import { REGISTER_PATH } from '../router.ts';
import { logIn, notice } from '../state/session.ts';
import { normalizeUsername, validateLogin } from '../validation.ts';

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
      title="Log in"
      footer={
        <>
          New here? <Link href={REGISTER_PATH}>Create an account</Link>
        </>
      }
    >
      {currentNotice !== null && <Alert tone={currentNotice.tone}>{currentNotice.text}</Alert>}
      {form.error !== null && <Alert tone="error">{form.error}</Alert>}
      <form onSubmit={onSubmit} noValidate>
        <TextField {...form.field('username')} label="Username" autoComplete="username" autoFocus />
        <TextField {...form.field('password')} label="Password" type="password" autoComplete="current-password" />
        <SubmitButton pending={form.pending} label="Log in" pendingLabel="Logging in…" />
      </form>
    </AuthLayout>
  );
}
