// The events the server pushes to sockets, with their payloads: the map the
// page's socket is typed with (`Socket<ServerEvents>`), so every listener
// gets its payload's type.
//
// It is checked against the server: `server-events.gen.ts` is generated from
// the server's `ServerEvent` (crates/securechat-server/src/push.rs; its tests
// fail when the file is stale), and this module does not typecheck unless
// the map has exactly the server's event names, each payload exactly the
// server's top-level fields.

import type { Message } from '../api/messages.ts';
import type { ThreadSummary } from '../api/threads.ts';
import type { ThreadUnread } from '../threads/state.ts';
import type { Resource } from '../api/files.ts';
import type { Profile } from '../api/profiles.ts';
import type { ReminderDue } from '../api/reminders.ts';
import type { Channel, Role } from '../api/rooms.ts';
import type { KeyRequest, RotationEvent, ShareEvent } from '../e2ee/engine.ts';
import type { ReactionEvent } from './reactions.ts';
import type { ServerEventFields, ServerEventName } from './server-events.gen.ts';

export interface ServerEvents {
  new_message: (m: Message) => void;
  message_edited: (m: Message) => void;
  message_deleted: (e: { id: number; channel_id: number; deleted_by: number }) => void;
  /** The server's retention purge deleted these messages of one channel. */
  messages_deleted: (e: { room_id: number; channel_id: number; ids: number[] }) => void;
  typing: (e: { channel_id: number; user_id: number; username: string }) => void;
  reaction_updated: (e: ReactionEvent) => void;
  unread: (e: { channel_id: number; unread: number }) => void;
  presence: (e: { user_id: number; online: boolean }) => void;
  presence_snapshot: (e: { online: number[] }) => void;
  session_ended: (e: { message: string }) => void;
  member_joined: (e: { room_id: number; user_id: number; username: string | null; role: Role }) => void;
  member_left: (e: { room_id: number; user_id: number; reason: string }) => void;
  member_role_changed: (e: { room_id: number; user_id: number; role: Role }) => void;
  channel_created: (e: { room_id: number; channel: Channel }) => void;
  channel_updated: (e: { room_id: number; channel: Channel }) => void;
  channel_deleted: (e: { room_id: number; channel_id: number }) => void;
  room_updated: (e: {
    room_id: number;
    name: string;
    description: string;
    is_private: boolean;
    retention_days: number | null;
  }) => void;
  room_deleted: (e: { room_id: number }) => void;
  timeline_updated: (e: { room_id: number }) => void;
  resource_added: (e: { room_id: number; resource: Resource }) => void;
  resource_updated: (e: { room_id: number; resource: Resource }) => void;
  resource_removed: (e: { room_id: number; resource_id: number; channel_id: number | null }) => void;
  key_rotation_needed: (e: RotationEvent) => void;
  channel_key_share: (e: ShareEvent) => void;
  channel_key_request: (e: KeyRequest) => void;
  public_key_changed: (e: { user_id: number; username: string; fingerprint: string }) => void;
  membership_log_started: (e: { room_id: number }) => void;
  channel_registered: (e: { room_id: number; channel_id: number }) => void;
  pins_updated: (e: {
    room_id: number;
    channel_id: number;
    message_id: number;
    pinned: boolean;
    user_id: number;
  }) => void;
  room_settings_updated: (e: { room_id: number }) => void;
  saved_updated: (e: { message_id: number; saved: boolean }) => void;
  thread_updated: (e: { room_id: number; channel_id: number; root_id: number; thread: ThreadSummary }) => void;
  thread_unread: (e: ThreadUnread) => void;
  /** Someone who shares a room with me (or I) changed their profile. */
  profile_updated: (e: Profile) => void;
  /** One of my reminders fell due. */
  reminder_due: (e: ReminderDue) => void;
}

/** The payload of event `K`. */
export type Payload<K extends keyof ServerEvents> = Parameters<ServerEvents[K]>[0];

// The agreement with the server, checked by the compiler.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Events whose payload fields differ from the server's (`never` when none do). */
export type FieldMismatches = { [K in ServerEventName]: Same<keyof Payload<K>, ServerEventFields[K]> extends true ? never : K }[ServerEventName];
export const namesAgree: Same<keyof ServerEvents, ServerEventName> = true;
export const fieldsAgree: Same<FieldMismatches, never> = true;
