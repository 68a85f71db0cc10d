// Getting the person's attention while the tab is hidden: a count in the
// page title and, when they allowed it, a browser notification — for DMs
// and mentions only, so a busy channel does not nag. The permission is
// asked for by the Account page's Notifications card (components/PushCard.tsx).

import { pushState } from '../push/client.ts';

const BADGE = /^\(\d+\) /;

let hiddenCount = 0;

/** What the title would be without the badge. */
function baseTitle(): string {
  return document.title.replace(BADGE, '');
}

function showCount(): void {
  document.title = hiddenCount > 0 ? `(${hiddenCount}) ${baseTitle()}` : baseTitle();
}

/** Something for me arrived: counts it (and notifies) only while the tab is hidden. */
export function callAttention(title: string, body: string): void {
  if (document.visibilityState === 'visible') return;
  hiddenCount += 1;
  showCount();
  // With Web Push on, the service worker notifies (src/sw/push.ts): not twice.
  if (typeof Notification !== 'undefined' && Notification.permission === 'granted' && pushState.value !== 'on') {
    // The body is text: notifications never render markup.
    new Notification(title, { body, tag: 'securechat' });
  }
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && hiddenCount > 0) {
    hiddenCount = 0;
    showCount();
  }
});
