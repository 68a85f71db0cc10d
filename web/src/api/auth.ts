// Account and session endpoints (`/api/auth/*`).

import { apiRequest } from './http.ts';
import { signInWithPasskey } from './passkeys.ts';
import type { SecondFactor } from './twofactor.ts';

/** A user as the auth endpoints describe them. */
export interface User {
  id: number;
  username: string;
  is_admin: boolean;
  /** Present on `/api/auth/me`, not on the login answer. */
  created_at?: string;
}

export interface Credentials {
  username: string;
  password: string;
}

/**
 * Creates an account, with the token of an invitation link when there is
 * one (required when the site registers by invitation only). It does not
 * sign the new user in.
 */
export async function register(credentials: Credentials, invite: string | null = null): Promise<Pick<User, 'id' | 'username'>> {
  const body = invite === null ? credentials : { ...credentials, invite };
  const answer = await apiRequest<{ user: Pick<User, 'id' | 'username'> }>('POST', '/api/auth/register', body);
  return answer.user;
}

/**
 * Who is signed in, and whether the site's two-factor policy holds them at
 * enrolment (only the two-factor setup is open until TOTP is on).
 */
export interface SignedIn {
  user: User;
  enrolmentRequired: boolean;
}

interface SignedInAnswer {
  user: User;
  second_factor_enrolment_required?: boolean;
}

function signedIn(answer: SignedInAnswer): SignedIn {
  return { user: answer.user, enrolmentRequired: answer.second_factor_enrolment_required === true };
}

/**
 * Signs in; the server sets the session cookie. The answer also carries a
 * bearer token for API clients, which the browser deliberately ignores.
 * With two-factor on, the password alone fails with `second_factor_required`
 * and the same call goes again with a code.
 */
export async function login(credentials: Credentials & SecondFactor): Promise<SignedIn> {
  return signedIn(await apiRequest<SignedInAnswer>('POST', '/api/auth/login', credentials));
}

/** Signs in with a passkey alone, no username or password typed. */
export async function loginWithPasskey(): Promise<SignedIn> {
  return signedIn(await signInWithPasskey<SignedInAnswer>());
}

/** Ends this session; the server clears the cookie. */
export async function logout(): Promise<void> {
  await apiRequest('POST', '/api/auth/logout');
}

/** The signed-in user; fails with status 401 when there is no session. */
export async function me(): Promise<SignedIn> {
  return signedIn(await apiRequest<SignedInAnswer>('GET', '/api/auth/me'));
}

/** How one may sign in here: whether single sign-on is on, and its button's label. */
export interface AuthOptions {
  sso_enabled: boolean;
  sso_label: string | null;
}

export async function authOptions(): Promise<AuthOptions> {
  return apiRequest<AuthOptions>('GET', '/api/auth/options');
}

/**
 * Where the single sign-on button leads: the server redirects to the
 * provider, which redirects back to the server, which signs in and
 * redirects home (or back to `/login` with `sso_error` or `sso`).
 */
export const SSO_LOGIN_URL = '/api/auth/oidc/login';

/** The second step of a single sign-on to an account with two-factor sign-in on. */
export async function ssoSecondFactor(factor: SecondFactor): Promise<SignedIn> {
  return signedIn(await apiRequest<SignedInAnswer>('POST', '/api/auth/oidc/second-factor', factor));
}

/** Changes the password; the server ends every other session of the user. */
export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  await apiRequest('POST', '/api/auth/password', {
    current_password: currentPassword,
    new_password: newPassword,
  });
}
