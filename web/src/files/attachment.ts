// Pure rules about attachments: the note an encrypted file message carries,
// which types may be shown as images, sizes for people, and upload progress.
//
// In an encrypted channel the server stores only ciphertext without a name
// or type, so everything needed to open the file (its key, name, type and
// the SHA-256 of the plaintext, checked after decryption) travels inside the
// encrypted message as the JSON note defined here.

/** What an encrypted file message's plaintext says about its file. */
export interface FileNote {
  file_id: number;
  /** The per-file key from `generateFileKey` (base64url). */
  key: string;
  name: string;
  type: string;
  size: number;
  /** Hex SHA-256 of the plaintext bytes. */
  sha256: string;
  caption: string;
}

/** Marks the JSON as a file note rather than a text message that happens to be JSON. */
const NOTE_KIND = 'securechat.file.v1';

/** Raster image types shown inline; never SVG or anything that can run script. */
const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

export function encodeFileNote(note: FileNote): string {
  return JSON.stringify({ kind: NOTE_KIND, ...note });
}

/**
 * The file note in a decrypted message, or null when the text is not one or
 * names another file than the one the message is attached to (a note must
 * never open a file it was not sent with).
 */
export function parseFileNote(text: string, attachedFileId: number | null): FileNote | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  if (v['kind'] !== NOTE_KIND) return null;
  const { file_id, key, name, type, size, sha256, caption } = v;
  if (typeof file_id !== 'number' || typeof key !== 'string' || typeof name !== 'string' || typeof type !== 'string') return null;
  if (typeof size !== 'number' || typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return null;
  if (attachedFileId === null || file_id !== attachedFileId) return null;
  return { file_id, key, name, type, size, sha256, caption: typeof caption === 'string' ? caption : '' };
}

export function isInlineImage(contentType: string): boolean {
  return INLINE_IMAGE_TYPES.has(contentType.toLowerCase());
}

/** "532 B", "12.4 KB", "3.1 MB". */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return Array.from(view, (b) => b.toString(16).padStart(2, '0')).join('');
}

export type UploadPhase = 'encrypting' | 'uploading' | 'sending' | 'failed';

/** One upload shown in the composer. */
export interface Upload {
  id: string;
  channel_id: number;
  name: string;
  sent: number;
  total: number;
  phase: UploadPhase;
  error?: string;
}

/** Whole percent sent, 0 to 100; a zero-byte file counts as done once sent. */
export function percent(upload: Pick<Upload, 'sent' | 'total'>): number {
  if (upload.total <= 0) return upload.sent > 0 ? 100 : 0;
  return Math.max(0, Math.min(100, Math.floor((upload.sent / upload.total) * 100)));
}

/** The list with one upload changed; an upload never goes backwards in bytes sent. */
export function updateUpload(list: readonly Upload[], id: string, change: Partial<Omit<Upload, 'id'>>): Upload[] {
  return list.map((u) => {
    if (u.id !== id) return u;
    const next = { ...u, ...change };
    if (change.sent !== undefined && change.phase === undefined && change.sent < u.sent) next.sent = u.sent;
    return next;
  });
}

/** Whether a resource URL may be shown as a link: http(s) only. */
export function isWebLink(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}
