// Reminders that fell due (`reminder_due`), shown until dismissed.

import { signal } from '@preact/signals';
import type { ReminderDue } from '../api/reminders.ts';

/** Due reminders not dismissed yet, oldest first. */
export const dueReminders = signal<readonly ReminderDue[]>([]);

/** A reminder fell due (each is shown once, whichever socket brought it). */
export function reminderDue(r: ReminderDue): void {
  if (dueReminders.value.some((d) => d.id === r.id)) return;
  dueReminders.value = [...dueReminders.value, r];
}

export function dismissReminder(id: number): void {
  dueReminders.value = dueReminders.value.filter((d) => d.id !== id);
}

/** Signing out: nothing shown stays for the next person. */
export function resetReminders(): void {
  dueReminders.value = [];
}
