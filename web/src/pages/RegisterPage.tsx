import { Alert } from '../components/Alert.tsx';
import { AuthLayout } from '../components/AuthLayout.tsx';
import { Link } from '../components/Link.tsx';
import { SubmitButton } from '../components/SubmitButton.tsx';
import { TextField } from '../components/TextField.tsx';
import { useForm } from '../components/useForm.ts';
import { LOGIN_PATH, navigate } from '../router.ts';
import { registerAndLogIn } from '../state/session.ts';
import { PASSWORD_MIN, USERNAME_MAX, USERNAME_MIN, normalizeUsername, validateRegistration } from '../validation.ts';

export function RegisterPage() {
  const form = useForm({
    idPrefix: 'register',
    initial: { username: '', password: '', confirmPassword: '' },
    validate: validateRegistration,
  });

  async function onSubmit(event: SubmitEvent) {
    await form.submit(event, async ({ username, password }) => {
      const outcome = await registerAndLogIn({ username: normalizeUsername(username), password });
      // When signed in, routing moves on to the home page by itself.
      if (outcome === 'needs-login') navigate(LOGIN_PATH);
    });
  }

  return (
    <AuthLayout
      title="Create an account"
      footer={
        <>
          Already have an account? <Link href={LOGIN_PATH}>Log in</Link>
        </>
      }
    >
      {form.error !== null && <Alert tone="error">{form.error}</Alert>}
      <form onSubmit={onSubmit} noValidate>
        <TextField
          {...form.field('username')}
          label="Username"
          autoComplete="username"
          hint={`${USERNAME_MIN} to ${USERNAME_MAX} characters: letters, digits, _ . -`}
          autoFocus
        />
        <TextField {...form.field('password')} label="Password" type="password" autoComplete="new-password" hint={`At least ${PASSWORD_MIN} characters and hard to guess: a few unrelated words work well.`} />
        <TextField {...form.field('confirmPassword')} label="Confirm password" type="password" autoComplete="new-password" />
        <SubmitButton pending={form.pending} label="Create account" pendingLabel="Creating account…" />
      </form>
    </AuthLayout>
  );
}
