// The service worker: the app shell, kept so that the app opens when the
// server cannot be reached. Built by vite-plugin-pwa (injectManifest), which
// writes the list of the build's shell files into `self.__WB_MANIFEST`;
// workbox keeps them in a versioned cache and drops older versions.
//
// - Navigations (the app's client-side routes) go to the network first, so a
//   deploy is seen at once; without the network the cached index.html
//   answers, and the app says it is offline.
// - The shell files are precached (hashed names, so a cached copy is never
//   stale); every other file under /assets/ (the lazy chunks: emoji data,
//   password strength dictionaries, syntax highlighting) is cached the first
//   time it is used, since its name changes with its content.
// - The API and Socket.IO are never answered from a cache.
// - Web Push: push.ts shows the notifications and opens the app on a click.

/// <reference lib="webworker" />

import { cleanupOutdatedCaches, matchPrecache, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';
import { startPush } from './push.ts';

declare const self: ServiceWorkerGlobalScope;

/** How long a navigation waits for the network before the cached shell answers. */
const NAVIGATION_TIMEOUT_MS = 4000;

startPush();
cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);

registerRoute(
  new NavigationRoute(
    async ({ request }) => {
      try {
        return await fetchWithin(request, NAVIGATION_TIMEOUT_MS);
      } catch {
        return (await matchPrecache('/index.html')) ?? Response.error();
      }
    },
    { denylist: [/^\/api\//, /^\/socket\.io\//, /^\/healthz/] },
  ),
);

registerRoute(({ url, request }) => url.origin === self.location.origin && url.pathname.startsWith('/assets/') && request.method === 'GET', new CacheFirst({ cacheName: 'securechat-assets' }));

/** `fetch`, failing after `ms` (a server that accepts connections but does not answer is as good as gone). */
async function fetchWithin(request: Request, ms: number): Promise<Response> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), ms);
  try {
    return await fetch(request, { signal: abort.signal });
  } finally {
    clearTimeout(timer);
  }
}

// A new version takes over at once: pages already open keep the modules
// they loaded, and every file of theirs that is not cached is still served.
self.addEventListener('install', () => {
  void self.skipWaiting();
});
self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});
