// Passkeys (`/api/auth/passkeys/*`): adding and removing them on the
// Account page, and signing in with one, alone or as the second factor.
//
// The server sends WebAuthn options with binary fields base64url-encoded
// (as `PublicKeyCredential.parseCreationOptionsFromJSON` would take them)
// and expects the authenticator's answer encoded the same way; the few
// conversions are done here rather than relying on those newer methods,
// which not every browser has.

import { apiRequest } from './http.ts';
import type { SecondFactor } from './twofactor.ts';

/** A passkey as its owner's list shows it. */
export interface PasskeyInfo {
  id: number;
  name: string;
  created_at: string;
  last_used_at: string | null;
}

interface DescriptorJSON {
  type: 'public-key';
  id: string;
  transports?: AuthenticatorTransport[];
}

interface CreationJSON {
  rp: PublicKeyCredentialRpEntity;
  user: { id: string; name: string; displayName: string };
  challenge: string;
  pubKeyCredParams: PublicKeyCredentialParameters[];
  timeout?: number;
  excludeCredentials?: DescriptorJSON[];
  authenticatorSelection?: AuthenticatorSelectionCriteria;
  attestation?: AttestationConveyancePreference;
  extensions?: AuthenticationExtensionsClientInputs;
}

interface RequestJSON {
  challenge: string;
  timeout?: number;
  rpId?: string;
  allowCredentials?: DescriptorJSON[];
  userVerification?: UserVerificationRequirement;
  extensions?: AuthenticationExtensionsClientInputs;
}

interface Challenge<T> {
  challenge_id: string;
  options: { publicKey: T };
}

/** Whether this browser can use passkeys at all. */
export function passkeysSupported(): boolean {
  return typeof window !== 'undefined' && typeof window.PublicKeyCredential === 'function' && navigator.credentials !== undefined;
}

/** base64url (padded or not) to bytes. */
export function fromBase64url(text: string): ArrayBuffer {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

/** Bytes to unpadded base64url. */
export function toBase64url(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function descriptors(list: DescriptorJSON[] | undefined): PublicKeyCredentialDescriptor[] | undefined {
  return list?.map((d) => ({ type: d.type, id: fromBase64url(d.id), ...(d.transports ? { transports: d.transports } : {}) }));
}

function creationOptions(json: CreationJSON): PublicKeyCredentialCreationOptions {
  const options: PublicKeyCredentialCreationOptions = {
    rp: json.rp,
    user: { id: fromBase64url(json.user.id), name: json.user.name, displayName: json.user.displayName },
    challenge: fromBase64url(json.challenge),
    pubKeyCredParams: json.pubKeyCredParams,
  };
  if (json.timeout !== undefined) options.timeout = json.timeout;
  const exclude = descriptors(json.excludeCredentials);
  if (exclude !== undefined) options.excludeCredentials = exclude;
  if (json.authenticatorSelection !== undefined) options.authenticatorSelection = json.authenticatorSelection;
  if (json.attestation !== undefined) options.attestation = json.attestation;
  if (json.extensions !== undefined) options.extensions = json.extensions;
  return options;
}

function requestOptions(json: RequestJSON): PublicKeyCredentialRequestOptions {
  const options: PublicKeyCredentialRequestOptions = { challenge: fromBase64url(json.challenge) };
  if (json.timeout !== undefined) options.timeout = json.timeout;
  if (json.rpId !== undefined) options.rpId = json.rpId;
  const allow = descriptors(json.allowCredentials);
  if (allow !== undefined) options.allowCredentials = allow;
  if (json.userVerification !== undefined) options.userVerification = json.userVerification;
  return options;
}

/** Asks the authenticator for an assertion; a DOMException when the person cancelled or has no passkey for it. */
async function assert(json: RequestJSON): Promise<Record<string, unknown>> {
  const credential = await navigator.credentials.get({ publicKey: requestOptions(json) });
  if (!(credential instanceof PublicKeyCredential)) throw new DOMException('No passkey', 'NotAllowedError');
  const response = credential.response as AuthenticatorAssertionResponse;
  return {
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response: {
      authenticatorData: toBase64url(response.authenticatorData),
      clientDataJSON: toBase64url(response.clientDataJSON),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
    },
    extensions: {},
  };
}

export async function listPasskeys(): Promise<PasskeyInfo[]> {
  const answer = await apiRequest<{ passkeys: PasskeyInfo[] }>('GET', '/api/auth/passkeys');
  return answer.passkeys;
}

/** Adds a passkey: the server checks the password, the authenticator makes the key. */
export async function addPasskey(password: string, name: string): Promise<PasskeyInfo> {
  const begun = await apiRequest<Challenge<CreationJSON>>('POST', '/api/auth/passkeys/register/begin', { password });
  const credential = await navigator.credentials.create({ publicKey: creationOptions(begun.options.publicKey) });
  if (!(credential instanceof PublicKeyCredential)) throw new DOMException('No passkey', 'NotAllowedError');
  const response = credential.response as AuthenticatorAttestationResponse;
  const answer = await apiRequest<{ passkey: PasskeyInfo }>('POST', '/api/auth/passkeys/register/finish', {
    challenge_id: begun.challenge_id,
    name,
    credential: {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toBase64url(response.attestationObject),
        clientDataJSON: toBase64url(response.clientDataJSON),
      },
      extensions: {},
    },
  });
  return answer.passkey;
}

export async function removePasskey(id: number): Promise<void> {
  await apiRequest('DELETE', `/api/auth/passkeys/${id}`);
}

/**
 * Signs in with a discoverable passkey (the authenticator picks the
 * account); the server sets the session cookie and answers as
 * `POST /api/auth/login` does.
 */
export async function signInWithPasskey<T>(): Promise<T> {
  const begun = await apiRequest<Challenge<RequestJSON>>('POST', '/api/auth/passkeys/sign-in/begin');
  const credential = await assert(begun.options.publicKey);
  return apiRequest<T>('POST', '/api/auth/passkeys/sign-in/finish', {
    challenge_id: begun.challenge_id,
    credential,
  });
}

/** A passkey's answer for the second step of a password sign-in (sent with the password to the login call). */
export async function passkeySecondFactor(username: string, password: string): Promise<SecondFactor> {
  const begun = await apiRequest<Challenge<RequestJSON>>('POST', '/api/auth/passkeys/second-factor/begin', { username, password });
  const credential = await assert(begun.options.publicKey);
  return { passkey: { challenge_id: begun.challenge_id, credential } };
}

/** Whether a failure is the browser's: cancelled, timed out, or no matching passkey. */
export function isCancelled(err: unknown): boolean {
  return err instanceof DOMException && (err.name === 'NotAllowedError' || err.name === 'AbortError');
}
