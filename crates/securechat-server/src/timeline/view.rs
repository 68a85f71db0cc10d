//! What the API shows of a timeline event.

use serde::Serialize;
use utoipa::ToSchema;

use super::store::{EventRow, Kind};
use crate::storage::rfc3339;

/// A person named by an event, as they are called now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventPerson {
    pub id: i64,
    pub username: String,
}

/// One system event of a channel's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    /// Increases in commit order across the server: the cursor of pages.
    pub id: i64,
    pub room_id: i64,
    /// Null for a room-wide event (membership, room renamed), shown in
    /// every channel of the room.
    pub channel_id: Option<i64>,
    pub kind: Kind,
    /// Who made the change; null when the server did (a disabled account
    /// removed) or the account is gone.
    pub actor: Option<EventPerson>,
    /// Whom it concerned (joined, added, left, removed, banned).
    pub target: Option<EventPerson>,
    /// The new name (`channel_created`, `channel_renamed`,
    /// `room_renamed`), the new topic (`topic_changed`) or the new key
    /// version (`key_rotated`); empty otherwise.
    pub detail: String,
    pub created_at: String,
}

fn person(id: Option<i64>, username: Option<&String>) -> Option<EventPerson> {
    Some(EventPerson {
        id: id?,
        username: username?.clone(),
    })
}

impl EventView {
    /// `None` for a kind this server does not write (none are stored).
    pub fn from_row(row: &EventRow) -> Option<Self> {
        Some(Self {
            id: row.id,
            room_id: row.room_id,
            channel_id: row.channel_id,
            kind: Kind::parse(&row.kind)?,
            actor: person(row.actor_id, row.actor_username.as_ref()),
            target: person(row.target_id, row.target_username.as_ref()),
            detail: row.detail.clone(),
            created_at: rfc3339(row.created_at),
        })
    }
}
