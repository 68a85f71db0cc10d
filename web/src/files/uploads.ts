// Uploading files from the composer and opening the files of messages.
//
// Plaintext channels: the raw file goes up with its name and the server
// posts the message. Encrypted channels: the file is encrypted here under a
// fresh per-file key, the ciphertext goes up without a name, and then an
// encrypted message whose plaintext is a file note (key, name, type, SHA-256)
// is sent through the ordinary outbox. Opening an encrypted file downloads
// the ciphertext, decrypts it, checks the SHA-256 from the note and hands
// the page a `blob:` URL (allowed by the page's `img-src blob:`).

import { effect, signal } from '@preact/signals';
import { describeError } from '../api/errors.ts';
import { downloadBytes, UploadCancelled, uploadFile } from '../api/files.ts';
import type { Attachment } from '../api/messages.ts';
import type { Channel } from '../api/rooms.ts';
import { me, receivePosted, sendFileMessage } from '../chat/store.ts';
import { E2eeError, requireReady } from '../e2ee/engine.ts';
import { encodeFileNote, type FileNote, toHex, type Upload, updateUpload } from './attachment.ts';
import { t } from '../i18n/index.ts';

/** Uploads in progress or failed, shown above the composer. */
export const uploads = signal<readonly Upload[]>([]);

/** Opened (decrypted or fetched) files by file id: a `blob:` URL, or why it failed. */
export const opened = signal<Readonly<Record<number, { url: string } | { error: string }>>>({});

const controllers = new Map<string, AbortController>();

// Signing out drops the decrypted files: their blob: URLs are revoked, so no
// plaintext outlives the session in this page.
effect(() => {
  if (me.value !== null) return;
  for (const entry of Object.values(opened.peek())) if ('url' in entry) URL.revokeObjectURL(entry.url);
  if (Object.keys(opened.peek()).length > 0) opened.value = {};
  for (const controller of controllers.values()) controller.abort();
  controllers.clear();
  if (uploads.peek().length > 0) uploads.value = [];
});
const opening = new Set<number>();

function change(id: string, patch: Partial<Omit<Upload, 'id'>>): void {
  uploads.value = updateUpload(uploads.value, id, patch);
}

/** Removes a finished, failed or cancelled upload from the list. */
export function dismissUpload(id: string): void {
  controllers.delete(id);
  uploads.value = uploads.value.filter((u) => u.id !== id);
}

/** Stops an upload in flight (the server keeps nothing of a cut-off body). */
export function cancelUpload(id: string): void {
  controllers.get(id)?.abort();
  dismissUpload(id);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** Uploads `file` to `channel` and posts it as a message (with `caption`). */
export async function startUpload(channel: Channel, file: File, caption = ''): Promise<void> {
  const id = crypto.randomUUID();
  const controller = new AbortController();
  controllers.set(id, controller);
  uploads.value = [...uploads.value, { id, channel_id: channel.id, name: file.name, sent: 0, total: file.size, phase: channel.is_encrypted ? 'encrypting' : 'uploading' }];
  const onProgress = (sent: number, total: number) => change(id, { sent, total });
  try {
    if (!channel.is_encrypted) {
      const answer = await uploadFile(channel.id, file, { name: file.name, caption, clientMsgId: crypto.randomUUID(), onProgress, signal: controller.signal });
      if (answer.message !== null) receivePosted(answer.message);
      dismissUpload(id);
      return;
    }
    const { sc } = requireReady();
    const plain = new Uint8Array(await file.arrayBuffer());
    const key = sc.generateFileKey();
    const sealed = sc.encryptFile(key, plain);
    const digest = await sha256Hex(plain);
    if (controller.signal.aborted) return;
    change(id, { phase: 'uploading', sent: 0, total: sealed.byteLength });
    const answer = await uploadFile(channel.id, new Blob([sealed as Uint8Array<ArrayBuffer>]), { onProgress, signal: controller.signal });
    change(id, { phase: 'sending' });
    const note: FileNote = { file_id: answer.file.id, key, name: file.name, type: file.type, size: file.size, sha256: digest, caption };
    sendFileMessage(channel.id, encodeFileNote(note), answer.file.id, `📎 ${file.name}`);
    dismissUpload(id);
  } catch (err) {
    if (err instanceof UploadCancelled || controller.signal.aborted) {
      dismissUpload(id);
      return;
    }
    const message = err instanceof E2eeError ? err.message : describeError(err);
    change(id, { phase: 'failed', error: message });
  }
}

/** Forgets a failed attempt to open an encrypted file and tries again. */
export function retryEncrypted(file: Attachment, note: FileNote): Promise<void> {
  const entry = opened.value[file.id];
  if (entry !== undefined && 'error' in entry) {
    const rest = { ...opened.value };
    delete rest[file.id];
    opened.value = rest;
  }
  return openEncrypted(file, note);
}

/**
 * Opens an encrypted file: downloads the ciphertext, decrypts it with the
 * note's key, checks the plaintext's SHA-256 and keeps a `blob:` URL for it.
 */
export async function openEncrypted(file: Attachment, note: FileNote): Promise<void> {
  if (opening.has(file.id) || opened.value[file.id] !== undefined) return;
  opening.add(file.id);
  let result: { url: string } | { error: string };
  try {
    const { sc } = requireReady();
    const sealed = await downloadBytes(file.url);
    let plain: Uint8Array;
    try {
      plain = sc.decryptFile(note.key, sealed);
    } catch {
      throw new E2eeError(t('files.notDecrypting'));
    }
    if ((await sha256Hex(plain)) !== note.sha256) throw new E2eeError(t('files.hashMismatch'));
    result = { url: URL.createObjectURL(new Blob([plain as Uint8Array<ArrayBuffer>], { type: note.type === '' ? 'application/octet-stream' : note.type })) };
  } catch (err) {
    result = { error: err instanceof E2eeError ? err.message : describeError(err) };
  } finally {
    opening.delete(file.id);
  }
  opened.value = { ...opened.value, [file.id]: result };
}
