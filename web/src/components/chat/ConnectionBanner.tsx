import { connection, pending } from '../../chat/store.ts';
import { t } from '../../i18n/index.ts';

/** Says when the live connection is down, and that what is written meanwhile waits. */
export function ConnectionBanner() {
  const state = connection.value;
  if (state === 'online') return null;
  const waiting = pending.value.filter((p) => p.status !== 'failed').length;
  return (
    <div class={`connection-banner connection-${state}`} role="status">
      {state === 'connecting' ? t('connection.connecting') : t('connection.offline')}
      {waiting > 0 && t('connection.waiting', { count: waiting })}
    </div>
  );
}
