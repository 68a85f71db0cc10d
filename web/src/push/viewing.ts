// Tells the server which channel this tab shows and whether the tab is
// visible (the socket event `viewing`, crates/securechat-server/src/realtime/viewing.rs):
// nobody gets a push about a channel a visible tab of theirs shows. Sent
// when the channel changes, when the tab is hidden or shown, and again
// after every reconnection (the server forgets a socket's view with it).

import { effect } from '@preact/signals';
import { activeChannelId, connection, currentSocket } from '../chat/store.ts';

/** `{channel_id, visible}` for the server. */
export function viewingPayload(channelId: number | null, visibility: DocumentVisibilityState): { channel_id: number | null; visible: boolean } {
  return { channel_id: channelId, visible: visibility === 'visible' };
}

function send(): void {
  const socket = currentSocket();
  if (socket === null || !socket.connected) return;
  socket.emit('viewing', viewingPayload(activeChannelId.peek(), document.visibilityState));
}

/** Starts reporting; returns the stop. */
export function startViewing(): () => void {
  // Reads both signals: runs on a channel change and on every (re)connection.
  const stop = effect(() => {
    void activeChannelId.value;
    if (connection.value === 'online') send();
  });
  document.addEventListener('visibilitychange', send);
  return () => {
    stop();
    document.removeEventListener('visibilitychange', send);
  };
}
