import type { User } from '../api/auth.ts';
import { AppHeader } from '../components/AppHeader.tsx';
import { ChangePasswordForm } from '../components/ChangePasswordForm.tsx';
import { DeleteAccountCard } from '../components/DeleteAccountCard.tsx';
import { DevicesCard } from '../components/DevicesCard.tsx';
import { EmailCard } from '../components/EmailCard.tsx';
import { EncryptionCard } from '../components/EncryptionCard.tsx';
import { ExportCard } from '../components/ExportCard.tsx';
import { LanguageCard } from '../components/LanguageCard.tsx';
import { Link } from '../components/Link.tsx';
import { PasskeysCard } from '../components/PasskeysCard.tsx';
import { ProfileCard } from '../components/ProfileCard.tsx';
import { PushCard } from '../components/PushCard.tsx';
import { TwoFactorCard } from '../components/TwoFactorCard.tsx';
import { HOME_PATH } from '../router.ts';
import { t } from '../i18n/index.ts';

/** The account page: the profile, the language, notifications, encryption keys and their backup, devices, password change, two-factor sign-in, passkeys, the data export and deleting the account. */
export function AccountPage({ user }: { user: User }) {
  return (
    <>
      <AppHeader user={user} />
      <main class="home">
        <h1>{t('account.title')}</h1>
        <p>
          <Link href={HOME_PATH}>{t('account.back')}</Link>
        </p>
        <ProfileCard user={user} />
        <LanguageCard />
        <PushCard />
        <EmailCard />
        <EncryptionCard />
        <DevicesCard linkCode={new URLSearchParams(location.search).get('link')} />
        <section class="card" aria-labelledby="account-title">
          <h2 id="account-title">{t('account.passwordTitle')}</h2>
          <ChangePasswordForm />
        </section>
        <TwoFactorCard />
        <PasskeysCard />
        <ExportCard username={user.username} />
        <DeleteAccountCard user={user} />
      </main>
    </>
  );
}
