import type { User } from '../api/auth.ts';
import { AppHeader } from '../components/AppHeader.tsx';
import { ChangePasswordForm } from '../components/ChangePasswordForm.tsx';
import { Link } from '../components/Link.tsx';
import { HOME_PATH } from '../router.ts';

/** The account page: password change. */
export function AccountPage({ user }: { user: User }) {
  return (
    <>
      <AppHeader user={user} />
      <main class="home">
        <h1>Account</h1>
        <p>
          <Link href={HOME_PATH}>Back to chat</Link>
        </p>
        <section class="card" aria-labelledby="account-title">
          <h2 id="account-title">Change password</h2>
          <ChangePasswordForm />
        </section>
      </main>
    </>
  );
}
