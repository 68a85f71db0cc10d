// What the local index keeps of a decrypted message: its text, or for a file
// its caption and name — never the file note itself, which holds the file's
// key. Resource notes are not searched.

import type { Message } from '../api/messages.ts';
import { parseFileNote } from '../files/attachment.ts';
import type { Readable } from './hooks.ts';
import type { IndexedMessage } from './index.ts';

/** The index's record of `m` as the engine read it; null when there is nothing to search in it. */
export function toIndexed(m: Message, read: Readable | undefined): IndexedMessage | null {
  if (read === undefined || read.kind !== 'text' || read.text === undefined || m.deleted) return null;
  let text = read.text;
  if (read.what === 'resource') return null;
  if (m.file != null) {
    const note = parseFileNote(text, m.file.id);
    if (note === null) {
      if (read.what === 'file') return null;
    } else {
      text = note.caption === '' ? note.name : `${note.caption}\n${note.name}`;
    }
  }
  if (text.trim() === '') return null;
  return {
    id: m.id,
    channel_id: m.channel_id,
    sender_id: m.sender_id,
    sender_username: m.sender_username,
    created_at: m.created_at,
    text,
    has_file: m.file != null,
  };
}
