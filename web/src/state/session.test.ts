import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/errors.ts';
import { lastUser } from '../offline/cache.ts';
import { apiFailure, fakeApi, jsonResponse, memoryStorage, requestsMade } from '../test-support.ts';
import {
  ACCOUNT_CREATED,
  LOGGED_OUT,
  SESSION_ENDED,
  changePassword,
  loadSession,
  logIn,
  logOut,
  loginPassword,
  notice,
  registerAndLogIn,
  session,
} from './session.ts';

const alice = { id: 2, username: 'alice', is_admin: false };
const signedIn = () => jsonResponse(200, { success: true, user: alice, token: 'not-for-the-browser' });
const noSession = () => apiFailure(401, 'unauthenticated', 'Not signed in');

beforeEach(() => {
  session.value = { status: 'loading' };
  notice.value = null;
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('loadSession', () => {
  it('is signed in when the cookie holds a session', async () => {
    fakeApi({ 'GET /api/auth/me': [jsonResponse(200, { success: true, user: { ...alice, created_at: '2026-11-27T00:00:00Z' } })] });
    await loadSession();
    expect(session.value).toEqual({ status: 'signed-in', user: { ...alice, created_at: '2026-11-27T00:00:00Z' }, enrolmentRequired: false });
  });

  it('is anonymous on 401', async () => {
    fakeApi({ 'GET /api/auth/me': [noSession()] });
    await loadSession();
    expect(session.value).toEqual({ status: 'anonymous' });
  });

  it('is unavailable, with a reason, when the server cannot answer', async () => {
    fakeApi({ 'GET /api/auth/me': [new TypeError('Failed to fetch')] });
    await loadSession();
    expect(session.value).toEqual({ status: 'unavailable', message: 'Cannot reach the server. Check your connection and try again.' });
  });
});

describe('offline', () => {
  it('opens the chat offline for the person signed in last while the server cannot answer; a 401 then forgets them', async () => {
    vi.stubGlobal('localStorage', memoryStorage());
    fakeApi({ 'POST /api/auth/login': [signedIn()], 'GET /api/auth/me': [new TypeError('Failed to fetch'), noSession(), new TypeError('Failed to fetch')] });
    await logIn({ username: 'alice', password: 'password123' });
    expect(lastUser()).toEqual(alice);
    await loadSession();
    expect(session.value).toEqual({ status: 'offline', user: alice, message: 'Cannot reach the server. Check your connection and try again.' });
    // The server answers: the session is over, and the app no longer opens offline for alice.
    await loadSession();
    expect(session.value).toEqual({ status: 'anonymous' });
    expect(lastUser()).toBeNull();
    await loadSession();
    expect(session.value.status).toBe('unavailable');
  });
});

describe('logIn', () => {
  it('knows when the site holds the person at two-factor enrolment', async () => {
    const fetch = fakeApi({ 'POST /api/auth/login': [jsonResponse(200, { success: true, user: alice, second_factor_enrolment_required: true })] });
    await logIn({ username: 'alice', password: 'password123', totp_code: '123456' });
    expect(session.value).toEqual({ status: 'signed-in', user: alice, enrolmentRequired: true });
    expect(fetch.mock.calls[0]?.[1]?.body).toBe('{"username":"alice","password":"password123","totp_code":"123456"}');
  });

  it('keeps the user, not the token, and clears the notice', async () => {
    fakeApi({ 'POST /api/auth/login': [signedIn()] });
    notice.value = { tone: 'info', text: LOGGED_OUT };
    await logIn({ username: 'alice', password: 'password123' });
    expect(session.value).toEqual({ status: 'signed-in', user: alice, enrolmentRequired: false });
    expect(JSON.stringify(session.value)).not.toContain('not-for-the-browser');
    expect(notice.value).toBeNull();
  });

  it('throws the API error and stays anonymous on wrong credentials', async () => {
    session.value = { status: 'anonymous' };
    fakeApi({ 'POST /api/auth/login': [apiFailure(401, 'invalid_credentials', 'Invalid username or password')] });
    await expect(logIn({ username: 'alice', password: 'nope' })).rejects.toThrow('Invalid username or password');
    expect(session.value).toEqual({ status: 'anonymous' });
  });
});

describe('registerAndLogIn', () => {
  it('registers, then signs in with the same credentials', async () => {
    const fetch = fakeApi({
      'POST /api/auth/register': [jsonResponse(201, { success: true, user: { id: 9, username: 'dave' } })],
      'POST /api/auth/login': [jsonResponse(200, { success: true, user: { id: 9, username: 'dave', is_admin: false }, token: 't' })],
    });
    await expect(registerAndLogIn({ username: 'dave', password: 'password123' })).resolves.toBe('signed-in');
    expect(requestsMade(fetch)).toEqual(['POST /api/auth/register', 'POST /api/auth/login']);
    expect(fetch.mock.calls[1]?.[1]?.body).toBe('{"username":"dave","password":"password123"}');
    expect(session.value).toEqual({ status: 'signed-in', user: { id: 9, username: 'dave', is_admin: false }, enrolmentRequired: false });
  });

  it('sends the user to the login page when the account exists but signing in failed', async () => {
    fakeApi({
      'POST /api/auth/register': [jsonResponse(201, { success: true, user: { id: 9, username: 'dave' } })],
      'POST /api/auth/login': [apiFailure(429, 'too_many_attempts', 'Too many attempts', { 'Retry-After': '60' })],
    });
    await expect(registerAndLogIn({ username: 'dave', password: 'password123' })).resolves.toBe('needs-login');
    expect(session.value).toEqual({ status: 'anonymous' });
    expect(notice.value).toEqual({ tone: 'success', text: ACCOUNT_CREATED });
  });

  it('throws when registration is refused, without trying to sign in', async () => {
    const fetch = fakeApi({ 'POST /api/auth/register': [apiFailure(409, 'username_taken', 'That username is taken')] });
    await expect(registerAndLogIn({ username: 'alice', password: 'password123' })).rejects.toThrow('That username is taken');
    expect(requestsMade(fetch)).toEqual(['POST /api/auth/register']);
  });
});

describe('logOut', () => {
  it('becomes anonymous with a notice', async () => {
    session.value = { status: 'signed-in', user: alice, enrolmentRequired: false };
    fakeApi({ 'POST /api/auth/logout': [jsonResponse(200, { success: true })] });
    await logOut();
    expect(session.value).toEqual({ status: 'anonymous' });
    expect(notice.value).toEqual({ tone: 'info', text: LOGGED_OUT });
  });

  it('treats a session the server already ended as logged out', async () => {
    session.value = { status: 'signed-in', user: alice, enrolmentRequired: false };
    fakeApi({ 'POST /api/auth/logout': [noSession()] });
    await logOut();
    expect(session.value).toEqual({ status: 'anonymous' });
  });

  it('stays signed in when the server could not be reached', async () => {
    session.value = { status: 'signed-in', user: alice, enrolmentRequired: false };
    fakeApi({ 'POST /api/auth/logout': [new TypeError('Failed to fetch')] });
    await expect(logOut()).rejects.toBeInstanceOf(ApiError);
    expect(session.value).toEqual({ status: 'signed-in', user: alice, enrolmentRequired: false });
  });
});

describe('changePassword', () => {
  beforeEach(() => {
    session.value = { status: 'signed-in', user: alice, enrolmentRequired: false };
  });

  it('sends both passwords under the API names', async () => {
    const fetch = fakeApi({ 'POST /api/auth/password': [jsonResponse(200, { success: true })] });
    await changePassword('password123', 'new password');
    expect(fetch.mock.calls[0]?.[1]?.body).toBe('{"current_password":"password123","new_password":"new password"}');
    expect(session.value.status).toBe('signed-in');
  });

  it('keeps the session when a 401 only refused the wrong current password', async () => {
    fakeApi({
      'POST /api/auth/password': [apiFailure(401, 'invalid_credentials', 'Current password is wrong')],
      'GET /api/auth/me': [signedIn()],
    });
    await expect(changePassword('nope', 'new password')).rejects.toThrow('Current password is wrong');
    expect(session.value).toEqual({ status: 'signed-in', user: alice, enrolmentRequired: false });
    expect(notice.value).toBeNull();
  });

  it('returns to the login page when the session is gone', async () => {
    fakeApi({
      'POST /api/auth/password': [noSession()],
      'GET /api/auth/me': [noSession()],
    });
    await expect(changePassword('password123', 'new password')).rejects.toBeInstanceOf(ApiError);
    expect(session.value).toEqual({ status: 'anonymous' });
    expect(notice.value).toEqual({ tone: 'info', text: SESSION_ENDED });
  });

  it('does not check the session again after other failures', async () => {
    const fetch = fakeApi({ 'POST /api/auth/password': [apiFailure(422, 'weak_password', 'Password too short')] });
    await expect(changePassword('password123', 'short')).rejects.toThrow('Password too short');
    expect(requestsMade(fetch)).toEqual(['POST /api/auth/password']);
  });
});

describe('loginPassword', () => {
  it('is the password typed at login in this page, replaced by a change, forgotten at logout, and never stored', async () => {
    fakeApi({
      'POST /api/auth/login': [signedIn()],
      'POST /api/auth/password': [jsonResponse(200, { success: true })],
      'POST /api/auth/logout': [jsonResponse(200, { success: true })],
    });
    await logIn({ username: 'alice', password: 'typed at login' });
    expect(loginPassword()).toBe('typed at login');
    await changePassword('typed at login', 'the new one');
    expect(loginPassword()).toBe('the new one');
    expect(JSON.stringify(session.value)).not.toContain('the new one');
    await logOut();
    expect(loginPassword()).toBeNull();
  });

  it('is not kept when the login fails', async () => {
    fakeApi({ 'POST /api/auth/login': [apiFailure(401, 'invalid_credentials', 'Invalid username or password')] });
    await expect(logIn({ username: 'alice', password: 'wrong guess' })).rejects.toThrow();
    expect(loginPassword()).toBeNull();
  });
});
