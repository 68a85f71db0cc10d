import { connection, pending } from '../../chat/store.ts';

/** Says when the live connection is down, and that what is written meanwhile waits. */
export function ConnectionBanner() {
  const state = connection.value;
  if (state === 'online') return null;
  const waiting = pending.value.filter((p) => p.status !== 'failed').length;
  return (
    <div class={`connection-banner connection-${state}`} role="status">
      {state === 'connecting' ? 'Connecting…' : 'You are offline. Reconnecting…'}
      {waiting > 0 && ` ${waiting} message${waiting === 1 ? '' : 's'} will be sent when the connection is back.`}
    </div>
  );
}
