// Who is signed in, and the actions that change it.
//
// The session itself is the server's HttpOnly cookie; this module only keeps
// what the UI needs to know about it. Views read the `session` signal and
// re-render when it changes; routing reacts to it (see `router.ts`), so the
// actions here never navigate themselves.

import { signal } from '@preact/signals';
import * as auth from '../api/auth.ts';
import type { Credentials, User } from '../api/auth.ts';
import type { SecondFactor } from '../api/twofactor.ts';
import { ApiError, describeError } from '../api/errors.ts';
import { forgetLastUser, lastUser, rememberUser } from '../offline/cache.ts';
import { deleteMyAccount } from '../api/account.ts';

export type Session =
  | { status: 'loading' }
  /** The server could not tell us (unreachable, 5xx): `message` says why. */
  | { status: 'unavailable'; message: string }
  /**
   * The server could not tell us, but someone signed in on this browser and
   * did not sign out: their chat opens from what this browser kept (rooms,
   * outbox) while the server is asked again. Not a proof of a session: the
   * server decides once it answers.
   */
  | { status: 'offline'; user: User; message: string }
  | { status: 'anonymous' }
  /**
   * `enrolmentRequired`: the site requires a second factor of this person
   * and they have none yet; the app shows only the two-factor setup.
   */
  | { status: 'signed-in'; user: User; enrolmentRequired: boolean };

/** A one-off message for the login page ("You have logged out."). */
export interface Notice {
  tone: 'info' | 'success';
  /** Its catalogue key: the login page translates it when it shows it. */
  text: NoticeText;
}

export const session = signal<Session>({ status: 'loading' });
export const notice = signal<Notice | null>(null);

export const SESSION_ENDED = 'session.ended';
export const LOGGED_OUT = 'session.loggedOut';
export const ACCOUNT_CREATED = 'session.accountCreated';
export const ACCOUNT_DELETED = 'session.accountDeleted';
export type NoticeText = typeof SESSION_ENDED | typeof LOGGED_OUT | typeof ACCOUNT_CREATED | typeof ACCOUNT_DELETED;

function isUnauthorized(err: unknown): boolean {
  return err instanceof ApiError && err.status === 401;
}

/**
 * The password typed at login (or registration, or set by a password
 * change) during this page's life, so
 * a backup passphrase equal to it can be refused (docs/PROTOCOL.md §8). In
 * memory only, never stored: after a reload it is unknown (null).
 */
let typedPassword: string | null = null;

/** The password typed at login or registration in this page's life; null when unknown. */
export function loginPassword(): string | null {
  return typedPassword;
}

function becomeSignedIn({ user, enrolmentRequired }: auth.SignedIn): void {
  rememberUser(user);
  session.value = { status: 'signed-in', user, enrolmentRequired };
}

function becomeAnonymous(message: Notice | null): void {
  typedPassword = null;
  // The session is over: the app no longer opens offline for this person
  // (what they kept stays for their next sign-in here, until they sign out).
  forgetLastUser();
  session.value = { status: 'anonymous' };
  notice.value = message;
}

/** Asks the server whether the cookie still holds a session. */
export async function loadSession(): Promise<void> {
  stopRetrying();
  session.value = { status: 'loading' };
  await askServer();
}

/** The first wait before asking an unreachable server again, doubled each time up to the second. */
const RETRY_FIRST_MS = 2000;
const RETRY_MAX_MS = 30_000;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let retryDelay = RETRY_FIRST_MS;

function stopRetrying(): void {
  if (retryTimer !== null) clearTimeout(retryTimer);
  retryTimer = null;
}

/**
 * Asks the server who is signed in. While it cannot be reached (or answers
 * 5xx), the page says so and asks again by itself, less and less often, and
 * at once when the browser comes back online: the "unavailable" screen (or,
 * for the person who signed in last here, the offline chat) stays up in
 * between instead of flickering.
 */
async function askServer(): Promise<void> {
  try {
    becomeSignedIn(await auth.me());
    retryDelay = RETRY_FIRST_MS;
  } catch (err) {
    if (isUnauthorized(err)) {
      becomeAnonymous(null);
      return;
    }
    const last = lastUser();
    session.value = last === null ? { status: 'unavailable', message: describeError(err) } : { status: 'offline', user: last, message: describeError(err) };
    stopRetrying();
    retryTimer = setTimeout(() => {
      retryTimer = null;
      void askServer();
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  }
}

/** Asks the server again now (the offline chat's "Try now"), without leaving the screen shown. */
export function retryNow(): void {
  if (session.value.status !== 'unavailable' && session.value.status !== 'offline') return;
  stopRetrying();
  void askServer();
}

if (typeof window !== 'undefined') {
  window.addEventListener('online', () => {
    if (session.value.status !== 'unavailable' && session.value.status !== 'offline') return;
    stopRetrying();
    void askServer();
  });
}

/**
 * Signs in; throws `ApiError` (wrong credentials, a second factor needed or
 * wrong, throttled...) for the form to show.
 */
export async function logIn(credentials: Credentials & SecondFactor): Promise<void> {
  const signedIn = await auth.login(credentials);
  typedPassword = credentials.password;
  notice.value = null;
  becomeSignedIn(signedIn);
}

/** Finishes a single sign-on that asked for a second factor; throws `ApiError` like `logIn`. */
export async function finishSsoSignIn(factor: SecondFactor): Promise<void> {
  const signedIn = await auth.ssoSecondFactor(factor);
  notice.value = null;
  becomeSignedIn(signedIn);
}

/** Signs in with a passkey alone; the password stays unknown (as after a reload). */
export async function logInWithPasskey(): Promise<void> {
  const signedIn = await auth.loginWithPasskey();
  typedPassword = null;
  notice.value = null;
  becomeSignedIn(signedIn);
}

/** Asks the server again who is signed in (after two-factor enrolment lifts the hold). */
export async function refreshSession(): Promise<void> {
  await recheckSession();
}

/**
 * Creates an account and signs it in. Returns 'signed-in', or 'needs-login'
 * when the account exists but signing in did not work (for example because
 * logins are being throttled): the login page then says so.
 * A failed registration throws `ApiError`.
 */
export async function registerAndLogIn(credentials: Credentials, invite: string | null = null): Promise<'signed-in' | 'needs-login'> {
  await auth.register(credentials, invite);
  try {
    await logIn(credentials);
    return 'signed-in';
  } catch {
    becomeAnonymous({ tone: 'success', text: ACCOUNT_CREATED });
    return 'needs-login';
  }
}

/** Ends the session. A session the server already forgot counts as ended. */
export async function logOut(): Promise<void> {
  try {
    await auth.logout();
  } catch (err) {
    if (!isUnauthorized(err)) throw err;
  }
  becomeAnonymous({ tone: 'info', text: LOGGED_OUT });
}

/** Deletes the account for good; the page returns to the login screen with a notice. */
export async function deleteAccount(password: string): Promise<void> {
  await deleteMyAccount(password);
  becomeAnonymous({ tone: 'info', text: ACCOUNT_DELETED });
}

/**
 * Runs an API call that needs the session. When it fails with 401, the
 * session is checked again: if it is gone (expired, revoked elsewhere, user
 * disabled) the UI returns to the login page with a notice. The error is
 * rethrown either way, because a 401 can also be a refusal of this one call.
 */
export async function authenticated<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (isUnauthorized(err)) await recheckSession();
    throw err;
  }
}

async function recheckSession(): Promise<void> {
  try {
    becomeSignedIn(await auth.me());
  } catch (err) {
    if (isUnauthorized(err)) becomeAnonymous({ tone: 'info', text: SESSION_ENDED });
  }
}

export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  await authenticated(() => auth.changePassword(currentPassword, newPassword));
  typedPassword = newPassword;
}
