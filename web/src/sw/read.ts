// Reading an encrypted message in the service worker, for its notification:
// the envelope from the server, the keys from this browser's IndexedDB, and
// the decision from the E2EE core (crates/securechat-e2ee) running here as
// WebAssembly — the same core and the same `read` operation as the page, so
// no rule of what to trust is written twice.
//
// Read-only: the core's state document is read in a read-only IndexedDB
// transaction (one value, so the read is never half of a page's write) into
// a machine of its own that lives for one message and is then dropped. Its
// changes (the replay record `read` keeps) are never saved: the page stays
// the only writer of the state, records the message when it shows it, and no
// write of the worker can race one of the page's.

import init, { Machine } from '../../wasm/securechat_e2ee.js';
import type { MessageFields } from '../api/message-fields.ts';
import { KeyValue } from '../e2ee/kv.ts';

// The page's API modules speak through `api/http.ts`, whose errors are worded
// by the page's i18n (a DOM module): the worker asks the few GETs it needs
// itself, and names only the fields it reads.

/** The signed-in person. */
export interface User {
  id: number;
  username: string;
}

/** A message as the history API answers it, as far as the worker reads it. */
export interface Message extends MessageFields {
  file?: { id: number } | null;
}

interface RoomWithChannels {
  id: number;
  kind: 'room' | 'dm';
  everyone_mention_max_members: number | null;
  channels: { id: number; name: string }[];
}

/** A same-origin GET with the session cookie; throws on anything but a JSON success. */
export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** The core's answer for one message, as far as a notification needs it. */
type Shown = { kind: 'verified'; text: string; what: string | null } | { kind: string };

let loaded: Promise<unknown> | null = null;

function loadCore(): Promise<unknown> {
  loaded ??= init().catch((err: unknown) => {
    loaded = null;
    throw err;
  });
  return loaded;
}

/** The signed-in person, by the session cookie the worker's requests carry. */
export async function whoAmI(): Promise<User> {
  return (await getJson<{ user: User }>('/api/auth/me')).user;
}

/** The message `id` of `channelId` (the history page that starts at it), or null when it is gone or not mine to read. */
export async function fetchMessage(channelId: number, id: number): Promise<Message | null> {
  const page = await getJson<{ messages: Message[] }>(`/api/channels/${channelId}/messages?after=${id - 1}&limit=1`);
  const message = page.messages[0];
  return message !== undefined && message.id === id && !message.deleted ? message : null;
}

/** The room and channel of `channelId` among my rooms, or null. */
export async function channelOf(channelId: number): Promise<{ room: RoomWithChannels; channel: string } | null> {
  for (const room of (await getJson<{ rooms: RoomWithChannels[] }>('/api/rooms')).rooms) {
    const channel = room.channels.find((c) => c.id === channelId);
    if (channel !== undefined) return { room, channel: channel.name };
  }
  return null;
}

/**
 * Decrypts and checks `message` with this browser's keys: the text, what
 * the sender says it is and whether it mentions me (the core's `mention`,
 * which counts a channel-wide mention only from someone the verified log
 * lets use one in `room`), or null when the core does not show it as
 * verified text (no key or no pinned sender here yet, a warning, no identity).
 */
export async function readEncrypted(user: User, message: Message, room: RoomWithChannels): Promise<{ text: string; what: string | null; mentionsMe: boolean } | null> {
  const store = await KeyValue.openExisting(`securechat-e2ee-${user.id}`);
  if (store === null) return null;
  let doc: string | undefined;
  try {
    doc = await store.get<string>('state');
  } finally {
    store.close();
  }
  if (doc === undefined || doc === '') return null;
  await loadCore();
  const machine = new Machine(doc, self.location.origin, user.id);
  try {
    const facts = { id: message.id, channel_id: message.channel_id, sender_id: message.sender_id, content: message.content, envelope: message.envelope, key_version: message.key_version, deleted: message.deleted, reply_to: message.reply_to, resource: false, thread_root_id: message.thread_root_id ?? null, also_send_to_channel: message.also_send_to_channel === true };
    const shown = JSON.parse(machine.call('read', JSON.stringify({ message: facts, encrypted: true }))) as Shown;
    if (shown.kind !== 'verified' || !('text' in shown)) return null;
    const mention = { room_id: room.id, sender_id: message.sender_id, text: shown.text, username: user.username, max_members: room.everyone_mention_max_members };
    const { mentions_me } = JSON.parse(machine.call('mention', JSON.stringify(mention))) as { mentions_me: boolean };
    return { text: shown.text, what: shown.what, mentionsMe: mentions_me };
  } finally {
    machine.free();
  }
}
