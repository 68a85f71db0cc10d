// Opening the app at a message from a notification's click (src/sw/push.ts):
// an open tab gets a message from the worker; a new window opens at
// `/channels/:id?message=:id`. Either way the message is shown with the
// search's "jump to message" (search/jump.ts), once signed in.

import { effect } from '@preact/signals';
import { describeError } from '../api/errors.ts';
import { chatNotice } from '../chat/store.ts';
import { jumpToMessage } from '../search/jump.ts';
import { session } from '../state/session.ts';
import { messageInAddress } from './address.ts';

/** What the worker posts to a tab (push.ts's OPEN_MESSAGE). */
const OPEN_MESSAGE = 'securechat-open-message';

function open(target: { channelId: number; messageId: number }): void {
  // Once signed in: the history around the message needs the session.
  let done = false;
  const stop = effect(() => {
    if (done || session.value.status !== 'signed-in') return;
    done = true;
    queueMicrotask(() => stop());
    jumpToMessage(target.channelId, target.messageId).catch((err: unknown) => {
      chatNotice.value = describeError(err);
    });
  });
}

export function startOpening(): void {
  const target = messageInAddress(location.pathname, location.search);
  if (target !== null) {
    // The address stays the channel's; the message is a one-time jump.
    history.replaceState(null, '', location.pathname);
    open(target);
  }
  navigator.serviceWorker?.addEventListener('message', (event: MessageEvent) => {
    const data = event.data as { type?: unknown; channelId?: unknown; messageId?: unknown } | null;
    if (data?.type !== OPEN_MESSAGE || typeof data.channelId !== 'number' || typeof data.messageId !== 'number') return;
    open({ channelId: data.channelId, messageId: data.messageId });
  });
  // A listener added this way starts receiving only once asked to.
  navigator.serviceWorker?.startMessages();
}
