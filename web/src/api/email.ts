// Email digests of missed messages: the caller's address and its
// verification code (`/api/email`). The server decides everything else:
// when a digest goes out and what it shows.

import { apiRequest } from './http.ts';

export interface EmailStatus {
  /** Whether this server sends email at all; when false nothing else applies. */
  enabled: boolean;
  address: string | null;
  verified: boolean;
  /** A code was mailed and can still be entered. */
  code_pending: boolean;
  /** Minutes a message stays unread before it is mailed. */
  delay_minutes: number | null;
}

export function getEmail(): Promise<EmailStatus> {
  return apiRequest<EmailStatus>('GET', '/api/email');
}

/** Sets the address (unverified) and has the server mail it a code. */
export function setEmail(address: string): Promise<EmailStatus> {
  return apiRequest<EmailStatus>('PUT', '/api/email', { address });
}

export function verifyEmail(code: string): Promise<EmailStatus> {
  return apiRequest<EmailStatus>('POST', '/api/email/verify', { code });
}

export function removeEmail(): Promise<EmailStatus> {
  return apiRequest<EmailStatus>('DELETE', '/api/email');
}
