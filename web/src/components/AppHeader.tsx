import type { User } from '../api/auth.ts';
import { pending } from '../chat/store.ts';
import { confirmAction } from './ConfirmDialog.tsx';
import { ACCOUNT_PATH, ADMIN_PATH } from '../router.ts';
import { logOut } from '../state/session.ts';
import { leaveSession } from '../state/signout.ts';
import { Link } from './Link.tsx';
import { RovingToolbar } from './RovingToolbar.tsx';
import { Alert } from './Alert.tsx';
import { useSubmit } from './useSubmit.ts';
import { setTheme, theme, type Theme } from '../theme.ts';
import { t } from '../i18n/index.ts';
import { withParts } from '../i18n/rich.tsx';
import { PersonName } from './chat/PersonName.tsx';

/** The bar at the top of every signed-in page: who is signed in, and the way out. */
export function AppHeader({ user }: { user: User }) {
  const submission = useSubmit();

  return (
    <header class="topbar">
      <div class="topbar-inner">
        <p class="brand">Securechat</p>
        <div class="topbar-user">
          <p class="signed-in-as">
            {withParts(t('header.signedInAs', { skipInterpolation: true }), {
              name: (
                <strong>
                  <PersonName userId={user.id} username={user.username} />
                </strong>
              ),
            })}
            {user.is_admin && <span class="badge">{t('header.admin')}</span>}
          </p>
          <label class="theme-choice">
            <span class="muted">{t('header.theme')}</span>
            <select value={theme.value} onChange={(e) => setTheme(e.currentTarget.value as Theme)}>
              <option value="system">{t('header.themeSystem')}</option>
              <option value="light">{t('header.themeLight')}</option>
              <option value="dark">{t('header.themeDark')}</option>
            </select>
          </label>
          {/* One tab stop for both (a toolbar): the composer stays a few Tab presses from the top. */}
          <RovingToolbar label={t('header.account')}>
            {user.is_admin && (
              <Link href={ADMIN_PATH} class="button button-secondary">
                {t('header.adminConsole')}
              </Link>
            )}
            <Link href={ACCOUNT_PATH} class="button button-secondary">
              {t('header.account')}
            </Link>
            <button type="button" class="button button-secondary" disabled={submission.pending} aria-busy={submission.pending} onClick={() => void submission.run(() => logOutAndDisconnect(user))}>
              {submission.pending ? t('header.loggingOut') : t('header.logOut')}
            </button>
          </RovingToolbar>
        </div>
      </div>
      {submission.error !== null && (
        <div class="topbar-inner">
          <Alert tone="error">{t('header.logOutFailed', { error: submission.error })}</Alert>
        </div>
      )}
    </header>
  );
}

/** Signs out, once the person agrees to lose what is still unsent. */
async function logOutAndDisconnect(user: User): Promise<void> {
  const unsent = pending.value.length;
  if (unsent > 0 && !(await confirmAction({ title: t('offline.signOutTitle'), message: t('offline.signOutMessage', { count: unsent }), action: t('offline.signOutAction') }))) return;
  await leaveSession(user, logOut, false);
}
