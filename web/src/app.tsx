// The root component: waits for the session check, enforces each route's
// access rule, and renders the page for the current path.

import { useEffect } from 'preact/hooks';
import { AuthLayout } from './components/AuthLayout.tsx';
import { start, startOffline, stop } from './chat/store.ts';
import { AccountPage } from './pages/AccountPage.tsx';
import { AdminPage } from './pages/AdminPage.tsx';
import { ChatPage } from './pages/ChatPage.tsx';
import { EnrolmentPage } from './pages/EnrolmentPage.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { NotFoundPage } from './pages/NotFoundPage.tsx';
import { RegisterPage } from './pages/RegisterPage.tsx';
import { ResetPasswordPage } from './pages/ResetPasswordPage.tsx';
import { currentPath, matchRoute, navigate, redirectFor } from './router.ts';
import { loadSession, session } from './state/session.ts';
import { t } from './i18n/index.ts';

export function App() {
  const route = matchRoute(currentPath.value);
  const current = session.value;
  const redirect = redirectFor(route, current.status);

  useEffect(() => {
    if (redirect !== null) navigate(redirect, { replace: true });
  }, [redirect]);

  // The live connection exists exactly while someone is signed in; offline,
  // the chat of the person signed in last opens from what this browser kept.
  // A person held at two-factor enrolment gets no chat (the server would
  // refuse it) until TOTP is on.
  const enrolling = current.status === 'signed-in' && current.enrolmentRequired;
  const userId = current.status === 'signed-in' || current.status === 'offline' ? current.user.id : null;
  useEffect(() => {
    if (current.status === 'signed-in' && !current.enrolmentRequired) start(current.user);
    else if (current.status === 'offline') startOffline(current.user);
    else if (current.status === 'anonymous') stop();
  }, [userId, current.status, enrolling]);

  const pageTitle = t('app.documentTitle', { page: route.title() });
  useEffect(() => {
    document.title = pageTitle;
  }, [pageTitle]);

  if (current.status === 'loading') {
    return (
      <p class="splash" role="status">
        {t('app.loading')}
      </p>
    );
  }
  if (current.status === 'unavailable') {
    return (
      <AuthLayout title={t('app.unavailable')}>
        <p>{current.message}</p>
        <button type="button" class="button button-primary" onClick={() => void loadSession()}>
          {t('app.tryAgain')}
        </button>
      </AuthLayout>
    );
  }
  if (redirect !== null) return null;
  if (enrolling) return <EnrolmentPage user={current.user} />;

  switch (route.name) {
    case 'login':
      return <LoginPage />;
    case 'register':
      return <RegisterPage />;
    case 'home':
    case 'channel':
      return current.status === 'signed-in' || current.status === 'offline' ? <ChatPage user={current.user} channelId={route.channelId ?? null} /> : null;
    case 'account':
      return current.status === 'signed-in' ? <AccountPage user={current.user} /> : null;
    case 'admin':
      // Only site administrators; anyone else sees no such page (the server refuses them anyway).
      if (current.status !== 'signed-in') return null;
      return current.user.is_admin ? <AdminPage user={current.user} /> : <NotFoundPage />;
    case 'reset-password':
      return <ResetPasswordPage />;
    case 'not-found':
      return <NotFoundPage />;
  }
}
