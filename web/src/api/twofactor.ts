// Two-factor sign-in settings (`/api/auth/2fa/*`): TOTP from an
// authenticator app, with one-time recovery codes.

import { apiRequest } from './http.ts';

export interface TwoFactorStatus {
  totp_enabled: boolean;
  recovery_codes_left: number;
  /** The site's policy covers this person. */
  required: boolean;
  /** Covered and not enrolled yet: only enrolment is open. */
  enrolment_required: boolean;
}

/** A second factor as sign-in and the confirmations take it: one of these. */
export interface SecondFactor {
  totp_code?: string;
  recovery_code?: string;
  /** A passkey's answer to a challenge from `/api/auth/passkeys/second-factor/begin`. */
  passkey?: { challenge_id: string; credential: Record<string, unknown> };
}

export async function getTwoFactor(): Promise<TwoFactorStatus> {
  return apiRequest<TwoFactorStatus>('GET', '/api/auth/2fa');
}

/** A new secret, not yet in force: the base32 text and the otpauth URI for a QR code. */
export async function setupTotp(): Promise<{ secret: string; otpauth_uri: string }> {
  return apiRequest<{ secret: string; otpauth_uri: string }>('POST', '/api/auth/2fa/totp/setup');
}

/** Turns TOTP on with a code from the new secret; the recovery codes, shown once. */
export async function enableTotp(code: string): Promise<string[]> {
  const answer = await apiRequest<{ recovery_codes: string[] }>('POST', '/api/auth/2fa/totp/enable', { code });
  return answer.recovery_codes;
}

/** Turns TOTP off, confirmed with the password and a code. */
export async function disableTotp(password: string, factor: SecondFactor): Promise<void> {
  await apiRequest('POST', '/api/auth/2fa/totp/disable', { password, ...factor });
}

/** New recovery codes (the old ones stop working), confirmed with a code. */
export async function newRecoveryCodes(factor: SecondFactor): Promise<string[]> {
  const answer = await apiRequest<{ recovery_codes: string[] }>('POST', '/api/auth/2fa/recovery-codes', factor);
  return answer.recovery_codes;
}

/** What a typed code is: six digits go as a TOTP code, anything else as a recovery code. */
export function secondFactor(typed: string): SecondFactor {
  const code = typed.trim();
  return /^\d{6}$/.test(code) ? { totp_code: code } : { recovery_code: code };
}
