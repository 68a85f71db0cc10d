import { AuthLayout } from '../components/AuthLayout.tsx';
import { Link } from '../components/Link.tsx';
import { HOME_PATH } from '../router.ts';
import { t } from '../i18n/index.ts';

export function NotFoundPage() {
  return (
    <AuthLayout title={t('routes.notFound')}>
      <p>{t('notFound.text')}</p>
      <p>
        <Link href={HOME_PATH}>{t('notFound.home')}</Link>
      </p>
    </AuthLayout>
  );
}
