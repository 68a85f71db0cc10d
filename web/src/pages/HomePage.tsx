import type { User } from '../api/auth.ts';
import { AppHeader } from '../components/AppHeader.tsx';
import { ChangePasswordForm } from '../components/ChangePasswordForm.tsx';

/** The signed-in landing page. Rooms and channels arrive with the chat features. */
export function HomePage({ user }: { user: User }) {
  return (
    <>
      <AppHeader user={user} />
      <main class="home">
        <h1 class="visually-hidden">Home</h1>
        <section class="card" aria-labelledby="rooms-title">
          <h2 id="rooms-title">Rooms</h2>
          <p class="muted">Rooms and channels will be listed here. This version of Securechat does not offer them yet.</p>
        </section>
        <section class="card" aria-labelledby="account-title">
          <h2 id="account-title">Change password</h2>
          <ChangePasswordForm />
        </section>
      </main>
    </>
  );
}
