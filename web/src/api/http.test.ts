import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiFailure, fakeApi, jsonResponse } from '../test-support.ts';
import { ApiError, BAD_RESPONSE, NETWORK_ERROR } from './errors.ts';
import { apiRequest } from './http.ts';

afterEach(() => {
  vi.unstubAllGlobals();
});

async function failureOf(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('apiRequest', () => {
  it('sends a same-origin JSON request and returns the answer', async () => {
    const fetch = fakeApi({ 'POST /api/auth/login': [jsonResponse(200, { success: true, user: { id: 1, username: 'alice' } })] });

    const answer = await apiRequest<{ user: { username: string } }>('POST', '/api/auth/login', { username: 'alice', password: 'pw' });

    expect(answer.user.username).toBe('alice');
    const init = fetch.mock.calls[0]?.[1];
    expect(init?.credentials).toBe('same-origin');
    expect(init?.headers).toMatchObject({ 'Content-Type': 'application/json', Accept: 'application/json' });
    expect(init?.body).toBe('{"username":"alice","password":"pw"}');
  });

  it('sends an empty JSON object on a POST without data, and no body on a GET', async () => {
    const fetch = fakeApi({
      'POST /api/auth/logout': [jsonResponse(200, { success: true })],
      'GET /api/auth/me': [jsonResponse(200, { success: true, user: {} })],
    });

    await apiRequest('POST', '/api/auth/logout');
    await apiRequest('GET', '/api/auth/me');

    expect(fetch.mock.calls[0]?.[1]?.body).toBe('{}');
    expect(fetch.mock.calls[1]?.[1]?.body).toBeUndefined();
    expect(fetch.mock.calls[1]?.[1]?.headers).not.toHaveProperty('Content-Type');
  });

  it('turns an error envelope into an ApiError with status, code and message', async () => {
    fakeApi({ 'POST /api/auth/register': [apiFailure(409, 'username_taken', 'That username is taken')] });

    const err = await failureOf(apiRequest('POST', '/api/auth/register', {}));

    expect(err.status).toBe(409);
    expect(err.code).toBe('username_taken');
    expect(err.message).toBe('That username is taken');
    expect(err.retryAfterSeconds).toBeNull();
  });

  it('reads Retry-After from a 429', async () => {
    fakeApi({ 'POST /api/auth/login': [apiFailure(429, 'too_many_attempts', 'Too many attempts', { 'Retry-After': '12' })] });

    const err = await failureOf(apiRequest('POST', '/api/auth/login', {}));

    expect(err.status).toBe(429);
    expect(err.retryAfterSeconds).toBe(12);
  });

  it('treats an answer with success: false as a failure even with status 200', async () => {
    fakeApi({ 'GET /api/auth/me': [jsonResponse(200, { success: false, code: 'nope', message: 'Not allowed' })] });

    const err = await failureOf(apiRequest('GET', '/api/auth/me'));

    expect(err.message).toBe('Not allowed');
  });

  it('copes with an error page that is not JSON', async () => {
    fakeApi({ 'GET /api/auth/me': [new Response('<html>Bad Gateway</html>', { status: 502, headers: { 'Content-Type': 'text/html' } })] });

    const err = await failureOf(apiRequest('GET', '/api/auth/me'));

    expect(err.status).toBe(502);
    expect(err.code).toBe(BAD_RESPONSE);
    expect(err.message).toBe('');
  });

  it('rejects a success status whose body is not JSON', async () => {
    fakeApi({ 'GET /api/auth/me': [new Response('ok', { status: 200, headers: { 'Content-Type': 'text/plain' } })] });

    const err = await failureOf(apiRequest('GET', '/api/auth/me'));

    expect(err.code).toBe(BAD_RESPONSE);
  });

  it('reports an unreachable server as a network error', async () => {
    fakeApi({ 'GET /api/auth/me': [new TypeError('Failed to fetch')] });

    const err = await failureOf(apiRequest('GET', '/api/auth/me'));

    expect(err.status).toBe(0);
    expect(err.code).toBe(NETWORK_ERROR);
  });
});
