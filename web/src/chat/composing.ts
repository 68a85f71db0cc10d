// Rules of the composer and of the message list's bottom edge: which of my
// messages Up in an empty composer edits, and how many messages of others
// arrived below while the reader was scrolled up (the "N new messages" pill).

import type { Message } from '../api/messages.ts';
import { sealedUnderCurrentKey } from './keyversion.ts';
import { t } from '../i18n/index.ts';

/**
 * Whether "Edit" is offered for a message: mine, readable here (`text` is
 * its text, or null when it has none), not a file, and in an encrypted
 * channel sealed under the current key version (`keyVersion`, null in a
 * plaintext channel).
 */
export function mayEdit(message: Message, myId: number, text: string | null, encrypted: boolean, keyVersion: number | null): boolean {
  return (
    message.sender_id === myId &&
    !message.deleted &&
    text !== null &&
    message.file == null &&
    (!encrypted || sealedUnderCurrentKey(message, keyVersion))
  );
}

/** The newest of my messages for which "Edit" is offered (Up in an empty composer edits it), or null. */
export function lastEditable(
  messages: readonly Message[],
  myId: number,
  textOf: (m: Message) => string | null,
  encrypted: boolean,
  keyVersion: number | null,
): Message | null {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const m = messages[i];
    if (m !== undefined && m.sender_id === myId && mayEdit(m, myId, textOf(m), encrypted, keyVersion)) return m;
  }
  return null;
}

/**
 * How many messages of others arrived after `mark` (the newest message id
 * held when the reader scrolled away from the bottom; null while at the
 * bottom), not counting deleted ones.
 */
export function newBelow(messages: readonly Message[], mark: number | null, myId: number): number {
  if (mark === null) return 0;
  let count = 0;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const m = messages[i];
    if (m === undefined || m.id <= mark) break;
    if (!m.deleted && m.sender_id !== myId) count += 1;
  }
  return count;
}

/** The pill's text: "1 new message", "3 new messages". */
export function newBelowLabel(count: number): string {
  return t('channel.newBelow', { count });
}
