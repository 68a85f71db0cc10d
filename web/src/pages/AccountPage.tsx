import { useState } from 'preact/hooks';
import type { User } from '../api/auth.ts';
import { AppHeader } from '../components/AppHeader.tsx';
import { ChangePasswordForm } from '../components/ChangePasswordForm.tsx';
import { DevicesCard } from '../components/DevicesCard.tsx';
import { EncryptionCard } from '../components/EncryptionCard.tsx';
import { LanguageCard } from '../components/LanguageCard.tsx';
import { Link } from '../components/Link.tsx';
import { enableNotifications } from '../chat/attention.ts';
import { HOME_PATH } from '../router.ts';
import { t } from '../i18n/index.ts';

/** The account page: notifications, encryption keys and their backup, devices, and password change. */
export function AccountPage({ user }: { user: User }) {
  return (
    <>
      <AppHeader user={user} />
      <main class="home">
        <h1>{t('account.title')}</h1>
        <p>
          <Link href={HOME_PATH}>{t('account.back')}</Link>
        </p>
        <LanguageCard />
        <NotificationsCard />
        <EncryptionCard />
        <DevicesCard linkCode={new URLSearchParams(location.search).get('link')} />
        <section class="card" aria-labelledby="account-title">
          <h2 id="account-title">{t('account.passwordTitle')}</h2>
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
      <h2 id="notifications-title">{t('notifications.title')}</h2>
      {!supported ? (
        <p class="muted">{t('notifications.unsupported')}</p>
      ) : permission === 'granted' ? (
        <p>{t('notifications.on')}</p>
      ) : permission === 'denied' ? (
        <p class="muted">{t('notifications.blocked')}</p>
      ) : (
        <button type="button" class="button button-secondary" onClick={() => void enableNotifications().then(setPermission)}>
          {t('notifications.turnOn')}
        </button>
      )}
    </section>
  );
}
