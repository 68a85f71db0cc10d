// Client-side routing over the History API.
//
// The server answers every non-API GET path with index.html, so each page has
// a real URL that survives reload. A route says who may see it; `redirectFor`
// turns that into a redirect, which keeps access rules in one table instead
// of in every page.

import { signal } from '@preact/signals';
import type { Session } from './state/session.ts';
import { t } from './i18n/index.ts';

export type RouteName = 'home' | 'channel' | 'account' | 'admin' | 'login' | 'register' | 'reset-password' | 'not-found';

export interface Route {
  name: RouteName;
  /** guest: only when signed out; member: only when signed in; any: both. */
  access: 'guest' | 'member' | 'any';
  /** The page's name for the document title, in the UI's language. */
  title: () => string;
  /** The channel id of `/channels/:id`. */
  channelId?: number;
}

const ROUTES: Readonly<Record<string, Route>> = {
  '/': { name: 'home', access: 'member', title: () => t('routes.home') },
  '/login': { name: 'login', access: 'guest', title: () => t('routes.login') },
  '/register': { name: 'register', access: 'guest', title: () => t('routes.register') },
  '/account': { name: 'account', access: 'member', title: () => t('routes.account') },
  '/admin': { name: 'admin', access: 'member', title: () => t('routes.admin') },
  '/reset-password': { name: 'reset-password', access: 'any', title: () => t('routes.resetPassword') },
};

const CHANNEL_PATH = /^\/channels\/([1-9][0-9]{0,15})$/;

const NOT_FOUND: Route = { name: 'not-found', access: 'any', title: () => t('routes.notFound') };

export const HOME_PATH = '/';
export const LOGIN_PATH = '/login';
export const REGISTER_PATH = '/register';
export const ACCOUNT_PATH = '/account';
export const ADMIN_PATH = '/admin';

export function channelPath(channelId: number): string {
  return `/channels/${channelId}`;
}

export function matchRoute(pathname: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const channel = CHANNEL_PATH.exec(path);
  if (channel !== null) return { name: 'channel', access: 'member', title: () => t('routes.chat'), channelId: Number(channel[1]) };
  return ROUTES[path] ?? NOT_FOUND;
}

/** Where to send someone who may not see `route` in this session state, or null. */
export function redirectFor(route: Route, status: Session['status']): string | null {
  if (route.access === 'member' && status === 'anonymous') return LOGIN_PATH;
  if (route.access === 'guest' && status === 'signed-in') return HOME_PATH;
  // Offline, only the chat opens (from what this browser kept): the account page needs the server.
  if (status === 'offline' && (route.access === 'guest' || route.name === 'account' || route.name === 'admin')) return HOME_PATH;
  return null;
}

/** The current path; set by `startRouter` and `navigate`. */
export const currentPath = signal<string>('/');

export function startRouter(): void {
  currentPath.value = window.location.pathname;
  window.addEventListener('popstate', () => {
    currentPath.value = window.location.pathname;
  });
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (path === window.location.pathname) return;
  if (options.replace === true) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  currentPath.value = path;
}
