import { useState } from 'preact/hooks';
import type { User } from '../api/auth.ts';
import { AppHeader } from '../components/AppHeader.tsx';
import { ChangePasswordForm } from '../components/ChangePasswordForm.tsx';
import { EncryptionCard } from '../components/EncryptionCard.tsx';
import { Link } from '../components/Link.tsx';
import { enableNotifications } from '../chat/attention.ts';
import { HOME_PATH } from '../router.ts';

/** The account page: notifications, encryption keys and their backup, and password change. */
export function AccountPage({ user }: { user: User }) {
  return (
    <>
      <AppHeader user={user} />
      <main class="home">
        <h1>Account</h1>
        <p>
          <Link href={HOME_PATH}>Back to chat</Link>
        </p>
        <NotificationsCard />
        <EncryptionCard />
        <section class="card" aria-labelledby="account-title">
          <h2 id="account-title">Change password</h2>
          <ChangePasswordForm />
        </section>
      </main>
    </>
  );
}

/** Browser notifications for DMs and mentions while the tab is hidden (the title shows a count either way). */
function NotificationsCard() {
  const supported = typeof Notification !== 'undefined';
  const [permission, setPermission] = useState<NotificationPermission>(supported ? Notification.permission : 'denied');
  return (
    <section class="card" aria-labelledby="notifications-title">
      <h2 id="notifications-title">Notifications</h2>
      {!supported ? (
        <p class="muted">This browser does not offer notifications.</p>
      ) : permission === 'granted' ? (
        <p>Notifications are on for direct messages and mentions while Securechat is in the background.</p>
      ) : permission === 'denied' ? (
        <p class="muted">Notifications are blocked in this browser's site settings.</p>
      ) : (
        <button type="button" class="button button-secondary" onClick={() => void enableNotifications().then(setPermission)}>
          Turn on notifications
        </button>
      )}
    </section>
  );
}
