import type { User } from '../api/auth.ts';
import { start, stop } from '../chat/store.ts';
import { ACCOUNT_PATH } from '../router.ts';
import { logOut } from '../state/session.ts';
import { Link } from './Link.tsx';
import { Alert } from './Alert.tsx';
import { useSubmit } from './useSubmit.ts';

/** The bar at the top of every signed-in page: who is signed in, and the way out. */
export function AppHeader({ user }: { user: User }) {
  const submission = useSubmit();

  return (
    <header class="topbar">
      <div class="topbar-inner">
        <p class="brand">Securechat</p>
        <div class="topbar-user">
          <p class="signed-in-as">
            Signed in as <strong>{user.username}</strong>
            {user.is_admin && <span class="badge">Admin</span>}
          </p>
          <Link href={ACCOUNT_PATH} class="button button-secondary">
            Account
          </Link>
          <button type="button" class="button button-secondary" disabled={submission.pending} aria-busy={submission.pending} onClick={() => void submission.run(() => logOutAndDisconnect(user))}>
            {submission.pending ? 'Logging out…' : 'Log out'}
          </button>
        </div>
      </div>
      {submission.error !== null && (
        <div class="topbar-inner">
          <Alert tone="error">Could not log out: {submission.error}</Alert>
        </div>
      )}
    </header>
  );
}

/**
 * Closes the live connection first: the server drops it the moment the
 * session ends, and the chat must not take that for an expired session.
 */
async function logOutAndDisconnect(user: User): Promise<void> {
  stop();
  try {
    await logOut();
  } catch (err) {
    start(user);
    throw err;
  }
}
