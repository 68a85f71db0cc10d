// Which key version of an encrypted channel is current, as far as this page
// can tell. The server keeps an edited message under its original key
// version and refuses an edit once that version is no longer the channel's
// current one, so "Edit" is offered only for messages sealed under it.

import type { Message } from '../api/messages.ts';

/**
 * The channel's current key version: the newest of the version the rooms
 * list gave and the versions of the loaded messages (a rotation, or the
 * first key, does not update the rooms list until it is reloaded).
 */
export function currentKeyVersion(channelVersion: number, messages: readonly Message[]): number {
  let current = channelVersion;
  for (const m of messages) if (m.key_version !== null && m.key_version > current) current = m.key_version;
  return current;
}

/** Whether an encrypted message was sealed under the current key version (so an edit can be sealed under it too). */
export function sealedUnderCurrentKey(message: Message, current: number | null): boolean {
  return message.key_version !== null && message.key_version === current;
}
