// Generated from crates/securechat-server/src/push.rs by its tests
// (`cargo test -p securechat-server --lib push`, with
// SECURECHAT_WRITE_EVENTS=1 to rewrite it). Do not edit.

/** Every event the server pushes to sockets. */
export const SERVER_EVENTS = [
  'new_message',
  'message_edited',
  'message_deleted',
  'messages_deleted',
  'typing',
  'reaction_updated',
  'unread',
  'presence',
  'presence_snapshot',
  'session_ended',
  'member_joined',
  'member_left',
  'member_role_changed',
  'channel_created',
  'channel_updated',
  'channel_deleted',
  'room_updated',
  'room_deleted',
  'timeline_updated',
  'resource_added',
  'resource_updated',
  'resource_removed',
  'key_rotation_needed',
  'channel_key_share',
  'channel_key_request',
  'public_key_changed',
  'membership_log_started',
  'channel_registered',
  'pins_updated',
  'room_settings_updated',
  'saved_updated',
  'thread_updated',
  'thread_unread',
  'profile_updated',
  'reminder_due',
] as const;

export type ServerEventName = (typeof SERVER_EVENTS)[number];

/** The top-level fields of each event's payload. */
export interface ServerEventFields {
  new_message: 'also_send_to_channel' | 'channel_id' | 'client_msg_id' | 'content' | 'created_at' | 'deleted' | 'edited_at' | 'envelope' | 'expires_at' | 'file' | 'id' | 'key_version' | 'reactions' | 'reply_to' | 'sender_id' | 'sender_is_bot' | 'sender_username' | 'thread' | 'thread_root_id' | 'webhook';
  message_edited: 'also_send_to_channel' | 'channel_id' | 'client_msg_id' | 'content' | 'created_at' | 'deleted' | 'edited_at' | 'envelope' | 'expires_at' | 'file' | 'id' | 'key_version' | 'reactions' | 'reply_to' | 'sender_id' | 'sender_is_bot' | 'sender_username' | 'thread' | 'thread_root_id' | 'webhook';
  message_deleted: 'channel_id' | 'deleted_by' | 'id';
  messages_deleted: 'channel_id' | 'ids' | 'room_id';
  typing: 'channel_id' | 'user_id' | 'username';
  reaction_updated: 'channel_id' | 'emoji' | 'message_id' | 'on' | 'reactions' | 'user_id';
  unread: 'channel_id' | 'unread';
  presence: 'online' | 'user_id';
  presence_snapshot: 'online';
  session_ended: 'message';
  member_joined: 'role' | 'room_id' | 'user_id' | 'username';
  member_left: 'reason' | 'room_id' | 'user_id';
  member_role_changed: 'role' | 'room_id' | 'user_id';
  channel_created: 'channel' | 'room_id';
  channel_updated: 'channel' | 'room_id';
  channel_deleted: 'channel_id' | 'room_id';
  room_updated: 'description' | 'is_private' | 'name' | 'retention_days' | 'room_id';
  room_deleted: 'room_id';
  timeline_updated: 'room_id';
  resource_added: 'resource' | 'room_id';
  resource_updated: 'resource' | 'room_id';
  resource_removed: 'channel_id' | 'resource_id' | 'room_id';
  key_rotation_needed: 'channel_id' | 'members' | 'new_version' | 'reason' | 'room_id' | 'rotator_id';
  channel_key_share: 'channel_id' | 'device_id' | 'encrypted_key' | 'is_key_rotation' | 'key_version' | 'sender_id';
  channel_key_request: 'channel_id' | 'key_version' | 'request_id' | 'requester_id' | 'requester_username' | 'room_id';
  public_key_changed: 'fingerprint' | 'user_id' | 'username';
  membership_log_started: 'room_id';
  channel_registered: 'channel_id' | 'room_id';
  pins_updated: 'channel_id' | 'message_id' | 'pinned' | 'room_id' | 'user_id';
  room_settings_updated: 'room_id';
  saved_updated: 'message_id' | 'saved';
  thread_updated: 'channel_id' | 'room_id' | 'root_id' | 'thread';
  thread_unread: 'channel_id' | 'following' | 'room_id' | 'root_id' | 'unread';
  profile_updated: 'availability' | 'avatar_url' | 'display_name' | 'status' | 'user_id';
  reminder_due: 'channel_id' | 'due_at' | 'id' | 'note';
}
