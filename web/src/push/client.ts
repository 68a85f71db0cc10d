// Web Push in the page: whether this browser can get pushes, and turning
// them on and off. The browser's permission is asked for only when the
// person clicks "Turn on" (never on page load); the subscription goes to
// the server, which then pushes to the browser's push service directly.

import { signal } from '@preact/signals';
import { ApiError } from '../api/errors.ts';
import * as api from './api.ts';
import { t } from '../i18n/index.ts';

export type PushState =
  /** No service worker, Push API or Notifications in this browser (or a dev build without the worker). */
  | 'unsupported'
  /** The person (or a policy) blocked notifications for this site. */
  | 'blocked'
  | 'off'
  | 'on';

/** This browser's push state, once `refreshPushState` has looked. */
export const pushState = signal<PushState | null>(null);

function supported(): boolean {
  return typeof window !== 'undefined' && 'serviceWorker' in navigator && 'PushManager' in window && typeof Notification !== 'undefined' && import.meta.env.PROD;
}

/** The worker's registration, once it is active. */
async function registration(): Promise<ServiceWorkerRegistration> {
  return navigator.serviceWorker.ready;
}

/** Looks at the permission and the subscription. */
export async function refreshPushState(): Promise<PushState> {
  let state: PushState;
  if (!supported()) state = 'unsupported';
  else if (Notification.permission === 'denied') state = 'blocked';
  else {
    const subscription = Notification.permission === 'granted' ? await (await registration()).pushManager.getSubscription() : null;
    state = subscription === null ? 'off' : 'on';
  }
  pushState.value = state;
  return state;
}

/** Base64url (the VAPID key's form) → bytes. */
export function base64UrlBytes(text: string): Uint8Array<ArrayBuffer> {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * How long subscribing may take: the browser asks its push service, and a
 * browser that cannot reach it (a network that blocks it, a Chromium build
 * without one) may never answer.
 */
const SUBSCRIBE_TIMEOUT_MS = 20_000;

/** `promise`, or a rejection with `message` after `ms`. */
function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Why turning push on failed, for the card to say. */
export class PushFailure extends Error {
  constructor(
    readonly reason: 'denied' | 'subscribe',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Asks for the permission (from the click that calls this), subscribes with
 * the server's VAPID key and registers the subscription with the server.
 * Throws PushFailure when the permission is refused or the browser's push
 * service cannot be reached; an ApiError when the server refuses.
 */
export async function enablePush(): Promise<void> {
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') {
    await refreshPushState();
    throw new PushFailure('denied', permission);
  }
  const key = await api.vapidPublicKey();
  const reg = await registration();
  let subscription = await reg.pushManager.getSubscription();
  if (subscription === null) {
    const asked = reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlBytes(key) });
    try {
      subscription = await within(asked, SUBSCRIBE_TIMEOUT_MS, t('push.noPushService'));
    } catch (err) {
      // Should the answer come after all, nobody would know of that subscription.
      asked.then((late) => late.unsubscribe()).catch(() => false);
      throw new PushFailure('subscribe', err instanceof Error ? err.message : String(err));
    }
  }
  const json = subscription.toJSON();
  const p256dh = json.keys?.['p256dh'];
  const auth = json.keys?.['auth'];
  if (json.endpoint === undefined || p256dh === undefined || auth === undefined) {
    await subscription.unsubscribe().catch(() => false);
    throw new PushFailure('subscribe', 'the subscription has no keys');
  }
  try {
    await api.subscribe({ endpoint: json.endpoint, keys: { p256dh, auth } });
  } catch (err) {
    // A subscription the server does not know would only ever stay silent.
    await subscription.unsubscribe().catch(() => false);
    throw err;
  }
  pushState.value = 'on';
}

/** Unsubscribes this browser and tells the server to forget the subscription. */
export async function disablePush(): Promise<void> {
  if (!supported() || Notification.permission !== 'granted') return;
  // Not `ready`, which waits for ever when no worker ever became active.
  const subscription = (await (await navigator.serviceWorker.getRegistration())?.pushManager.getSubscription()) ?? null;
  if (subscription !== null) {
    await api.unsubscribe(subscription.endpoint).catch((err: unknown) => {
      // Already gone from the server (expired, removed elsewhere): nothing left to undo there.
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    });
    await subscription.unsubscribe();
  }
  pushState.value = 'off';
}
