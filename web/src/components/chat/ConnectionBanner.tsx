import { connection, offlineMode, pending } from '../../chat/store.ts';
import { retryNow } from '../../state/session.ts';
import { t } from '../../i18n/index.ts';

/** Says when the live connection is down, and that what is written meanwhile waits. */
export function ConnectionBanner() {
  const state = connection.value;
  const waiting = pending.value.filter((p) => p.status !== 'failed').length;
  if (offlineMode.value) {
    // Opened without the server: the chat is what this browser kept.
    return (
      <div class="connection-banner connection-offline" role="status">
        {t('offline.banner')}
        {waiting > 0 && t('offline.waiting', { count: waiting })}{' '}
        <button type="button" class="link-button" onClick={retryNow}>
          {t('offline.retry')}
        </button>
      </div>
    );
  }
  if (state === 'online') return null;
  return (
    <div class={`connection-banner connection-${state}`} role="status">
      {state === 'connecting' ? t('connection.connecting') : t('connection.offline')}
      {waiting > 0 && t('connection.waiting', { count: waiting })}
    </div>
  );
}
