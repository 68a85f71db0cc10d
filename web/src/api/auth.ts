// Account and session endpoints (`/api/auth/*`).

import { apiRequest } from './http.ts';

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

/** Creates an account. It does not sign the new user in. */
export async function register(credentials: Credentials): Promise<Pick<User, 'id' | 'username'>> {
  const answer = await apiRequest<{ user: Pick<User, 'id' | 'username'> }>('POST', '/api/auth/register', credentials);
  return answer.user;
}

/**
 * Signs in; the server sets the session cookie. The answer also carries a
 * bearer token for API clients, which the browser deliberately ignores.
 */
export async function login(credentials: Credentials): Promise<User> {
  const answer = await apiRequest<{ user: User }>('POST', '/api/auth/login', credentials);
  return answer.user;
}

/** Ends this session; the server clears the cookie. */
export async function logout(): Promise<void> {
  await apiRequest('POST', '/api/auth/logout');
}

/** The signed-in user; fails with status 401 when there is no session. */
export async function me(): Promise<User> {
  const answer = await apiRequest<{ user: User }>('GET', '/api/auth/me');
  return answer.user;
}

/** Changes the password; the server ends every other session of the user. */
export async function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  await apiRequest('POST', '/api/auth/password', {
    current_password: currentPassword,
    new_password: newPassword,
  });
}
