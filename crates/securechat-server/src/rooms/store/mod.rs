//! SQL for rooms, members, bans, channels and the audit log. Every change
//! writes its audit entry in the same transaction, so the log cannot miss
//! a change that happened; every change that adds or removes a member
//! starts the key rotation it needs in that transaction too
//! ([`crate::keys::store::begin_rotations`]), so no announcement has to survive
//! for the rotation to happen.

use sqlx::FromRow;

use super::model::Role;
use crate::keys::store::{self as keys, PendingRotation};
use crate::storage::Db;
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
}

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
}

/// A member with their name.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    pub user_id: i64,
    pub username: String,
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
        }
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
        if let Some(entry) = &$audit.log {
            sqlx::query(super::log::INSERT)
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

const ROOM_COLUMNS_R: &str = "r.id, r.kind, r.name, r.description, r.is_private, r.created_at";

macro_rules! select_channels {
    ($tail:literal) => {
        concat!(
            "SELECT c.id, c.room_id, c.name, c.topic, c.is_encrypted, c.key_version, c.pending_version, c.created_at \
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
        role: Option<String>,
    }
    let found: Option<Found> = with_db!(db, read, |pool| {
        sqlx::query_as::<_, Found>(
            "SELECT c.id, c.room_id, c.name, c.topic, c.is_encrypted, c.key_version, \
             c.pending_version, c.created_at, r.kind AS room_kind, r.name AS room_name, \
             r.description AS room_description, r.is_private AS room_is_private, \
             r.created_at AS room_created_at, m.role \
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
        };
        (f.channel, room, f.role.as_deref().and_then(Role::parse))
    }))
}

/// A room by id.
pub async fn room(db: &Db, id: i64) -> Result<Option<RoomRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, RoomRow>(
            "SELECT id, kind, name, description, is_private, created_at FROM rooms WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })
}

/// A (non-DM) room with exactly this name, oldest first.
pub async fn room_named(db: &Db, name: &str) -> Result<Option<RoomRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, RoomRow>(
            "SELECT id, kind, name, description, is_private, created_at FROM rooms \
             WHERE kind = 'room' AND name = $1 ORDER BY id LIMIT 1",
        )
        .bind(name)
        .fetch_optional(pool)
        .await
    })
}

/// A user's role in a room, if a member.
pub async fn role_of(db: &Db, room_id: i64, user_id: i64) -> Result<Option<Role>, sqlx::Error> {
    let role: Option<String> = with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// Whether a user is banned from a room.
pub async fn is_banned(db: &Db, room_id: i64, user_id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT user_id FROM room_bans WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(found.is_some())
}

/// What a new room starts with.
pub struct NewRoom<'a> {
    pub kind: &'static str,
    pub name: &'a str,
    pub description: &'a str,
    pub is_private: bool,
    /// For DMs, the pair key that keeps each pair to one conversation.
    pub dm_key: Option<&'a str>,
    /// The creator first, then anyone else, with their roles.
    pub members: &'a [(i64, Role)],
    /// The first channel: name and whether it is encrypted.
    pub channel: (&'a str, bool),
    pub audit: Audit,
}

/// Creates a room, its members and its first channel in one transaction.
/// A second DM for the same pair fails with a unique violation on `dm_key`.
/// Nothing rotates: the room's one channel has no key yet.
pub async fn create(db: &Db, new: NewRoom<'_>) -> Result<(RoomRow, ChannelRow), sqlx::Error> {
    let creator = new.members.first().map(|(id, _)| *id);
    let now = new.audit.at;
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let room = sqlx::query_as::<_, RoomRow>(
            "INSERT INTO rooms (kind, name, name_key, description, is_private, dm_key, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             RETURNING id, kind, name, description, is_private, created_at",
        )
        .bind(new.kind)
        .bind(new.name)
        .bind(new.name.to_lowercase())
        .bind(new.description)
        .bind(new.is_private)
        .bind(new.dm_key)
        .bind(creator)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        for (user, role) in new.members {
            sqlx::query(
                "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(room.id)
            .bind(user)
            .bind(role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let (channel_name, encrypted) = new.channel;
        let channel = sqlx::query_as::<_, ChannelRow>(
            "INSERT INTO channels (room_id, name, name_key, topic, is_encrypted, created_by, created_at) \
             VALUES ($1, $2, $3, '', $4, $5, $6) \
             RETURNING id, room_id, name, topic, is_encrypted, key_version, pending_version, created_at",
        )
        .bind(room.id)
        .bind(channel_name)
        .bind(channel_name.to_lowercase())
        .bind(encrypted)
        .bind(creator)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let audit = Audit {
            room_id: room.id,
            ..new.audit
        };
        write_audit!(tx, audit);
        tx.commit().await?;
        Ok((room, channel))
    })
}

/// Creates a room owned by `owner_id` with its `general` channel.
pub async fn create_room(
    db: &Db,
    name: &str,
    description: &str,
    is_private: bool,
    owner_id: i64,
    now: i64,
) -> Result<(RoomRow, ChannelRow), sqlx::Error> {
    let new = NewRoom {
        kind: "room",
        name,
        description,
        is_private,
        dm_key: None,
        members: &[(owner_id, Role::Owner)],
        channel: ("general", false),
        audit: Audit::new(0, owner_id, "room_created", now).detail(name),
    };
    create(db, new).await
}

/// Creates the DM room of two users with its one encrypted channel.
pub async fn create_dm(
    db: &Db,
    dm_key: &str,
    creator: i64,
    peer: i64,
    now: i64,
) -> Result<(RoomRow, ChannelRow), sqlx::Error> {
    let new = NewRoom {
        kind: "dm",
        name: "",
        description: "",
        is_private: true,
        dm_key: Some(dm_key),
        members: &[(creator, Role::Member), (peer, Role::Member)],
        channel: ("dm", true),
        audit: Audit::new(0, creator, "dm_created", now).target(peer),
    };
    create(db, new).await
}

/// The DM room for a pair key, if it exists.
pub async fn dm_by_key(db: &Db, dm_key: &str) -> Result<Option<RoomRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, RoomRow>(
            "SELECT id, kind, name, description, is_private, created_at FROM rooms WHERE dm_key = $1",
        )
        .bind(dm_key)
        .fetch_optional(pool)
        .await
    })
}

/// Rooms `user_id` belongs to, with role, member count and DM peer.
pub async fn rooms_of(db: &Db, user_id: i64) -> Result<Vec<ListedRoom>, sqlx::Error> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS_R}, m.role AS my_role, \
           (SELECT COUNT(*) FROM room_members c WHERE c.room_id = r.id) AS member_count, \
           (SELECT p.user_id FROM room_members p WHERE p.room_id = r.id AND r.kind = 'dm' \
              AND p.user_id <> $1 LIMIT 1) AS peer_id, \
           (SELECT u.username FROM room_members p JOIN users u ON u.id = p.user_id \
              WHERE p.room_id = r.id AND r.kind = 'dm' AND p.user_id <> $1 LIMIT 1) AS peer_username \
         FROM rooms r JOIN room_members m ON m.room_id = r.id AND m.user_id = $1 \
         ORDER BY r.kind, r.name_key, r.id"
    );
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, ListedRoom>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_id)
            .fetch_all(pool)
            .await
    })
}

/// The ids of the rooms `user_id` belongs to: whom presence tells, without
/// the listing's counts and names.
pub async fn room_ids_of(db: &Db, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT room_id FROM room_members WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(pool)
            .await
    })
}

/// The rooms `user_id` belongs to and the people they share one with.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Circle {
    /// Room ids, ascending.
    pub rooms: Vec<i64>,
    /// Everyone else in any of those rooms, ascending, each once.
    pub peers: Vec<i64>,
}

/// [`Circle`] of `user_id` in one query (what a new socket needs: the rooms
/// to join and whose presence to report). One row per room, its members as
/// one comma-separated text (`string_agg`, on both engines): a row per
/// member would cost a hand-over from sqlx's SQLite worker thread each.
pub async fn circle_of(db: &Db, user_id: i64) -> Result<Circle, sqlx::Error> {
    let rooms: Vec<(i64, String)> = with_db!(db, read, |pool| {
        sqlx::query_as(
            "SELECT a.room_id, string_agg(CAST(b.user_id AS TEXT), ',') FROM room_members a \
             JOIN room_members b ON b.room_id = a.room_id \
             WHERE a.user_id = $1 GROUP BY a.room_id ORDER BY a.room_id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })?;
    let mut circle = Circle::default();
    for (room_id, members) in rooms {
        circle.rooms.push(room_id);
        for member in members.split(',') {
            let member: i64 = member
                .parse()
                .map_err(|e| sqlx::Error::Decode(format!("member id {member:?}: {e}").into()))?;
            if member != user_id {
                circle.peers.push(member);
            }
        }
    }
    circle.peers.sort_unstable();
    circle.peers.dedup();
    Ok(circle)
}

/// The channels of every room `user_id` belongs to.
pub async fn channels_of_member(db: &Db, user_id: i64) -> Result<Vec<ChannelRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, ChannelRow>(select_channels!(
            "JOIN room_members m ON m.room_id = c.room_id AND m.user_id = $1 ORDER BY c.room_id, c.id"
        ))
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// The channels of one room, oldest first.
pub async fn channels_of_room(db: &Db, room_id: i64) -> Result<Vec<ChannelRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, ChannelRow>(select_channels!("WHERE c.room_id = $1 ORDER BY c.id"))
            .bind(room_id)
            .fetch_all(pool)
            .await
    })
}

/// A channel by id.
pub async fn channel(db: &Db, id: i64) -> Result<Option<ChannelRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, ChannelRow>(select_channels!("WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await
    })
}

/// Public rooms whose name contains `pattern` (a lower-cased LIKE pattern,
/// already escaped), with the asker's role where they are a member.
pub async fn directory(
    db: &Db,
    user_id: i64,
    pattern: &str,
    limit: i64,
) -> Result<Vec<ListedRoom>, sqlx::Error> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS_R}, m.role AS my_role, \
           (SELECT COUNT(*) FROM room_members c WHERE c.room_id = r.id) AS member_count, \
           CAST(NULL AS BIGINT) AS peer_id, CAST(NULL AS TEXT) AS peer_username \
         FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id AND m.user_id = $1 \
         WHERE r.is_private = FALSE AND r.kind = 'room' AND r.name_key LIKE $2 ESCAPE '\\' \
         ORDER BY r.name_key, r.id LIMIT $3"
    );
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, ListedRoom>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_id)
            .bind(pattern)
            .bind(limit)
            .fetch_all(pool)
            .await
    })
}

/// How many members a room has.
pub async fn member_count(db: &Db, room_id: i64) -> Result<i64, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM room_members WHERE room_id = $1")
            .bind(room_id)
            .fetch_one(pool)
            .await
    })
}

/// Updates name, description and visibility.
pub async fn update_room(db: &Db, room: &RoomRow, audit: Audit) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE rooms SET name = $1, name_key = $2, description = $3, is_private = $4 WHERE id = $5",
        )
        .bind(&room.name)
        .bind(room.name.to_lowercase())
        .bind(&room.description)
        .bind(room.is_private)
        .bind(room.id)
        .execute(&mut *tx)
        .await?;
        write_audit!(tx, audit);
        tx.commit().await?;
        Ok(())
    })
}

/// Deletes a room; channels, memberships and bans go with it. Returns the
/// channel ids and member ids it had, for the event.
pub async fn delete_room(
    db: &Db,
    room_id: i64,
    audit: Audit,
) -> Result<(Vec<i64>, Vec<i64>), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let channels: Vec<i64> = sqlx::query_scalar("SELECT id FROM channels WHERE room_id = $1")
            .bind(room_id)
            .fetch_all(&mut *tx)
            .await?;
        let members: Vec<i64> =
            sqlx::query_scalar("SELECT user_id FROM room_members WHERE room_id = $1")
                .bind(room_id)
                .fetch_all(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM rooms WHERE id = $1")
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        write_audit!(tx, audit);
        tx.commit().await?;
        Ok((channels, members))
    })
}

/// Adds a member and starts the rotations it needs. Already being one is a
/// unique violation.
pub async fn add_member(
    db: &Db,
    room_id: i64,
    user_id: i64,
    role: Role,
    audit: Audit,
) -> Result<Vec<PendingRotation>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        write_audit!(tx, audit);
        let rotations = keys::begin_rotations(&mut *tx, room_id).await?;
        tx.commit().await?;
        Ok(rotations)
    })
}

/// Whom a removal may take out of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removable {
    /// Any member but the owner: kicks, bans and leaving. Checked in the
    /// `DELETE` itself, so an ownership transfer that commits first (the
    /// target just became the owner) makes the removal fail rather than
    /// leave the room without an owner.
    NotTheOwner,
    /// Anyone, the owner included: the server removing a disabled account
    /// (the one change that may leave a room ownerless).
    Anyone,
}

/// What a removal did.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    /// Removed; the rotations it started.
    Removed(Vec<PendingRotation>),
    /// They were not a member (nothing changed).
    NotMember,
    /// They are the owner, whom [`Removable::NotTheOwner`] keeps (nothing
    /// changed).
    Owner,
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

/// Removes a member and starts the rotations it needs, unless `who` keeps
/// them (nothing changes then).
pub async fn remove_member(
    db: &Db,
    room_id: i64,
    user_id: i64,
    who: Removable,
    audit: Audit,
) -> Result<Removal, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        if let Some(kept) = delete_member!(tx, room_id, user_id, who) {
            return Ok(kept);
        }
        write_audit!(tx, audit);
        let rotations = keys::begin_rotations(&mut *tx, room_id).await?;
        tx.commit().await?;
        Ok(Removal::Removed(rotations))
    })
}

/// What a role change must find before it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Current {
    /// The member holds this role now (the old owner of a transfer).
    Is(Role),
    /// The member is not the owner (anyone whose role the owner changes).
    NotOwner,
}

/// Changes members' roles in one transaction with its audit entry, each
/// only if the member is still there with the role `Current` says: one
/// change for a promotion or demotion; two for an ownership transfer.
/// Returns `false`, changing nothing, if any of them no longer applies (a
/// concurrent kick, leave or transfer came first). The members stay the
/// same, so no key rotates.
pub async fn set_roles(
    db: &Db,
    room_id: i64,
    roles: &[(i64, Role, Current)],
    audit: Audit,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        for (user, role, current) in roles {
            let (sql, expected) = match current {
                Current::Is(r) => (
                    "UPDATE room_members SET role = $1 \
                     WHERE room_id = $2 AND user_id = $3 AND role = $4",
                    r.as_str(),
                ),
                Current::NotOwner => (
                    "UPDATE room_members SET role = $1 \
                     WHERE room_id = $2 AND user_id = $3 AND role <> $4",
                    Role::Owner.as_str(),
                ),
            };
            let changed = sqlx::query(sql)
                .bind(role.as_str())
                .bind(room_id)
                .bind(user)
                .bind(expected)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Ok(false);
            }
        }
        write_audit!(tx, audit);
        tx.commit().await?;
        Ok(true)
    })
}

/// Bans a user: removes their membership and records the ban. The owner
/// is never banned ([`Removal::Owner`], nothing changes); otherwise the ban
/// is recorded whether or not they were a member, and a removal starts the
/// rotations it needs.
pub async fn ban(
    db: &Db,
    room_id: i64,
    user_id: i64,
    reason: &str,
    audit: Audit,
) -> Result<Removal, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let kept = delete_member!(tx, room_id, user_id, Removable::NotTheOwner);
        if matches!(kept, Some(Removal::Owner)) {
            return Ok(Removal::Owner);
        }
        sqlx::query(
            "INSERT INTO room_bans (room_id, user_id, banned_by, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (room_id, user_id) DO UPDATE SET reason = excluded.reason",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(audit.actor_id)
        .bind(reason)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        write_audit!(tx, audit);
        let outcome = match kept {
            None => Removal::Removed(keys::begin_rotations(&mut *tx, room_id).await?),
            Some(other) => other,
        };
        tx.commit().await?;
        Ok(outcome)
    })
}

/// Lifts a ban. Returns whether there was one.
pub async fn unban(db: &Db, room_id: i64, user_id: i64, audit: Audit) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let removed = sqlx::query("DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed > 0 {
            write_audit!(tx, audit);
        }
        tx.commit().await?;
        Ok(removed > 0)
    })
}

/// Members of a room, owner first, then admins, then by name.
pub async fn members(db: &Db, room_id: i64) -> Result<Vec<MemberRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, MemberRow>(
            "SELECT m.user_id, u.username, m.role, m.joined_at \
             FROM room_members m JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 \
             ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.username_key",
        )
        .bind(room_id)
        .fetch_all(pool)
        .await
    })
}

/// Bans of a room, newest first.
pub async fn bans(db: &Db, room_id: i64) -> Result<Vec<BanRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, BanRow>(
            "SELECT b.user_id, u.username, b.banned_by, b.reason, b.created_at \
             FROM room_bans b JOIN users u ON u.id = b.user_id WHERE b.room_id = $1 \
             ORDER BY b.created_at DESC",
        )
        .bind(room_id)
        .fetch_all(pool)
        .await
    })
}

/// Creates a channel. A taken name (any case) is a unique violation.
#[allow(clippy::too_many_arguments)]
pub async fn create_channel(
    db: &Db,
    room_id: i64,
    name: &str,
    topic: &str,
    is_encrypted: bool,
    audit: Audit,
) -> Result<ChannelRow, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let channel = sqlx::query_as::<_, ChannelRow>(
            "INSERT INTO channels (room_id, name, name_key, topic, is_encrypted, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             RETURNING id, room_id, name, topic, is_encrypted, key_version, pending_version, created_at",
        )
        .bind(room_id)
        .bind(name)
        .bind(name.to_lowercase())
        .bind(topic)
        .bind(is_encrypted)
        .bind(audit.actor_id)
        .bind(audit.at)
        .fetch_one(&mut *tx)
        .await?;
        write_audit!(tx, audit);
        tx.commit().await?;
        Ok(channel)
    })
}

/// Renames a channel or changes its topic.
pub async fn update_channel(
    db: &Db,
    channel: &ChannelRow,
    audit: Audit,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE channels SET name = $1, name_key = $2, topic = $3 WHERE id = $4")
            .bind(&channel.name)
            .bind(channel.name.to_lowercase())
            .bind(&channel.topic)
            .bind(channel.id)
            .execute(&mut *tx)
            .await?;
        write_audit!(tx, audit);
        tx.commit().await?;
        Ok(())
    })
}

/// Deletes a channel.
/// Deletes a channel unless it is its room's last one; returns whether it
/// did. The room's row is locked first (an `UPDATE` of it), so concurrent
/// deletes in one room take turns and each counts what the others left.
pub async fn delete_channel(
    db: &Db,
    room_id: i64,
    channel_id: i64,
    audit: Audit,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE rooms SET name = name WHERE id = $1")
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query(
            "DELETE FROM channels WHERE id = $1 AND room_id = $2 \
             AND (SELECT COUNT(*) FROM channels WHERE room_id = $2) > 1",
        )
        .bind(channel_id)
        .bind(room_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if deleted == 0 {
            return Ok(false);
        }
        write_audit!(tx, audit);
        tx.commit().await?;
        Ok(true)
    })
}

/// A page of a room's audit log, newest first, before entry `before`.
pub async fn audit_page(
    db: &Db,
    room_id: i64,
    before: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, AuditRow>(
            "SELECT a.id, a.room_id, a.actor_id, ua.username AS actor_username, a.action, \
               a.target_user_id, ut.username AS target_username, a.detail, a.created_at \
             FROM room_audit a \
             LEFT JOIN users ua ON ua.id = a.actor_id \
             LEFT JOIN users ut ON ut.id = a.target_user_id \
             WHERE a.room_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3",
        )
        .bind(room_id)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Everyone who shares at least one room with `user_id` (not the user).
pub async fn co_members(db: &Db, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT DISTINCT b.user_id FROM room_members a \
             JOIN room_members b ON b.room_id = a.room_id \
             WHERE a.user_id = $1 AND b.user_id <> $1",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

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
            let user = crate::auth::admin::add_user(&db, name, "password123", false)
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
        let nobody = crate::auth::admin::add_user(&db, "erin", "password123", false)
            .await
            .unwrap();
        assert_eq!(circle_of(&db, nobody.id).await.unwrap(), Circle::default());
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
