import { describe, expect, it } from 'vitest';
import { ApiError, BAD_RESPONSE, NETWORK_ERROR, UserFacingError, describeError, parseRetryAfter } from './errors.ts';

describe('parseRetryAfter', () => {
  it('reads a number of seconds', () => {
    expect(parseRetryAfter('42')).toBe(42);
    expect(parseRetryAfter(' 7 ')).toBe(7);
  });

  it('never asks to wait less than a second', () => {
    expect(parseRetryAfter('0')).toBe(1);
  });

  it('reads an HTTP date relative to now, rounding up', () => {
    const now = Date.parse('2026-11-27T10:00:00Z');
    expect(parseRetryAfter('Fri, 27 Nov 2026 10:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Fri, 27 Nov 2026 09:00:00 GMT', now)).toBe(1);
  });

  it('gives null for a missing or unreadable header', () => {
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter('-5')).toBeNull();
  });
});

describe('describeError', () => {
  it("shows a browser-side refusal's own words, and hides other exceptions", () => {
    expect(describeError(new UserFacingError('That passphrase does not open your key backup.'))).toBe('That passphrase does not open your key backup.');
    expect(describeError(new TypeError('x is undefined'))).toBe('Something went wrong. Please try again.');
  });

  it("shows the server's message", () => {
    expect(describeError(new ApiError(401, 'invalid_credentials', 'Invalid username or password'))).toBe('Invalid username or password');
  });

  it('turns a 429 into a wait time, whatever the server wrote', () => {
    expect(describeError(new ApiError(429, 'rate_limited', 'Slow down', 30))).toBe('Too many attempts, try again in 30 seconds.');
    expect(describeError(new ApiError(429, 'rate_limited', 'Slow down', 1))).toBe('Too many attempts, try again in 1 second.');
    expect(describeError(new ApiError(429, 'rate_limited', 'Slow down'))).toBe('Too many attempts, try again later.');
  });

  it('explains an unreachable server', () => {
    expect(describeError(new ApiError(0, NETWORK_ERROR, 'The server could not be reached.'))).toBe(
      'Cannot reach the server. Check your connection and try again.',
    );
  });

  it('names the status when the answer had no message', () => {
    expect(describeError(new ApiError(502, BAD_RESPONSE, ''))).toBe('The server could not complete the request (HTTP 502). Please try again.');
  });

  it('does not leak the text of unexpected exceptions', () => {
    expect(describeError(new TypeError('x is undefined'))).toBe('Something went wrong. Please try again.');
  });
});
