// The one place that talks HTTP to the Securechat API.
//
// Requests are same-origin JSON; the session travels in the HttpOnly cookie
// that the server sets at login, so no token is ever read or stored here.
// Answers follow the API's envelope: `{success: true, ...}` on success,
// `{success: false, message, code}` with a 4xx/5xx status on failure.

import { ApiError, BAD_RESPONSE, NETWORK_ERROR, parseRetryAfter } from './errors.ts';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Sends one API request and returns the parsed JSON body of a successful
 * answer. Every failure, including an unreachable server, throws `ApiError`.
 *
 * State-changing requests always carry a JSON body (`{}` when there is
 * nothing to say), because the server accepts only JSON on them.
 */
export async function apiRequest<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }

  let response: Response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, NETWORK_ERROR, 'The server could not be reached.');
  }

  const payload = await readJson(response);
  if (response.ok && isRecord(payload) && payload['success'] !== false) {
    return payload as T;
  }
  throw toApiError(response, payload);
}

/**
 * POSTs `body` as JSON and returns the answer's bytes (a download, such as
 * the data export's zip); a refusal throws `ApiError` as `apiRequest` does.
 */
export async function apiDownload(path: string, body: unknown): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/zip, application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, NETWORK_ERROR, 'The server could not be reached.');
  }
  if (!response.ok) throw toApiError(response, await readJson(response));
  try {
    return await response.blob();
  } catch {
    // The stream ended early: the server could not finish the archive.
    throw new ApiError(0, NETWORK_ERROR, 'The download was cut off.');
  }
}

/** The body as JSON, or undefined when it is empty or not JSON. */
async function readJson(response: Response): Promise<unknown> {
  const type = response.headers.get('Content-Type') ?? '';
  if (!type.includes('json')) return undefined;
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}

function toApiError(response: Response, payload: unknown): ApiError {
  const retryAfter = parseRetryAfter(response.headers.get('Retry-After'));
  if (isRecord(payload)) {
    const message = typeof payload['message'] === 'string' ? payload['message'] : '';
    const code = typeof payload['code'] === 'string' ? payload['code'] : `http_${response.status}`;
    return new ApiError(response.status, code, message, retryAfter);
  }
  // A success status with an unreadable body is as unusable as an error.
  const status = response.ok ? 502 : response.status;
  return new ApiError(status, BAD_RESPONSE, '', retryAfter);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
