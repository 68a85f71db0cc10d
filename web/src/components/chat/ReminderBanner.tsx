import { channelById } from '../../chat/store.ts';
import { dismissReminder, dueReminders } from '../../chat/reminders.ts';
import { t } from '../../i18n/index.ts';
import { channelPath, navigate } from '../../router.ts';
import { Alert } from '../Alert.tsx';

/** Reminders that fell due: the note (or the channel, in an encrypted one), a way there, and dismiss. */
export function ReminderBanner() {
  const due = dueReminders.value;
  if (due.length === 0) return null;
  return (
    <div class="notice-bar">
      {due.map((r) => {
        const channel = channelById(r.channel_id)?.name ?? '';
        return (
          <Alert key={r.id} tone="info">
            {r.note !== null ? t('reminders.due', { note: r.note, channel }) : t('reminders.dueNoNote', { channel })}{' '}
            <button
              type="button"
              class="link-button"
              onClick={() => {
                dismissReminder(r.id);
                navigate(channelPath(r.channel_id));
              }}
            >
              {t('reminders.open', { channel })}
            </button>{' '}
            <button type="button" class="link-button" onClick={() => dismissReminder(r.id)}>
              {t('chat.dismiss')}
            </button>
          </Alert>
        );
      })}
    </div>
  );
}
