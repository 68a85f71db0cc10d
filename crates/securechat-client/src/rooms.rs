//! `/api/rooms`, `/api/dms`, `/api/users`: rooms, their channels and
//! members, direct messages, and finding people.
//!
//! The types keep what clients use and ignore any other field, so a server
//! that grows its answers does not break older clients.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::client::{Client, Empty, with_query};
use crate::error::Result;

/// Group room or direct message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    Room,
    Dm,
    /// A kind this client does not know yet.
    #[serde(other)]
    Other,
}

/// A member's role in a room, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
    Owner,
    /// A role this client does not know yet.
    #[serde(other)]
    Other,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
            Self::Other => "other",
        })
    }
}

/// The other person of a direct message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Peer {
    pub id: i64,
    pub username: String,
}

/// A room (or DM), with its channels when the answer carries them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Room {
    pub id: i64,
    pub kind: RoomKind,
    /// Empty for DMs: see [`Room::display_name`].
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub is_private: bool,
    /// The asker's role; `None` when not a member (directory listings).
    #[serde(default)]
    pub my_role: Option<Role>,
    #[serde(default)]
    pub member_count: i64,
    /// For DMs: the other person.
    #[serde(default)]
    pub dm_peer: Option<Peer>,
    /// Empty in the public directory, which lists rooms without channels.
    #[serde(default)]
    pub channels: Vec<Channel>,
}

impl Room {
    /// The room's name, or `@peer` for a direct message.
    pub fn display_name(&self) -> String {
        match (&self.kind, &self.dm_peer) {
            (RoomKind::Dm, Some(peer)) => format!("@{}", peer.username),
            _ => self.name.clone(),
        }
    }

    pub fn is_dm(&self) -> bool {
        self.kind == RoomKind::Dm
    }
}

/// A channel of a room.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Channel {
    pub id: i64,
    pub room_id: i64,
    pub name: String,
    #[serde(default)]
    pub topic: String,
    /// Encrypted channels carry ciphertext envelopes, never `content`.
    #[serde(default)]
    pub is_encrypted: bool,
    #[serde(default)]
    pub key_version: i64,
    /// The version a key rotation is moving to, while its maker shares it.
    #[serde(default)]
    pub pending_version: Option<i64>,
    /// Others' messages after my read marker; only in [`Client::rooms`].
    #[serde(default)]
    pub unread: Option<i64>,
}

/// A member of a room.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Member {
    pub user_id: i64,
    pub username: String,
    /// A bot account.
    #[serde(default)]
    pub is_bot: bool,
    pub role: Role,
    #[serde(default)]
    pub joined_at: String,
}

/// Another user, as anyone signed in may see them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PublicUser {
    pub id: i64,
    pub username: String,
    #[serde(default)]
    pub is_admin: bool,
    #[serde(default)]
    pub disabled: bool,
}

/// What [`Client::create_room`] creates.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NewRoom {
    /// 1-64 characters.
    pub name: String,
    /// At most 500 characters.
    pub description: String,
    /// Private rooms are invisible to non-members and joined by invitation.
    pub is_private: bool,
}

impl NewRoom {
    /// A public room with no description.
    pub fn public(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// A private room with no description.
    pub fn private(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            is_private: true,
            ..Self::default()
        }
    }

    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }
}

#[derive(Deserialize)]
struct RoomList {
    rooms: Vec<Room>,
}

/// `{room, channels}`: one room with its channels, separately.
#[derive(Deserialize)]
struct RoomBody {
    room: Room,
    #[serde(default)]
    channels: Vec<Channel>,
}

impl From<RoomBody> for Room {
    fn from(body: RoomBody) -> Self {
        Self {
            channels: body.channels,
            ..body.room
        }
    }
}

#[derive(Deserialize)]
struct MemberList {
    members: Vec<Member>,
}

#[derive(Deserialize)]
struct UserList {
    users: Vec<PublicUser>,
}

#[derive(Serialize)]
struct DmRequest {
    user_id: i64,
}

impl Client {
    /// My rooms and DMs, each with its channels and their unread counts.
    pub async fn rooms(&self) -> Result<Vec<Room>> {
        let list: RoomList = self.get("api/rooms").await?;
        Ok(list.rooms)
    }

    /// One room I can see, with its channels (no unread counts).
    pub async fn room(&self, room_id: i64) -> Result<Room> {
        let body: RoomBody = self.get(&format!("api/rooms/{room_id}")).await?;
        Ok(body.into())
    }

    /// The directory of public rooms whose name contains `query`
    /// (case-insensitive; empty: all), without channels.
    pub async fn public_rooms(&self, query: &str) -> Result<Vec<Room>> {
        let list: RoomList = self
            .get(&with_query("api/rooms/public", &[("q", query)]))
            .await?;
        Ok(list.rooms)
    }

    /// Creates a room with a `general` channel; I am its owner.
    ///
    /// Refusals: `invalid_name`, `invalid_text` (422).
    pub async fn create_room(&self, room: &NewRoom) -> Result<Room> {
        let body: RoomBody = self.post("api/rooms", Some(room)).await?;
        Ok(body.into())
    }

    /// Joins a public room (already a member: a success too).
    ///
    /// Refusals: `banned` (403); `room_not_found` (404) for unknown and
    /// private rooms alike.
    pub async fn join_room(&self, room_id: i64) -> Result<Room> {
        let body: RoomBody = self
            .post::<(), _>(&format!("api/rooms/{room_id}/join"), None)
            .await?;
        Ok(body.into())
    }

    /// Leaves a room.
    ///
    /// Refusals: `owner_must_transfer` (409), DMs (403), `room_not_found` (404).
    pub async fn leave_room(&self, room_id: i64) -> Result<()> {
        self.post::<(), Empty>(&format!("api/rooms/{room_id}/leave"), None)
            .await
            .map(|_| ())
    }

    /// The members of a room I can see, with their roles.
    pub async fn room_members(&self, room_id: i64) -> Result<Vec<Member>> {
        let list: MemberList = self.get(&format!("api/rooms/{room_id}/members")).await?;
        Ok(list.members)
    }

    /// The direct message with `user_id`, created on first use.
    ///
    /// Refusals: `cannot_target_self` (422), `user_not_found` (404).
    pub async fn open_dm(&self, user_id: i64) -> Result<Room> {
        let body: RoomBody = self.post("api/dms", Some(&DmRequest { user_id })).await?;
        Ok(body.into())
    }

    /// Active users whose name contains `query` (case-insensitive).
    pub async fn find_users(&self, query: &str) -> Result<Vec<PublicUser>> {
        let list: UserList = self.get(&with_query("api/users", &[("q", query)])).await?;
        Ok(list.users)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rooms_decode_with_unknown_fields_and_kinds() {
        let room: Room = serde_json::from_value(json!({
            "id": 3, "kind": "dm", "name": "", "description": "", "is_private": true,
            "created_at": "2025-01-01T00:00:00Z", "my_role": "member", "member_count": 2,
            "dm_peer": {"id": 7, "username": "bob"}, "something_new": [1, 2],
            "channels": [{"id": 9, "room_id": 3, "name": "general", "topic": "",
                "is_encrypted": true, "key_version": 0, "unread": 4, "extra": true}],
        }))
        .unwrap();
        assert!(room.is_dm());
        assert_eq!(room.display_name(), "@bob");
        assert_eq!(room.my_role, Some(Role::Member));
        assert_eq!(room.channels[0].unread, Some(4));

        let room: Room = serde_json::from_value(json!({
            "id": 4, "kind": "space", "name": "Lobby", "my_role": "overlord",
        }))
        .unwrap();
        assert_eq!(room.kind, RoomKind::Other);
        assert_eq!(room.my_role, Some(Role::Other));
        assert_eq!(room.display_name(), "Lobby");
        assert!(room.channels.is_empty());
    }

    #[test]
    fn a_room_body_keeps_its_channels() {
        let body: RoomBody = serde_json::from_value(json!({
            "room": {"id": 1, "kind": "room", "name": "X", "my_role": "owner", "member_count": 1},
            "channels": [{"id": 2, "room_id": 1, "name": "general"}],
        }))
        .unwrap();
        let room = Room::from(body);
        assert_eq!(room.channels.len(), 1);
        assert_eq!(room.my_role, Some(Role::Owner));
    }
}
