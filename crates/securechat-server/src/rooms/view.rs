//! What the API shows of rooms, channels, members and audit entries.

use serde::Serialize;
use utoipa::ToSchema;

use super::model::{Role, RoomKind};
use super::store::{AuditRow, BanRow, ChannelRow, ListedRoom, MemberRow, RoomRow};
use crate::profiles::view::ProfileView;
use crate::storage::rfc3339;

/// The other person of a DM.
#[derive(Debug, Serialize, ToSchema)]
pub struct Peer {
    pub id: i64,
    pub username: String,
}

/// A room.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomView {
    pub id: i64,
    pub kind: RoomKind,
    /// Empty for DMs: show `dm_peer` instead.
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub created_at: String,
    /// The asker's role, or null if not a member.
    pub my_role: Option<Role>,
    pub member_count: i64,
    pub dm_peer: Option<Peer>,
    /// Messages older than this many days are deleted; null keeps them
    /// forever (`PUT /api/rooms/{id}/retention`).
    pub retention_days: Option<i64>,
    /// Members (not only admins and the owner) may pin.
    pub members_may_pin: bool,
    /// In a room of more members than this, only the owner and admins may
    /// use `@channel`, `@here`, `@everyone` or `@room`; null: anyone may.
    pub everyone_mention_max_members: Option<i64>,
}

impl RoomView {
    pub fn new(room: &RoomRow, my_role: Option<Role>, member_count: i64) -> Self {
        Self {
            id: room.id,
            kind: RoomKind::parse(&room.kind),
            name: room.name.clone(),
            description: room.description.clone(),
            is_private: room.is_private,
            created_at: rfc3339(room.created_at),
            my_role,
            member_count,
            dm_peer: None,
            retention_days: room.retention_days,
            members_may_pin: false,
            everyone_mention_max_members: None,
        }
    }

    pub fn listed(row: &ListedRoom) -> Self {
        let mut view = Self::new(
            &row.room,
            row.my_role.as_deref().and_then(Role::parse),
            row.member_count,
        );
        view.members_may_pin = row.members_may_pin;
        view.everyone_mention_max_members = row.everyone_mention_max_members;
        if let (Some(id), Some(username)) = (row.peer_id, &row.peer_username) {
            view.dm_peer = Some(Peer {
                id,
                username: username.clone(),
            });
        }
        view
    }
}

/// A channel.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelView {
    pub id: i64,
    pub room_id: i64,
    pub name: String,
    pub topic: String,
    /// Fixed at creation; encrypted channels accept only ciphertext.
    pub is_encrypted: bool,
    /// Current channel-key version (0 before the first key).
    pub key_version: i64,
    /// The version a key rotation is moving to, until its maker shares it
    /// (messages wait until then).
    pub pending_version: Option<i64>,
    pub created_at: String,
    /// Messages sent now disappear this many seconds later; null: off
    /// (`PUT /api/channels/{id}/disappearing`). In an encrypted channel the
    /// members' authoritative timer is the signed membership log's.
    pub disappearing_seconds: Option<i64>,
    /// In `GET /api/rooms`: others' messages after my read marker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<i64>,
}

impl From<&ChannelRow> for ChannelView {
    fn from(c: &ChannelRow) -> Self {
        Self {
            id: c.id,
            room_id: c.room_id,
            name: c.name.clone(),
            topic: c.topic.clone(),
            is_encrypted: c.is_encrypted,
            key_version: c.key_version,
            pending_version: c.pending_version,
            created_at: rfc3339(c.created_at),
            disappearing_seconds: c.disappearing_seconds,
            unread: None,
        }
    }
}

/// A room with its channels.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomWithChannels {
    #[serde(flatten)]
    pub room: RoomView,
    pub channels: Vec<ChannelView>,
}

/// A member.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: i64,
    pub username: String,
    /// A bot account.
    pub is_bot: bool,
    pub role: Role,
    pub joined_at: String,
    /// In member lists: the person's display name, status, availability
    /// and avatar, when they set any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileView>,
}

impl From<&MemberRow> for MemberView {
    fn from(m: &MemberRow) -> Self {
        Self {
            user_id: m.user_id,
            is_bot: m.is_bot,
            username: m.username.clone(),
            role: Role::parse(&m.role).unwrap_or(Role::Member),
            joined_at: rfc3339(m.joined_at),
            profile: None,
        }
    }
}

/// A ban.
#[derive(Debug, Serialize, ToSchema)]
pub struct BanView {
    pub user_id: i64,
    pub username: String,
    pub banned_by: Option<i64>,
    pub reason: String,
    pub created_at: String,
}

impl From<&BanRow> for BanView {
    fn from(b: &BanRow) -> Self {
        Self {
            user_id: b.user_id,
            username: b.username.clone(),
            banned_by: b.banned_by,
            reason: b.reason.clone(),
            created_at: rfc3339(b.created_at),
        }
    }
}

/// One audit log entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: i64,
    pub room_id: i64,
    pub actor_id: Option<i64>,
    pub actor_username: Option<String>,
    /// e.g. `member_kicked`, `role_changed`, `channel_deleted`.
    pub action: String,
    pub target_user_id: Option<i64>,
    pub target_username: Option<String>,
    pub detail: String,
    pub created_at: String,
}

impl From<&AuditRow> for AuditView {
    fn from(a: &AuditRow) -> Self {
        Self {
            id: a.id,
            room_id: a.room_id,
            actor_id: a.actor_id,
            actor_username: a.actor_username.clone(),
            action: a.action.clone(),
            target_user_id: a.target_user_id,
            target_username: a.target_username.clone(),
            detail: a.detail.clone(),
            created_at: rfc3339(a.created_at),
        }
    }
}
