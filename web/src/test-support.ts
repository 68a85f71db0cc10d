// Helpers for unit tests: answer `fetch` the way the Securechat API does.
// Only test files import this module.

import { vi } from 'vitest';
import type { Message } from './api/messages.ts';

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

export function apiFailure(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return jsonResponse(status, { success: false, code, message }, headers);
}

type Answer = Response | Error;

/**
 * Replaces `fetch` with one that answers from per-route queues, keyed
 * "METHOD /path". An unexpected request fails the test loudly.
 * Returns the mock so tests can inspect the requests that were made.
 */
export function fakeApi(routes: Record<string, Answer[]>) {
  const mock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const key = `${init?.method ?? 'GET'} ${String(input)}`;
    const answer = routes[key]?.shift();
    if (answer === undefined) throw new Error(`unexpected request: ${key}`);
    if (answer instanceof Error) throw answer;
    return answer;
  });
  vi.stubGlobal('fetch', mock);
  return mock;
}

/** The requests a `fakeApi` mock received, as "METHOD /path" strings. */
export function requestsMade(mock: ReturnType<typeof fakeApi>): string[] {
  return mock.mock.calls.map(([input, init]) => `${init?.method ?? 'GET'} ${String(input)}`);
}

/** A plaintext message as the API sends it, with `extra` fields replaced. */
export function message(id: number, extra: Partial<Message> = {}): Message {
  return {
    id,
    channel_id: 1,
    sender_id: 2,
    sender_username: 'alice',
    content: `m${id}`,
    envelope: null,
    key_version: null,
    client_msg_id: `c${id}`,
    reply_to: null,
    created_at: '2026-01-01T10:00:00Z',
    edited_at: null,
    deleted: false,
    ...extra,
  };
}

/** A `localStorage` in memory (node has none), for `vi.stubGlobal('localStorage', memoryStorage())`. */
export function memoryStorage(): Storage {
  const map = new Map<string, string>();
  return {
    get length() {
      return map.size;
    },
    clear: () => map.clear(),
    getItem: (key) => map.get(key) ?? null,
    key: (i) => [...map.keys()][i] ?? null,
    removeItem: (key) => void map.delete(key),
    setItem: (key, value) => void map.set(key, String(value)),
  };
}
