// Reminders (`/api/reminders`): one's own, delivered as `reminder_due`.

import { apiRequest } from './http.ts';

export interface Reminder {
  id: number;
  channel_id: number;
  /** Null in an encrypted channel: the server keeps no note there. */
  note: string | null;
  /** ms since the epoch. */
  due_at: number;
  created_at: number;
}

/** The `reminder_due` event. */
export interface ReminderDue {
  id: number;
  channel_id: number;
  note: string | null;
  due_at: number;
}

export async function createReminder(channelId: number, dueAt: number, note: string | null): Promise<Reminder> {
  const body = { channel_id: channelId, due_at: dueAt, ...(note === null ? {} : { note }) };
  return (await apiRequest<{ reminder: Reminder }>('POST', '/api/reminders', body)).reminder;
}
