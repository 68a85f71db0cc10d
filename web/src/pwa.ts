// The installable app, in the page: the service worker (src/sw/sw.ts, the
// app shell offline) registered once the page has loaded, and the app's
// badge (the Badging API, where the browser has it) kept at the number of
// unread messages. Never registered by `npm run dev`, whose unbundled
// modules a worker would cache.

import { effect } from '@preact/signals';
import { unread } from './chat/store.ts';

type Badging = Navigator & { setAppBadge?: (count?: number) => Promise<void>; clearAppBadge?: () => Promise<void> };

export function startPwa(): void {
  if (import.meta.env.PROD && 'serviceWorker' in navigator) {
    // A module worker: it imports the E2EE core's glue to decrypt pushes.
    const register = () => void navigator.serviceWorker.register('/sw.js', { type: 'module' }).catch(() => undefined);
    if (document.readyState === 'complete') register();
    else window.addEventListener('load', register, { once: true });
  }
  let shown = 0;
  effect(() => {
    const count = Object.values(unread.value).reduce((n, c) => n + c, 0);
    if (count === shown) return;
    shown = count;
    const badging = navigator as Badging;
    if (count > 0) void badging.setAppBadge?.(count).catch(() => undefined);
    else void badging.clearAppBadge?.().catch(() => undefined);
  });
}
