// Failures of API calls, and the sentences shown to people for them.
//
// Every failure of `apiRequest` is an `ApiError`, so a form only ever needs
// `describeError(err)` to tell the user what went wrong, in the UI's language.

import { language, t } from '../i18n/index.ts';
import { isTranslatedCode } from './server-errors.ts';

/** `code` of a request that never got an HTTP answer (offline, DNS, reset). */
export const NETWORK_ERROR = 'network_error';
/** `code` of an answer that is not the JSON the API promises (e.g. a proxy's HTML page). */
export const BAD_RESPONSE = 'bad_response';

export class ApiError extends Error {
  /** HTTP status, or 0 when the server could not be reached. */
  readonly status: number;
  /** The API's machine-readable `code`, or one of the constants above. */
  readonly code: string;
  /** Seconds to wait before retrying, from a 429's `Retry-After` header. */
  readonly retryAfterSeconds: number | null;

  constructor(status: number, code: string, message: string, retryAfterSeconds: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * Reads a `Retry-After` header: either a number of seconds or an HTTP date.
 * Returns whole seconds (at least 1), or null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Math.max(1, Number(text));
  // Every HTTP-date names its month; without this, Date.parse would read "-5" as a year.
  if (!/[A-Za-z]/.test(text)) return null;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return null;
  return Math.max(1, Math.ceil((date - now) / 1000));
}

/** An error raised in the browser whose message is written for people (e.g. a wrong recovery passphrase). */
export class UserFacingError extends Error {}

/**
 * The message to show a person for a failed action. The server writes its
 * messages in English; in another language a known `code` is shown from the
 * catalogue, and an unknown one falls back to the server's words (in
 * English the server's own sentence is kept: it can name details, like the
 * role that was needed, that a per-code message cannot).
 */
export function describeError(err: unknown): string {
  if (err instanceof UserFacingError) return err.message;
  if (!(err instanceof ApiError)) {
    return t('errors.unexpected');
  }
  if (err.status === 429) {
    const seconds = err.retryAfterSeconds;
    if (seconds === null) return t('errors.tooManyLater');
    return t('errors.tooManyIn', { count: seconds });
  }
  if (err.code === NETWORK_ERROR) {
    return t('errors.network');
  }
  if (language.value !== 'en' && isTranslatedCode(err.code)) return t(`serverErrors.${err.code}`);
  if (err.message !== '') return err.message;
  return t('errors.status', { status: err.status });
}
