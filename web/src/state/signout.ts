// Leaving a session in this browser: signing out, or deleting the account.

import type { User } from '../api/auth.ts';
import { discardOutbox, restoreOutbox, start, startOffline, stop } from '../chat/store.ts';
import { removeStore } from '../e2ee/core.ts';
import { OfflineCache } from '../offline/cache.ts';
import { disablePush } from '../push/client.ts';
import { wipeLocalIndex } from '../search/local.ts';
import { session } from './session.ts';

/**
 * Ends `user`'s session through `end` (the server call that ends it). The
 * live connection closes first: the server drops it the moment the session
 * ends, and the chat must not take that for an expired session. Unsent
 * messages go (the caller asked the person first); if `end` fails, the chat
 * and its outbox come back as they were and the error is rethrown.
 *
 * Signing out (`deleted` false) also stops this browser's pushes first
 * (only the session can remove the server's subscription). What this
 * browser decrypted and indexed for search, and what it kept to open
 * offline, goes with the session; a deleted account's encryption keys go
 * too, since nothing will ever need them again.
 */
export async function leaveSession(user: User, end: () => Promise<void>, deleted: boolean): Promise<void> {
  // Emptied while the keys are open (the encrypted part is sealed in their state); put back if ending fails.
  const held = discardOutbox();
  stop();
  if (!deleted) await disablePush().catch(() => undefined);
  try {
    await end();
  } catch (err) {
    if (session.value.status === 'offline') startOffline(user);
    else start(user);
    restoreOutbox(held);
    throw err;
  }
  await wipeLocalIndex(user.id).catch(() => undefined);
  await OfflineCache.remove(user.id).catch(() => undefined);
  if (deleted) await removeStore(user.id).catch(() => undefined);
}
