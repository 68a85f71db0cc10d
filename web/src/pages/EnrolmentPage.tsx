import type { User } from '../api/auth.ts';
import { AuthLayout } from '../components/AuthLayout.tsx';
import { TwoFactorCard } from '../components/TwoFactorCard.tsx';
import { logOut } from '../state/session.ts';
import { t } from '../i18n/index.ts';

/**
 * What a person sees while the site's two-factor policy holds them at
 * enrolment: the TOTP setup and a way out, nothing else (the server refuses
 * everything else until TOTP is on).
 */
export function EnrolmentPage({ user }: { user: User }) {
  return (
    <AuthLayout
      title={t('twoFactor.enrolmentTitle')}
      footer={
        <button type="button" class="button button-secondary" onClick={() => void logOut()}>
          {t('twoFactor.logOut', { name: user.username })}
        </button>
      }
    >
      <TwoFactorCard enrolment />
    </AuthLayout>
  );
}
