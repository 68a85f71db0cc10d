//! Channels of a room: creating, renaming and deleting (never the last
//! one: a condition of the delete itself).

use super::*; // the shared rows, macros and imports of `store`

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
             RETURNING id, room_id, name, topic, is_encrypted, key_version, pending_version, created_at, disappearing_seconds",
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
        let audit = audit.timeline(Some(channel.id), timeline::Kind::ChannelCreated, name);
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

/// Sets the channel's disappearing-message timer (`None`: off), with its
/// audit entry. Messages stored from the commit on take it: the message
/// insert reads it from the channel row (`messages/writer.rs`).
pub async fn set_disappearing(
    db: &Db,
    channel_id: i64,
    seconds: Option<i64>,
    audit: Audit,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE channels SET disappearing_seconds = $1 WHERE id = $2")
            .bind(seconds)
            .bind(channel_id)
            .execute(&mut *tx)
            .await?;
        write_audit!(tx, audit);
        tx.commit().await?;
        Ok(())
    })
}
