//! SQL for rooms, members, bans, channels, DMs and the audit log, one file
//! per area; this file holds the rows they share, the audit writer and the
//! one query that decides channel access. Every change
//! writes its audit entry in the same transaction, so the log cannot miss
//! a change that happened; every change that adds or removes a member
//! starts the key rotation it needs in that transaction too
//! ([`crate::keys::store::begin_rotations`]), so no announcement has to survive
//! for the rotation to happen.

use sqlx::FromRow;

use super::model::Role;
use crate::keys::store::{self as keys, PendingRotation};
use crate::storage::Db;
use crate::timeline::store as timeline;
use crate::with_db;

/// A room as stored.
#[derive(Debug, Clone, FromRow)]
pub struct RoomRow {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub created_at: i64,
    /// Messages older than this many days are purged; `None` keeps them.
    pub retention_days: Option<i64>,
}

/// A room with what the asking user needs to list it.
#[derive(Debug, Clone, FromRow)]
pub struct ListedRoom {
    #[sqlx(flatten)]
    pub room: RoomRow,
    /// The asker's role; `None` in the directory for rooms not joined.
    pub my_role: Option<String>,
    pub member_count: i64,
    /// For DMs: the other person.
    pub peer_id: Option<i64>,
    pub peer_username: Option<String>,
    /// The room's settings (`pins`, `mentions`).
    pub members_may_pin: bool,
    pub everyone_mention_max_members: Option<i64>,
}

/// The room settings a listing carries, from the tables of the domains
/// that own them (`pins`, `mentions`).
const ROOM_SETTINGS_R: &str = "\
    COALESCE((SELECT ps.members_may_pin FROM pin_settings ps WHERE ps.room_id = r.id), FALSE) \
      AS members_may_pin, \
    (SELECT ms.everyone_mention_max_members FROM mention_settings ms WHERE ms.room_id = r.id) \
      AS everyone_mention_max_members";

/// A channel as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ChannelRow {
    pub id: i64,
    pub room_id: i64,
    pub name: String,
    pub topic: String,
    pub is_encrypted: bool,
    pub key_version: i64,
    /// The version a key rotation is moving to, until its rotator shares it.
    pub pending_version: Option<i64>,
    pub created_at: i64,
    /// Messages sent now disappear this many seconds later; `None`: off.
    pub disappearing_seconds: Option<i64>,
}

/// A member with their name.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    pub user_id: i64,
    pub username: String,
    pub is_bot: bool,
    pub role: String,
    pub joined_at: i64,
}

/// A ban with the names involved.
#[derive(Debug, Clone, FromRow)]
pub struct BanRow {
    pub user_id: i64,
    pub username: String,
    pub banned_by: Option<i64>,
    pub reason: String,
    pub created_at: i64,
}

/// An audit log entry as stored.
#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub room_id: i64,
    pub actor_id: Option<i64>,
    pub actor_username: Option<String>,
    pub action: String,
    pub target_user_id: Option<i64>,
    pub target_username: Option<String>,
    pub detail: String,
    pub created_at: i64,
}

/// An audit entry to write alongside a change.
#[derive(Debug, Clone)]
pub struct Audit {
    pub room_id: i64,
    pub actor_id: Option<i64>,
    pub action: &'static str,
    pub target_user_id: Option<i64>,
    pub detail: String,
    pub at: i64,
    /// The signed membership log entry describing this change, if the room
    /// has a log: stored in the same transaction.
    pub log: Option<super::log::LogAppend>,
    /// Timeline events of this change besides the membership one its
    /// action implies ([`timeline::Kind::of_membership_action`]).
    pub timeline: Vec<timeline::Entry>,
}

impl Audit {
    pub fn new(room_id: i64, actor_id: i64, action: &'static str, at: i64) -> Self {
        Self {
            room_id,
            actor_id: Some(actor_id),
            action,
            target_user_id: None,
            detail: String::new(),
            at,
            log: None,
            timeline: Vec::new(),
        }
    }

    /// Also shows `kind` in the timeline of `channel_id` (`None`: of every
    /// channel of the room), with `detail` (a new name or topic).
    pub fn timeline(
        mut self,
        channel_id: Option<i64>,
        kind: timeline::Kind,
        detail: impl Into<String>,
    ) -> Self {
        self.timeline.push(timeline::Entry {
            channel_id,
            kind,
            detail: detail.into(),
        });
        self
    }

    /// Every timeline event to write with this change: the membership
    /// event its action implies, then those added by [`Audit::timeline`].
    pub fn timeline_entries(&self) -> Vec<timeline::Entry> {
        let membership =
            timeline::Kind::of_membership_action(self.action).map(|kind| timeline::Entry {
                channel_id: None,
                kind,
                detail: String::new(),
            });
        membership
            .into_iter()
            .chain(self.timeline.iter().cloned())
            .collect()
    }

    /// Records `entry` in the room's membership log with the change.
    pub fn log(mut self, entry: Option<super::log::LogAppend>) -> Self {
        self.log = entry;
        self
    }

    pub fn target(mut self, user_id: i64) -> Self {
        self.target_user_id = Some(user_id);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// Writes an audit entry inside the transaction `$tx`.
macro_rules! write_audit {
    ($tx:expr, $audit:expr) => {
        sqlx::query(
            "INSERT INTO room_audit (room_id, actor_id, action, target_user_id, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($audit.room_id)
        .bind($audit.actor_id)
        .bind($audit.action)
        .bind($audit.target_user_id)
        .bind(&$audit.detail)
        .bind($audit.at)
        .execute(&mut *$tx)
        .await?;
        for event in $audit.timeline_entries() {
            sqlx::query(crate::timeline::store::INSERT)
                .bind($audit.room_id)
                .bind(event.channel_id)
                .bind(event.kind.as_str())
                .bind($audit.actor_id)
                .bind($audit.target_user_id)
                .bind(&event.detail)
                .bind($audit.at)
                .execute(&mut *$tx)
                .await?;
        }
        if let Some(entry) = &$audit.log {
            sqlx::query(crate::rooms::log::INSERT)
                .bind($audit.room_id)
                .bind(entry.seq)
                .bind(entry.actor_id)
                .bind(&entry.entry)
                .bind($audit.at)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

const ROOM_COLUMNS_R: &str =
    "r.id, r.kind, r.name, r.description, r.is_private, r.created_at, r.retention_days";

macro_rules! select_channels {
    ($tail:literal) => {
        concat!(
            "SELECT c.id, c.room_id, c.name, c.topic, c.is_encrypted, c.key_version, c.pending_version, c.created_at, c.disappearing_seconds \
             FROM channels c ",
            $tail
        )
    };
}

/// A channel, its room and the user's role there, in one query (every
/// message sent is checked this way).
pub async fn channel_access(
    db: &Db,
    channel_id: i64,
    user_id: i64,
) -> Result<Option<(ChannelRow, RoomRow, Option<Role>)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Found {
        #[sqlx(flatten)]
        channel: ChannelRow,
        room_kind: String,
        room_name: String,
        room_description: String,
        room_is_private: bool,
        room_created_at: i64,
        room_retention_days: Option<i64>,
        role: Option<String>,
    }
    let found: Option<Found> = with_db!(db, read, |pool| {
        sqlx::query_as::<_, Found>(
            "SELECT c.id, c.room_id, c.name, c.topic, c.is_encrypted, c.key_version, \
             c.pending_version, c.created_at, c.disappearing_seconds, r.kind AS room_kind, r.name AS room_name, \
             r.description AS room_description, r.is_private AS room_is_private, \
             r.created_at AS room_created_at, r.retention_days AS room_retention_days, m.role \
             FROM channels c JOIN rooms r ON r.id = c.room_id \
             LEFT JOIN room_members m ON m.room_id = c.room_id AND m.user_id = $2 \
             WHERE c.id = $1",
        )
        .bind(channel_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })?;
    Ok(found.map(|f| {
        let room = RoomRow {
            id: f.channel.room_id,
            kind: f.room_kind,
            name: f.room_name,
            description: f.room_description,
            is_private: f.room_is_private,
            created_at: f.room_created_at,
            retention_days: f.room_retention_days,
        };
        (f.channel, room, f.role.as_deref().and_then(Role::parse))
    }))
}

/// `DELETE`s `user_id` from `room_id` in `tx` unless `who` keeps them.
macro_rules! delete_member {
    ($tx:expr, $room_id:expr, $user_id:expr, $who:expr) => {{
        let sql = match $who {
            Removable::NotTheOwner => {
                "DELETE FROM room_members WHERE room_id = $1 AND user_id = $2 AND role <> 'owner'"
            }
            Removable::Anyone => "DELETE FROM room_members WHERE room_id = $1 AND user_id = $2",
        };
        let removed = sqlx::query(sql)
            .bind($room_id)
            .bind($user_id)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        if removed > 0 {
            None
        } else {
            let role: Option<String> = sqlx::query_scalar(
                "SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2",
            )
            .bind($room_id)
            .bind($user_id)
            .fetch_optional(&mut *$tx)
            .await?;
            Some(if role.is_some() {
                Removal::Owner
            } else {
                Removal::NotMember
            })
        }
    }};
}

mod audit;
mod bans;
mod channels;
mod dms;
pub mod export;
mod members;
mod rooms;

pub use audit::*;
pub use bans::*;
pub use channels::*;
pub use dms::*;
pub use members::*;
pub use rooms::*;

#[cfg(test)]
mod tests {
    use super::{
        Audit, Circle, Current, Removable, Removal, add_member, ban, channel, circle_of,
        create_channel, create_room, remove_member, set_roles,
    };
    use crate::keys::store::PendingRotation;
    use crate::rooms::model::Role;
    use crate::storage::Db;

    /// A fresh SQLite database (kept while the directory lives) with these
    /// users, and their ids in order.
    async fn db_with(names: &[&str]) -> (tempfile::TempDir, Db, Vec<i64>) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/chat.db", dir.path().display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let mut ids = Vec::new();
        for name in names {
            let user = crate::auth::admin::add_demo_user(&db, name, "password123", false)
                .await
                .unwrap();
            ids.push(user.id);
        }
        (dir, db, ids)
    }

    /// Rooms once each, ascending; peers once each however many rooms are
    /// shared, never the user; nobody outside the user's rooms.
    #[tokio::test]
    async fn circle_lists_rooms_and_peers_once() {
        let (_dir, db, ids) = db_with(&["alice", "bob", "carol", "dave"]).await;
        let [alice, bob, carol, dave] = ids[..] else {
            unreachable!()
        };
        let (one, _) = create_room(&db, "One", "", false, alice, 1).await.unwrap();
        let (two, _) = create_room(&db, "Two", "", false, alice, 1).await.unwrap();
        let (other, _) = create_room(&db, "Other", "", false, dave, 1).await.unwrap();
        for (room, user) in [(one.id, bob), (two.id, bob), (two.id, carol)] {
            add_member(
                &db,
                room,
                user,
                Role::Member,
                Audit::new(room, alice, "join", 1),
            )
            .await
            .unwrap();
        }
        let mut rooms = vec![one.id, two.id];
        rooms.sort_unstable();
        assert_eq!(
            circle_of(&db, alice).await.unwrap(),
            Circle {
                rooms,
                peers: vec![bob, carol],
            }
        );
        assert_eq!(
            circle_of(&db, dave).await.unwrap(),
            Circle {
                rooms: vec![other.id],
                peers: vec![],
            }
        );
        let nobody = crate::auth::admin::add_demo_user(&db, "erin", "password123", false)
            .await
            .unwrap();
        assert_eq!(circle_of(&db, nobody.id).await.unwrap(), Circle::default());
    }

    /// A change's timeline line is written in its transaction: when a
    /// later statement of it fails (here the membership log entry's seq is
    /// taken), neither the member nor the line is stored.
    #[tokio::test]
    async fn a_failed_change_leaves_no_timeline_line() {
        let (_dir, db, ids) = db_with(&["alice", "bob"]).await;
        let [alice, bob] = ids[..] else {
            unreachable!()
        };
        let (room, _) = create_room(&db, "R", "", false, alice, 1).await.unwrap();
        let Db::Sqlite { writer, .. } = &db else {
            unreachable!()
        };
        sqlx::query(crate::rooms::log::INSERT)
            .bind(room.id)
            .bind(1_i64)
            .bind(alice)
            .bind("x")
            .bind(1_i64)
            .execute(writer)
            .await
            .unwrap();
        let lines = || async {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM timeline_events")
                .fetch_one(writer)
                .await
                .unwrap()
        };
        let taken = crate::rooms::log::LogAppend {
            seq: 1,
            actor_id: alice,
            entry: "y".into(),
        };
        let audit = Audit::new(room.id, alice, "member_added", 2)
            .target(bob)
            .log(Some(taken));
        assert!(
            add_member(&db, room.id, bob, Role::Member, audit)
                .await
                .is_err()
        );
        assert_eq!(lines().await, 0);
        let audit = Audit::new(room.id, alice, "member_added", 3).target(bob);
        add_member(&db, room.id, bob, Role::Member, audit)
            .await
            .unwrap();
        assert_eq!(lines().await, 1);
    }

    /// Every change of members starts, in its own transaction, the
    /// rotation of each encrypted channel of the room that has a key, as
    /// `begin_rotations` says; a role change and a removal of a
    /// non-member start none.
    #[tokio::test]
    async fn membership_changes_start_rotations_in_their_transaction() {
        let (_dir, db, ids) = db_with(&["alice", "bob", "carol"]).await;
        let [alice, bob, carol] = ids[..] else {
            unreachable!()
        };
        let audit = |room, action| Audit::new(room, alice, action, 1);
        let (room, plain) = create_room(&db, "R", "", false, alice, 1).await.unwrap();
        let room = room.id;
        let keyed = create_channel(&db, room, "keyed", "", true, audit(room, "c"))
            .await
            .unwrap();
        let unkeyed = create_channel(&db, room, "unkeyed", "", true, audit(room, "c"))
            .await
            .unwrap();
        let (other, _) = create_room(&db, "Other", "", false, alice, 1)
            .await
            .unwrap();
        let elsewhere = create_channel(&db, other.id, "keyed", "", true, audit(other.id, "c"))
            .await
            .unwrap();
        let Db::Sqlite { writer, .. } = &db else {
            unreachable!()
        };
        for id in [plain.id, keyed.id, elsewhere.id] {
            sqlx::query("UPDATE channels SET key_version = 3 WHERE id = $1")
                .bind(id)
                .execute(writer)
                .await
                .unwrap();
        }
        let pending = |id| {
            let db = db.clone();
            async move { channel(&db, id).await.unwrap().unwrap().pending_version }
        };
        let only = |version| {
            vec![PendingRotation {
                channel_id: keyed.id,
                version,
            }]
        };

        let rotations = add_member(&db, room, bob, Role::Member, audit(room, "a"))
            .await
            .unwrap();
        assert_eq!(rotations, only(4));
        for id in [plain.id, unkeyed.id, elsewhere.id] {
            assert_eq!(pending(id).await, None, "channel {id}");
        }
        // Unclaimed, the pending version stays.
        let rotations = add_member(&db, room, carol, Role::Member, audit(room, "a"))
            .await
            .unwrap();
        assert_eq!(rotations, only(4));
        assert!(
            set_roles(
                &db,
                room,
                &[(bob, Role::Admin, Current::NotOwner)],
                audit(room, "r")
            )
            .await
            .unwrap()
        );
        assert_eq!(pending(keyed.id).await, Some(4));

        // Claimed, it is left behind for the next number, unclaimed.
        sqlx::query(
            "UPDATE channels SET pending_creator_id = $1, pending_claimed_at = 1 WHERE id = $2",
        )
        .bind(bob)
        .bind(keyed.id)
        .execute(writer)
        .await
        .unwrap();
        let rotations = remove_member(&db, room, carol, Removable::NotTheOwner, audit(room, "k"))
            .await
            .unwrap();
        assert_eq!(rotations, Removal::Removed(only(5)));
        assert_eq!(
            crate::keys::store::pending_claim(&db, keyed.id)
                .await
                .unwrap(),
            None
        );

        assert_eq!(
            remove_member(&db, room, carol, Removable::NotTheOwner, audit(room, "k"))
                .await
                .unwrap(),
            Removal::NotMember
        );
        assert_eq!(
            ban(&db, room, carol, "", audit(room, "b")).await.unwrap(),
            Removal::NotMember,
            "banning a non-member removes nobody"
        );
        assert_eq!(
            ban(&db, room, bob, "", audit(room, "b")).await.unwrap(),
            Removal::Removed(only(5))
        );
        assert_eq!(pending(elsewhere.id).await, None);
    }
}
