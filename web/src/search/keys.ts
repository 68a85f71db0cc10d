// The keys of the local search index, in WebCrypto. The E2EE core derives
// one 32-byte key per device from the device's secret key (HKDF with its own
// label, `search_index_key`); here it is split, again with HKDF, into an
// AES-GCM key that seals every record and posting list, and an HMAC key that
// blinds the index's tokens. Both are non-extractable: page script can use
// them but never read them back, and the raw bytes are wiped once imported.

/** The index's keys, in memory only. */
export interface IndexKeys {
  /** AES-256-GCM: records, posting lists, the backfill's progress. */
  seal: CryptoKey;
  /** HMAC-SHA-256: a trigram's token. */
  blind: CryptoKey;
  /** A token of a fixed text: tells whether a stored index was written under these keys. */
  check: string;
}

const SEAL_INFO = 'securechat/web/search-index/seal';
const BLIND_INFO = 'securechat/web/search-index/blind';
const CHECK_TEXT = 'securechat/web/search-index/check';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes of unpadded base64url (the core's wire form). */
export function fromWire(wire: string): Uint8Array<ArrayBuffer> {
  const b64 = wire.replace(/-/gu, '+').replace(/_/gu, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Imports the core's search key (wire form) as the index's keys; the raw bytes are zeroed. */
export async function importIndexKeys(wire: string): Promise<IndexKeys> {
  const raw = fromWire(wire);
  try {
    const base = await crypto.subtle.importKey('raw', raw, 'HKDF', false, ['deriveKey']);
    const params = (info: string) => ({ name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(32), info: encoder.encode(info) });
    const seal = await crypto.subtle.deriveKey(params(SEAL_INFO), base, { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    const blindKey = await crypto.subtle.deriveKey(params(BLIND_INFO), base, { name: 'HMAC', hash: 'SHA-256', length: 256 }, false, ['sign']);
    return { seal, blind: blindKey, check: await blind(blindKey, CHECK_TEXT) };
  } finally {
    raw.fill(0);
  }
}

/** The blinded token of `text`: the first 16 bytes of its HMAC, in hex (no plaintext character survives in it). */
export async function blind(key: CryptoKey, text: string): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(text)));
  let hex = '';
  for (let i = 0; i < 16; i++) hex += mac[i]!.toString(16).padStart(2, '0');
  return hex;
}

/** What is stored for a sealed value: a fresh 96-bit nonce and the AES-GCM ciphertext. */
export interface Sealed {
  iv: Uint8Array<ArrayBuffer>;
  data: ArrayBuffer;
}

/**
 * Seals `value` (as JSON) bound to `where` (the store and key it is kept
 * under, as AES-GCM's associated data), so a record moved to another key or
 * store does not open.
 */
export async function seal(key: CryptoKey, where: string, value: unknown): Promise<Sealed> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(where) }, key, encoder.encode(JSON.stringify(value)));
  return { iv, data };
}

/** Opens a value of `seal`; throws when it was not sealed under `key` at `where`. */
export async function open<T>(key: CryptoKey, where: string, sealed: Sealed): Promise<T> {
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: sealed.iv, additionalData: encoder.encode(where) }, key, sealed.data);
  return JSON.parse(decoder.decode(plain)) as T;
}
