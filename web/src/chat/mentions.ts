// Mentions as the page uses them: whether a message mentions me, whether
// it holds a channel-wide mention (`@channel`, `@here`, `@everyone`,
// `@room`), and whether I may use one. The rule itself is written once, in
// Rust (crates/securechat-search's `mention.rs`, the one the server's
// pushes and digests follow), and runs here through the E2EE core's
// WebAssembly module; in encrypted channels a channel-wide mention is
// counted by the core's `mention` operation, which checks the sender
// against the room's verified membership log.

import type { Room } from '../api/rooms.ts';
import { core, isRunning, loadedWasm, type Wasm } from '../e2ee/core.ts';

function rules(): Wasm | null {
  return loadedWasm();
}

let names: ReadonlySet<string> | null = null;

/** The channel-wide names, without `@` (empty until the module is loaded). */
export function channelWideNames(): ReadonlySet<string> {
  const wasm = rules();
  if (wasm === null) return new Set();
  names ??= new Set(JSON.parse(wasm.channelWideNames()) as string[]);
  return names;
}

/** Whether `text` mentions `username`, or everyone, outside code (false until the module is loaded). */
export function mentions(text: string, username: string): boolean {
  return rules()?.mentions(text, username) ?? false;
}

/** Whether `text` holds a channel-wide mention outside code. */
export function mentionsChannel(text: string): boolean {
  return rules()?.mentionsChannel(text) ?? false;
}

/** The room facts the size rule reads. */
export type MentionRoom = Pick<Room, 'id' | 'kind' | 'my_role' | 'member_count' | 'everyone_mention_max_members'>;

/**
 * Whether I may use a channel-wide mention in `room`. Plaintext channels:
 * the server's facts, which the server enforces anyway (this only spares a
 * refused send and hides the suggestion). Encrypted channels: the core's
 * answer from the verified log.
 */
export function mayMentionChannel(room: MentionRoom, encrypted: boolean, myId: number): boolean {
  const max = room.everyone_mention_max_members ?? null;
  if (max === null) return true;
  if (encrypted && isRunning()) {
    return core<{ allowed: boolean }>('mention', { room_id: room.id, sender_id: myId, text: '', max_members: max }).allowed;
  }
  return room.my_role === 'owner' || room.my_role === 'admin' || room.member_count <= max;
}

/**
 * Whether a message `text` from `senderId` mentions me. In an encrypted
 * channel a channel-wide mention counts only from someone the verified log
 * lets use one (the core decides); elsewhere the server already refused
 * those it should.
 */
export function mentionsMe(text: string, username: string, senderId: number | null, room: MentionRoom | null, encrypted: boolean): boolean {
  if (!encrypted) return mentions(text, username);
  // Without the core (or the room), only a mention by name is certain.
  if (room === null || senderId === null || !isRunning()) return rules()?.mentionsByName(text, username) ?? false;
  const max = room.everyone_mention_max_members ?? null;
  return core<{ mentions_me: boolean }>('mention', { room_id: room.id, sender_id: senderId, text, username, max_members: max }).mentions_me;
}
