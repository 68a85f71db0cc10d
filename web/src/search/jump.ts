// "Jump to message" from a search result: open the channel, load the
// history around the message (store.loadAround), then let the channel view
// scroll to it and highlight it briefly (useJumpHighlight).

import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import type { RefObject } from 'preact';
import { loadAround, timelines } from '../chat/store.ts';
import { channelPath, navigate } from '../router.ts';

/** The message a jump is on its way to; `seq` tells two jumps to the same message apart. */
export const jumpTarget = signal<{ channelId: number; messageId: number; seq: number } | null>(null);
let seq = 0;

/** Opens `channelId` at `messageId`, with the history around it loaded; throws when it cannot be loaded (the reason in words). */
export async function jumpToMessage(channelId: number, messageId: number): Promise<void> {
  navigate(channelPath(channelId));
  await loadAround(channelId, messageId);
  jumpTarget.value = { channelId, messageId, seq: ++seq };
}

/** How long the jumped-to message stays highlighted (ms). */
const HIGHLIGHT_MS = 2500;

/**
 * In the channel view: once the jumped-to message is on the page, scroll it
 * to the middle of `list` and highlight it. `leaveBottom` tells the view it
 * no longer sticks to the newest message.
 */
export function useJumpHighlight(list: RefObject<HTMLElement | null>, channelId: number, leaveBottom: () => void): void {
  const target = jumpTarget.value;
  const loaded = timelines.value[channelId];
  useEffect(() => {
    if (target === null || target.channelId !== channelId) return;
    const row = list.current?.querySelector<HTMLElement>(`.message[data-message-id="${target.messageId}"]`);
    if (row == null) return;
    jumpTarget.value = null;
    leaveBottom();
    row.scrollIntoView({ block: 'center' });
    row.classList.add('highlighted', 'search-jumped');
    row.focus({ preventScroll: true });
    // Not undone by the effect's cleanup: clearing the target re-runs the effect at once.
    setTimeout(() => row.classList.remove('highlighted', 'search-jumped'), HIGHLIGHT_MS);
  }, [target, loaded, channelId]);
}
