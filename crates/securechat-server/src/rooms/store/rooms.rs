//! Rooms: creating one with its members and first channel, listing,
//! the public directory, renaming and deleting.

use super::*; // the shared rows, macros and imports of `store`

/// A room by id.
pub async fn room(db: &Db, id: i64) -> Result<Option<RoomRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, RoomRow>(
            "SELECT id, kind, name, description, is_private, created_at, retention_days FROM rooms WHERE id = $1",
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
            "SELECT id, kind, name, description, is_private, created_at, retention_days FROM rooms \
             WHERE kind = 'room' AND name = $1 ORDER BY id LIMIT 1",
        )
        .bind(name)
        .fetch_optional(pool)
        .await
    })
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
             RETURNING id, kind, name, description, is_private, created_at, retention_days",
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
             RETURNING id, room_id, name, topic, is_encrypted, key_version, pending_version, created_at, disappearing_seconds",
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

/// Rooms `user_id` belongs to, with role, member count and DM peer.
pub async fn rooms_of(db: &Db, user_id: i64) -> Result<Vec<ListedRoom>, sqlx::Error> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS_R}, {ROOM_SETTINGS_R}, m.role AS my_role, \
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

/// Public rooms whose name contains `pattern` (a lower-cased LIKE pattern,
/// already escaped), with the asker's role where they are a member.
pub async fn directory(
    db: &Db,
    user_id: i64,
    pattern: &str,
    limit: i64,
) -> Result<Vec<ListedRoom>, sqlx::Error> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS_R}, {ROOM_SETTINGS_R}, m.role AS my_role, \
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

/// Sets how many days the room keeps its messages (`None`: forever), with
/// its audit entry. The purge job reads it on its next pass.
pub async fn set_retention(
    db: &Db,
    room_id: i64,
    days: Option<i64>,
    audit: Audit,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE rooms SET retention_days = $1 WHERE id = $2")
            .bind(days)
            .bind(room_id)
            .execute(&mut *tx)
            .await?;
        write_audit!(tx, audit);
        tx.commit().await?;
        Ok(())
    })
}
