import { AuthLayout } from '../components/AuthLayout.tsx';
import { Link } from '../components/Link.tsx';
import { HOME_PATH } from '../router.ts';

export function NotFoundPage() {
  return (
    <AuthLayout title="Page not found">
      <p>There is no page at this address.</p>
      <p>
        <Link href={HOME_PATH}>Go to the start page</Link>
      </p>
    </AuthLayout>
  );
}
