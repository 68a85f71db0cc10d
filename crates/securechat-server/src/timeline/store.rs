//! SQL for timeline events: the insert every writer runs inside its own
//! transaction, and keyset pages of a channel's events (its own and its
//! room's).

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// An event to record with a change, inside its transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `None`: shown in every channel of the room (membership).
    pub channel_id: Option<i64>,
    pub kind: Kind,
    /// A new name or topic; empty otherwise.
    pub detail: String,
}

/// What happened. The wire names are the JSON `kind` of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SystemEventKind)]
pub enum Kind {
    Joined,
    Added,
    Left,
    Removed,
    Banned,
    ChannelCreated,
    ChannelRenamed,
    TopicChanged,
    RoomRenamed,
    KeyRotated,
    /// A channel's disappearing timer changed; the detail is the seconds
    /// (`0`: off).
    DisappearingChanged,
    /// The room's retention changed; the detail is the days (`0`: forever).
    RetentionChanged,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Joined => "joined",
            Self::Added => "added",
            Self::Left => "left",
            Self::Removed => "removed",
            Self::Banned => "banned",
            Self::ChannelCreated => "channel_created",
            Self::ChannelRenamed => "channel_renamed",
            Self::TopicChanged => "topic_changed",
            Self::RoomRenamed => "room_renamed",
            Self::KeyRotated => "key_rotated",
            Self::DisappearingChanged => "disappearing_changed",
            Self::RetentionChanged => "retention_changed",
        }
    }

    /// The kind stored as `s`; `None` for none this server writes.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    const ALL: [Self; 12] = [
        Self::Joined,
        Self::Added,
        Self::Left,
        Self::Removed,
        Self::Banned,
        Self::ChannelCreated,
        Self::ChannelRenamed,
        Self::TopicChanged,
        Self::RoomRenamed,
        Self::KeyRotated,
        Self::DisappearingChanged,
        Self::RetentionChanged,
    ];

    /// The membership event a room audit action stands for, if any: every
    /// membership change writes its audit entry, so deriving the event
    /// from it records all of them, whichever path made the change.
    pub fn of_membership_action(action: &str) -> Option<Self> {
        Some(match action {
            "member_joined" => Self::Joined,
            "member_added" => Self::Added,
            "member_left" => Self::Left,
            "member_kicked" | "member_removed_by_server" => Self::Removed,
            "member_banned" => Self::Banned,
            _ => return None,
        })
    }
}

/// Inserts one event: room, channel, kind, actor, target, detail, time.
/// Writers run it inside the transaction of the change it describes.
pub const INSERT: &str = "INSERT INTO timeline_events \
    (room_id, channel_id, kind, actor_id, target_id, detail, created_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Records that channel `$1` moved to key version `$2` (as text), made
/// by `$3` at `$4`; run by the share that makes the version current.
pub const INSERT_KEY_ROTATED: &str = "INSERT INTO timeline_events \
    (room_id, channel_id, kind, actor_id, detail, created_at) \
    SELECT room_id, id, 'key_rotated', $3, $2, $4 FROM channels WHERE id = $1";

/// An event as stored, with the names of the people involved.
#[derive(Debug, Clone, FromRow)]
pub struct EventRow {
    pub id: i64,
    pub room_id: i64,
    pub channel_id: Option<i64>,
    pub kind: String,
    pub actor_id: Option<i64>,
    pub actor_username: Option<String>,
    pub target_id: Option<i64>,
    pub target_username: Option<String>,
    pub detail: String,
    pub created_at: i64,
}

macro_rules! select_events {
    ($order:literal) => {
        concat!(
            "SELECT e.id, e.room_id, e.channel_id, e.kind, e.actor_id, \
               ua.username AS actor_username, e.target_id, ut.username AS target_username, \
               e.detail, e.created_at \
             FROM timeline_events e \
             JOIN channels c ON c.id = $1 AND c.room_id = e.room_id \
             LEFT JOIN users ua ON ua.id = e.actor_id \
             LEFT JOIN users ut ON ut.id = e.target_id \
             WHERE (e.channel_id IS NULL OR e.channel_id = $1) AND ",
            $order
        )
    };
}

/// Where a page starts, by event id.
#[derive(Debug, Clone, Copy)]
pub enum From {
    /// Older than this id, newest first (scrolling back).
    Before(i64),
    /// Newer than this id, oldest first (catching up).
    After(i64),
}

/// Up to `limit` events of channel `channel_id` (its own and its room's)
/// from `from`.
pub async fn page(
    db: &Db,
    channel_id: i64,
    from: From,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    let (sql, cursor) = match from {
        From::Before(id) => (select_events!("e.id < $2 ORDER BY e.id DESC LIMIT $3"), id),
        From::After(id) => (select_events!("e.id > $2 ORDER BY e.id ASC LIMIT $3"), id),
    };
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, EventRow>(sql)
            .bind(channel_id)
            .bind(cursor)
            .bind(limit)
            .fetch_all(pool)
            .await
    })
}

#[cfg(test)]
mod tests {
    use super::Kind;

    /// Every kind reads back from its stored name, which is its JSON name.
    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        assert_eq!(Kind::parse("room_created"), None);
        assert_eq!(
            Kind::of_membership_action("member_kicked"),
            Some(Kind::Removed)
        );
        assert_eq!(Kind::of_membership_action("role_changed"), None);
    }
}
