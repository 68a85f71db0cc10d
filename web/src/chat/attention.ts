// Getting the person's attention while the tab is hidden: a count in the
// page title and, when they allowed it, a browser notification — for DMs
// and mentions only, so a busy channel does not nag.

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
  if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
    // The body is text: notifications never render markup.
    new Notification(title, { body, tag: 'securechat' });
  }
}

/** Asks for permission to show notifications (from a click, as browsers require). */
export async function enableNotifications(): Promise<NotificationPermission> {
  if (typeof Notification === 'undefined') return 'denied';
  return Notification.requestPermission();
}

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && hiddenCount > 0) {
    hiddenCount = 0;
    showCount();
  }
});
