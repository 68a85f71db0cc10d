import type { User } from '../api/auth.ts';
import { discardOutbox, pending, restoreOutbox, start, startOffline, stop } from '../chat/store.ts';
import { OfflineCache } from '../offline/cache.ts';
import { confirmAction } from './ConfirmDialog.tsx';
import { ACCOUNT_PATH, ADMIN_PATH } from '../router.ts';
import { logOut, session } from '../state/session.ts';
import { disablePush } from '../push/client.ts';
import { wipeLocalIndex } from '../search/local.ts';
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

/**
 * Closes the live connection first: the server drops it the moment the
 * session ends, and the chat must not take that for an expired session.
 */
async function logOutAndDisconnect(user: User): Promise<void> {
  // Unsent messages go with the session: only once the person agrees.
  const unsent = pending.value.length;
  if (unsent > 0 && !(await confirmAction({ title: t('offline.signOutTitle'), message: t('offline.signOutMessage', { count: unsent }), action: t('offline.signOutAction') }))) return;
  // Emptied while the keys are open (the encrypted part is sealed in their state); put back if logging out fails.
  const held = discardOutbox();
  stop();
  // Pushes for this account stop reaching this browser (the server keeps a
  // subscription until it is deleted, and only the session can delete it).
  await disablePush().catch(() => undefined);
  try {
    await logOut();
  } catch (err) {
    if (session.value.status === 'offline') startOffline(user);
    else start(user);
    restoreOutbox(held);
    throw err;
  }
  // What this browser decrypted and indexed for search, and what it kept to open offline, go with the session.
  await wipeLocalIndex(user.id).catch(() => undefined);
  await OfflineCache.remove(user.id).catch(() => undefined);
}
