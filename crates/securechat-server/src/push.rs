//! Every event the server pushes to sockets, and to whom: one typed
//! [`ServerEvent`] per wire name, with its payload, and an [`Audience`].
//!
//! Nothing else in the crate names a pushed event: socket handlers, the
//! bridge from room events, presence, session closing, and HTTP handlers
//! (through the [`Notifier`](crate::notify::Notifier)) all build a
//! `(ServerEvent, Audience)` pair, which `realtime::deliver` sends. The
//! JSON of each payload is the wire contract (the seed's field names); the
//! web client's event map (`web/src/chat/events.ts`) is checked against
//! the names and top-level fields listed here, through the generated
//! `web/src/chat/server-events.gen.ts` (see the tests below).

use serde::Serialize;
use utoipa::ToSchema;

use crate::messages::view::{MessageView, ThreadSummary};
use crate::profiles::view::ProfileView;
use crate::resources::view::ResourceView;
use crate::rooms::model::Role;
use crate::rooms::view::ChannelView;

/// Who receives a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every socket of these users.
    Users(Vec<i64>),
    /// Every socket of every member of a chat room.
    Room(i64),
    /// Every socket of every member of any of these chat rooms.
    Rooms(Vec<i64>),
    /// The sockets that joined a channel (the acting socket included).
    Channel(i64),
    // Relative to the socket that acts: only a socket handler has one.
    /// The acting socket alone.
    Me,
    /// The sockets that joined a channel, but the acting one.
    OthersInChannel(i64),
    /// The acting user's other sockets.
    MyOtherSockets(i64),
    /// Every socket of the members of these chat rooms, but the acting one.
    OthersInRooms(Vec<i64>),
}

/// Declares [`ServerEvent`] from `Variant(Payload) = "wire_name"` lines:
/// the enum (serialized as its payload alone), [`ServerEvent::name`] and
/// [`ServerEvent::NAMES`], and, for the tests, each payload's schema.
macro_rules! server_events {
    ($( $(#[$doc:meta])* $variant:ident($payload:ty) = $name:literal, )*) => {
        /// An event pushed to sockets. Its JSON is its payload's.
        #[derive(Debug, Clone, Serialize)]
        #[serde(untagged)]
        pub enum ServerEvent {
            $( $(#[$doc])* $variant($payload), )*
        }

        impl ServerEvent {
            /// Every wire name, in declaration order.
            #[cfg_attr(not(test), expect(dead_code, reason = "read by the tests"))]
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            /// The event's name on the wire.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => $name, )*
                }
            }

            /// Each event's name and payload schema.
            #[cfg(test)]
            fn schemas() -> Vec<(&'static str, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)> {
                vec![$( ($name, <$payload as utoipa::PartialSchema>::schema()), )*]
            }
        }
    };
}

server_events! {
    // Messages, to the sockets that joined the channel.
    NewMessage(MessageView) = "new_message",
    MessageEdited(MessageView) = "message_edited",
    MessageDeleted(MessageDeleted) = "message_deleted",
    /// Messages removed by retention or their disappearing time, a batch
    /// of one channel (`retention/`): drop them, no tombstone.
    MessagesDeleted(MessagesDeleted) = "messages_deleted",
    Typing(Typing) = "typing",
    ReactionUpdated(ReactionUpdated) = "reaction_updated",
    /// A user's unread count changed (their other sockets).
    Unread(Unread) = "unread",
    // Presence.
    Presence(Presence) = "presence",
    PresenceSnapshot(PresenceSnapshot) = "presence_snapshot",
    SessionEnded(SessionEnded) = "session_ended",
    // Rooms, to their members.
    MemberJoined(MemberJoined) = "member_joined",
    MemberLeft(MemberLeft) = "member_left",
    MemberRoleChanged(MemberRoleChanged) = "member_role_changed",
    ChannelCreated(ChannelChanged) = "channel_created",
    ChannelUpdated(ChannelChanged) = "channel_updated",
    ChannelDeleted(ChannelDeleted) = "channel_deleted",
    RoomUpdated(RoomUpdated) = "room_updated",
    RoomDeleted(RoomRef) = "room_deleted",
    /// New system events of the room's timeline were stored (`timeline/`):
    /// fetch `GET /api/channels/{id}/events` after the last one held.
    TimelineUpdated(RoomRef) = "timeline_updated",
    ResourceAdded(ResourceChanged) = "resource_added",
    ResourceUpdated(ResourceChanged) = "resource_updated",
    ResourceRemoved(ResourceRemoved) = "resource_removed",
    // Keys.
    KeyRotationNeeded(KeyRotationNeeded) = "key_rotation_needed",
    ChannelKeyShare(ChannelKeyShare) = "channel_key_share",
    ChannelKeyRequest(ChannelKeyRequest) = "channel_key_request",
    PublicKeyChanged(PublicKeyChanged) = "public_key_changed",
    MembershipLogStarted(RoomRef) = "membership_log_started",
    ChannelRegistered(ChannelRef) = "channel_registered",
    // Pins and saved messages (`pins/`).
    /// A message was pinned or unpinned (the room's members).
    PinsUpdated(PinsUpdated) = "pins_updated",
    /// A room setting changed (members may pin, channel-wide mentions):
    /// read the room again (the room's members).
    RoomSettingsUpdated(RoomRef) = "room_settings_updated",
    /// The person saved or unsaved a message (their own sockets).
    SavedUpdated(SavedUpdated) = "saved_updated",
    // Threads (`threads/`).
    /// A thread got or lost a reply: its root's new summary (the room's members).
    ThreadUpdated(ThreadUpdated) = "thread_updated",
    /// The person's unread count or follow state in a thread changed (their own sockets).
    ThreadUnread(ThreadUnread) = "thread_unread",
    // Profiles (`profiles/`).
    /// A person's display name, status, availability or avatar changed
    /// (their sockets and everyone who shares a room with them).
    ProfileUpdated(ProfileView) = "profile_updated",
    /// One of the person's reminders fell due (their sockets).
    ReminderDue(ReminderDue) = "reminder_due",
}

/// `message_deleted`, also the ack of `delete_message`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageDeleted {
    pub id: i64,
    pub channel_id: i64,
    pub deleted_by: i64,
}

/// `messages_deleted`: the purge job deleted these messages of one channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessagesDeleted {
    pub room_id: i64,
    pub channel_id: i64,
    pub ids: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Typing {
    pub channel_id: i64,
    pub user_id: i64,
    pub username: String,
}

/// `reaction_updated`, also the ack of `react`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReactionUpdated {
    pub message_id: i64,
    pub channel_id: i64,
    pub user_id: i64,
    pub emoji: String,
    /// The user's reaction is now on (else it was taken back).
    pub on: bool,
    pub reactions: Vec<ReactionCount>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: i64,
}

/// `unread`, also the ack of `mark_read`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Unread {
    pub channel_id: i64,
    pub unread: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Presence {
    pub user_id: i64,
    pub online: bool,
}

/// Who among those a new socket shares a room with is online.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PresenceSnapshot {
    pub online: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SessionEnded {
    pub message: &'static str,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberJoined {
    pub room_id: i64,
    pub user_id: i64,
    pub username: Option<String>,
    pub role: Role,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberLeft {
    pub room_id: i64,
    pub user_id: i64,
    /// `left`, `kicked` or `banned`.
    pub reason: &'static str,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberRoleChanged {
    pub room_id: i64,
    pub user_id: i64,
    pub role: Role,
}

/// `channel_created` and `channel_updated`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelChanged {
    pub room_id: i64,
    pub channel: ChannelView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelDeleted {
    pub room_id: i64,
    pub channel_id: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoomUpdated {
    pub room_id: i64,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    /// The room's retention in days; null keeps messages forever.
    pub retention_days: Option<i64>,
}

/// `room_deleted`, `membership_log_started`, `timeline_updated` and
/// `room_settings_updated`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoomRef {
    pub room_id: i64,
}

/// `channel_registered`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelRef {
    pub room_id: i64,
    pub channel_id: i64,
}

/// `resource_added` and `resource_updated`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceChanged {
    pub room_id: i64,
    pub resource: ResourceView,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResourceRemoved {
    pub room_id: i64,
    pub resource_id: i64,
    pub channel_id: Option<i64>,
}

/// The seed's `key_rotation_needed` (`channel_id`, `new_version`, `reason`,
/// `members`), plus `room_id` and `rotator_id`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyRotationNeeded {
    pub channel_id: i64,
    pub room_id: i64,
    pub new_version: i64,
    pub reason: String,
    pub members: Vec<RotationMember>,
    /// The online member asked to make the version, if any.
    pub rotator_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RotationMember {
    pub id: i64,
    pub username: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelKeyShare {
    pub channel_id: i64,
    pub encrypted_key: String,
    pub key_version: i64,
    pub is_key_rotation: bool,
    pub sender_id: i64,
    /// The recipient's device a format-3 share is sealed to (the share is
    /// also in that device's mailbox); absent for formats 1 and 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_id: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelKeyRequest {
    pub channel_id: i64,
    pub room_id: i64,
    pub requester_id: i64,
    pub requester_username: String,
    pub request_id: i64,
    pub key_version: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PublicKeyChanged {
    pub user_id: i64,
    pub username: String,
    pub fingerprint: String,
}

/// `pins_updated`: fetch `GET /api/channels/{id}/pins` for the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PinsUpdated {
    pub room_id: i64,
    pub channel_id: i64,
    pub message_id: i64,
    /// Pinned now (else unpinned).
    pub pinned: bool,
    /// Who pinned or unpinned it.
    pub user_id: i64,
}

/// `reminder_due`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReminderDue {
    pub id: i64,
    pub channel_id: i64,
    /// The note; `null` in an encrypted channel.
    pub note: Option<String>,
    /// When it was due, in ms since the epoch.
    pub due_at: i64,
}

/// `saved_updated`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SavedUpdated {
    pub message_id: i64,
    /// Saved now (else removed).
    pub saved: bool,
}

/// `thread_updated`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThreadUpdated {
    pub room_id: i64,
    pub channel_id: i64,
    pub root_id: i64,
    pub thread: ThreadSummary,
}

/// `thread_unread`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThreadUnread {
    pub room_id: i64,
    pub channel_id: i64,
    pub root_id: i64,
    pub following: bool,
    /// Replies by others after the person's read marker in the thread.
    pub unread: i64,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::fmt::Write;

    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::Schema;

    use super::ServerEvent;

    /// Where the web client's copy of the event list is generated.
    const GENERATED: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../web/src/chat/server-events.gen.ts"
    );

    /// The top-level field names of a payload schema.
    fn fields(schema: &RefOr<Schema>) -> Vec<String> {
        match schema {
            RefOr::T(Schema::Object(object)) => object.properties.keys().cloned().collect(),
            _ => panic!("an event payload is not an object schema"),
        }
    }

    /// The TypeScript module the web client checks its event map against.
    fn typescript() -> String {
        let mut out = String::from(
            "// Generated from crates/securechat-server/src/push.rs by its tests\n\
             // (`cargo test -p securechat-server --lib push`, with\n\
             // SECURECHAT_WRITE_EVENTS=1 to rewrite it). Do not edit.\n\n\
             /** Every event the server pushes to sockets. */\n\
             export const SERVER_EVENTS = [\n",
        );
        for name in ServerEvent::NAMES {
            writeln!(out, "  '{name}',").unwrap();
        }
        out.push_str(
            "] as const;\n\nexport type ServerEventName = (typeof SERVER_EVENTS)[number];\n\n\
             /** The top-level fields of each event's payload. */\n\
             export interface ServerEventFields {\n",
        );
        for (name, schema) in ServerEvent::schemas() {
            let fields: Vec<String> = fields(&schema).iter().map(|f| format!("'{f}'")).collect();
            writeln!(out, "  {name}: {};", fields.join(" | ")).unwrap();
        }
        out.push_str("}\n");
        out
    }

    #[test]
    fn names_are_unique_and_snake_case() {
        let unique: HashSet<_> = ServerEvent::NAMES.iter().collect();
        assert_eq!(unique.len(), ServerEvent::NAMES.len());
        for name in ServerEvent::NAMES {
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name}"
            );
        }
    }

    /// The web client's list of events and payload fields is generated
    /// from [`ServerEvent`]; `web/src/chat/events.ts` fails to typecheck
    /// unless its event map has exactly these names and fields.
    #[test]
    fn the_web_client_list_of_events_is_current() {
        let want = typescript();
        if std::env::var_os("SECURECHAT_WRITE_EVENTS").is_some() {
            std::fs::write(GENERATED, &want).unwrap();
        }
        let have = std::fs::read_to_string(GENERATED).unwrap_or_default();
        assert!(
            have == want,
            "{GENERATED} is stale: run this test with SECURECHAT_WRITE_EVENTS=1, \
             then make web/src/chat/events.ts agree (npm run typecheck)"
        );
    }

    #[test]
    fn payloads_serialize_as_themselves() {
        let event = ServerEvent::RoomDeleted(super::RoomRef { room_id: 7 });
        assert_eq!(event.name(), "room_deleted");
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"room_id": 7})
        );
    }
}
