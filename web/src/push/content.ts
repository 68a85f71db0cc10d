// What a push notification says, as pure functions of the push payload the
// server sent (crates/securechat-server/src/webpush/payload.rs) and, for an
// encrypted channel, of what this device decrypted: unit-tested without a
// browser, and used by the service worker (src/sw/push.ts).
//
// A plaintext channel's push carries the sender, the names and (unless the
// person asked for none) the first 100 characters. An encrypted channel's
// carries ids only: the worker fetches the envelope and decrypts it here on
// the device, so its text never travels through a push service.

import { parseFileNote } from '../files/attachment.ts';

/** A push about a message in a plaintext channel. */
export interface PlainPush {
  kind: 'plain';
  message_id: number;
  channel_id: number;
  room_id: number;
  room: string;
  channel: string;
  sender: string;
  /** Absent when the person chose no message text, or for a bare file. */
  text?: string;
}

/** A push about a message in an encrypted channel: ids only. */
export interface SealedPush {
  kind: 'sealed';
  message_id: number;
  channel_id: number;
  room_id: number;
}

export type PushPayload = PlainPush | SealedPush;

/** What a notification shows and carries. */
export interface NotificationContent {
  title: string;
  body: string;
  /** One per channel, so a channel's notifications replace each other instead of piling up. */
  tag: string;
  data: NotificationData;
}

/** What a notification's click needs: where to open the app. */
export interface NotificationData {
  channelId: number;
  messageId: number;
}

/** The translations the content needs (the worker's own i18next instance). */
export type Translate = (key: string, values?: Record<string, string>) => string;

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
const isText = (v: unknown): v is string => typeof v === 'string';

/** The push payload, or null when it is not one this client understands (nothing is then shown from it). */
export function parsePayload(raw: unknown): PushPayload | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const p = raw as Record<string, unknown>;
  const { message_id, channel_id, room_id } = p;
  if (p['type'] !== 'message' || !isId(message_id) || !isId(channel_id) || !isId(room_id)) return null;
  if (p['encrypted'] === true) return { kind: 'sealed', message_id, channel_id, room_id };
  const { room, channel, sender, text } = p;
  if (!isText(room) || !isText(channel) || !isText(sender)) return null;
  const plain: PlainPush = { kind: 'plain', message_id, channel_id, room_id, room, channel, sender };
  if (isText(text)) plain.text = text;
  return plain;
}

/** The tag of a channel's notifications. */
export function channelTag(channelId: number): string {
  return `securechat-channel-${channelId}`;
}

function content(title: string, body: string, channelId: number, messageId: number): NotificationContent {
  return { title, body, tag: channelTag(channelId), data: { channelId, messageId } };
}

/** A plaintext channel's notification: "alice in #general", the text (or nothing) below. */
export function plainNotification(push: PlainPush, t: Translate): NotificationContent {
  return content(t('push.inChannel', { name: push.sender, channel: push.channel }), push.text ?? '', push.channel_id, push.message_id);
}

/** An encrypted message this device read: "alice in #secrets", or the sender alone for a DM. */
export function decryptedNotification(push: SealedPush, read: { sender: string; channel: string; dm: boolean; text: string }, t: Translate): NotificationContent {
  const title = read.dm ? t('push.fromPerson', { name: read.sender }) : t('push.inChannel', { name: read.sender, channel: read.channel });
  return content(title, read.text, push.channel_id, push.message_id);
}

/** An encrypted message this device could not read (no key, no identity, the server unreachable). */
export function unreadableNotification(push: SealedPush, t: Translate): NotificationContent {
  return content(t('push.newEncrypted'), '', push.channel_id, push.message_id);
}

/**
 * The text a decrypted message shows in a notification: the text itself,
 * or for a file message (whose plaintext is the file note, holding the
 * file's key) only its caption or its name. Null when a file message's note
 * does not match the message's file.
 */
export function shownText(text: string, what: string | null, fileId: number | null, fileLabel: (name: string) => string): string | null {
  if (fileId === null || what === 'message') return text;
  const note = parseFileNote(text, fileId);
  if (note === null) return null;
  return note.caption !== '' ? note.caption : fileLabel(note.name);
}
