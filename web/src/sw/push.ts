// Web Push in the service worker: showing the notification for a push the
// server sent (crates/securechat-server/src/webpush/), and opening the app
// at the message when the notification is clicked.
//
// - A plaintext channel's push is shown as it came: "alice in #general" and
//   the text (or none, when the person chose that).
// - An encrypted channel's push names only ids: the worker fetches the
//   envelope, decrypts it with this browser's keys (read.ts, read-only) and
//   shows "alice in #secrets" and the text; "New encrypted message" when it
//   cannot. When the person hears only mentions from that channel, the
//   worker decides after decrypting (the server cannot see the mention, and
//   the push must not say who was mentioned), by the E2EE core's `mention`
//   (read.ts): the one mention rule the server and the highlight follow,
//   with a channel-wide mention counted only from someone the verified
//   membership log lets use one.
// - Nothing is shown about a channel that a visible tab shows right now.
//
// Chrome asks every push to show a notification (`userVisibleOnly`); when
// the worker decides not to (not mentioned, channel on screen), it shows
// none, and Chrome tolerates that within its budget of silent pushes. Past
// the budget Chrome shows its own "This site has been updated in the
// background" notice, which says nothing about the message: better than a
// notification for every message of a channel the person asked to hear
// only mentions from. (In tests/browser/push.test.mjs a push left silent
// brought no such notice: it was within the budget.) Firefox limits pushes
// that show nothing with a quota of its own; a very busy encrypted channel
// set to mentions only is the case that can reach these limits.

import { decryptedNotification, parsePayload, plainNotification, shownText, unreadableNotification, type NotificationContent, type NotificationData, type SealedPush, type Translate } from '../push/content.ts';
import { channelOf, fetchMessage, getJson, readEncrypted, whoAmI } from './read.ts';
import { translator } from './i18n.ts';

declare const self: ServiceWorkerGlobalScope;

/** The app's address of a channel (router.ts's, which is a page module). */
const channelPath = (channelId: number) => `/channels/${channelId}`;

/** The message the page gets when a notification click lands on an open tab. */
export const OPEN_MESSAGE = 'securechat-open-message';

export function startPush(): void {
  self.addEventListener('push', (event) => {
    let raw: unknown = null;
    try {
      raw = event.data?.json();
    } catch {
      raw = null;
    }
    event.waitUntil(onPush(raw));
  });
  self.addEventListener('notificationclick', (event) => {
    event.notification.close();
    const data = event.notification.data as Partial<NotificationData> | null;
    if (typeof data?.channelId !== 'number' || typeof data.messageId !== 'number') return;
    event.waitUntil(openAt({ channelId: data.channelId, messageId: data.messageId }));
  });
}

async function onPush(raw: unknown): Promise<void> {
  const push = parsePayload(raw);
  if (push === null) return;
  if (await onScreen(push.channel_id)) return;
  const t = await translator();
  const shown = push.kind === 'plain' ? plainNotification(push, t) : await sealed(push, t);
  if (shown === null) return;
  await self.registration.showNotification(shown.title, {
    body: shown.body,
    tag: shown.tag,
    data: shown.data,
    icon: '/icons/icon-192.png',
  });
}

/** Whether a visible tab shows the channel now (the server's `viewing` knows too; this closes the gap between). */
async function onScreen(channelId: number): Promise<boolean> {
  const tabs = await self.clients.matchAll({ type: 'window' });
  return tabs.some((tab) => tab.visibilityState === 'visible' && new URL(tab.url).pathname === channelPath(channelId));
}

/** The notification for an encrypted channel's push, or null when it is not to be shown (not mentioned). */
async function sealed(push: SealedPush, t: Translate): Promise<NotificationContent | null> {
  try {
    const user = await whoAmI();
    const message = await fetchMessage(push.channel_id, push.message_id);
    if (message === null || message.sender_id === user.id) return null;
    const where = await channelOf(push.channel_id);
    if (where === null) return null;
    const read = await readEncrypted(user, message, where.room);
    const text = read === null ? null : shownText(read.text, read.what, message.file?.id ?? null, (name) => t('push.file', { name }));
    if (read === null || text === null) return unreadableNotification(push, t);
    const dm = where.room.kind === 'dm';
    if (!dm && (await getJson<{ effective_level: string }>(`/api/channels/${push.channel_id}/notifications`)).effective_level === 'mentions' && !read.mentionsMe) return null;
    return decryptedNotification(push, { sender: message.sender_username ?? t('push.someone'), channel: where.channel, dm, text }, t);
  } catch {
    // The server could not be reached or refused: something arrived all the same.
    return unreadableNotification(push, t);
  }
}

/** Focuses a tab of the app and has it open the message, or opens a new window there. */
async function openAt(data: NotificationData): Promise<void> {
  const tabs = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const tab = tabs.find((c) => new URL(c.url).origin === self.location.origin);
  if (tab !== undefined) {
    // Focusing may be refused (no window to raise): the tab opens the message all the same.
    const focused = await tab.focus().catch(() => tab);
    focused.postMessage({ type: OPEN_MESSAGE, ...data });
    return;
  }
  await self.clients.openWindow(`${channelPath(data.channelId)}?message=${data.messageId}`);
}
