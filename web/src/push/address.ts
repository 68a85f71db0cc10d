// The address a notification's click opens when no tab of the app is open
// (src/sw/push.ts): the channel's, with the message to jump to.

import { matchRoute } from '../router.ts';

/** The channel and message an address asks to open (`/channels/3?message=17`), or null. */
export function messageInAddress(pathname: string, search: string): { channelId: number; messageId: number } | null {
  const route = matchRoute(pathname);
  const raw = new URLSearchParams(search).get('message');
  if (route.name !== 'channel' || route.channelId === undefined || raw === null || !/^[1-9][0-9]{0,15}$/.test(raw)) return null;
  const messageId = Number(raw);
  return Number.isSafeInteger(messageId) ? { channelId: route.channelId, messageId } : null;
}
