//! SQL for pins, the room setting "members may pin", and saved messages.
//!
//! Both caps are conditions of the insert itself, counted with a parent row
//! locked first in the same transaction (the channel for pins, the person
//! for saved messages): on PostgreSQL parallel inserts of one channel (or
//! one person) queue on that row lock, so they cannot all count below the
//! cap and pass together; SQLite has a single writer anyway.

use sqlx::FromRow;

use crate::messages::store::{MessageRow, select_messages};
use crate::storage::Db;
use crate::with_db;

/// What [`pin`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Pinned {
    /// Pinned now.
    New,
    /// It was already pinned.
    Already,
    /// No such live message in this channel.
    NoMessage,
    /// The channel already has `cap` pins.
    Full,
}

/// Pins `message_id` in `channel_id` unless the channel has `cap` pins of
/// live messages already.
pub async fn pin(
    db: &Db,
    channel_id: i64,
    message_id: i64,
    user_id: i64,
    now: i64,
    cap: i64,
) -> Result<Pinned, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE channels SET name = name WHERE id = $1")
            .bind(channel_id)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO pins (channel_id, message_id, pinned_by, pinned_at) \
             SELECT $1, m.id, $3, $4 FROM messages m \
             WHERE m.id = $2 AND m.channel_id = $1 AND m.deleted_at IS NULL \
             AND (SELECT COUNT(*) FROM pins p JOIN messages pm ON pm.id = p.message_id \
                  WHERE p.channel_id = $1 AND pm.deleted_at IS NULL) < $5 \
             ON CONFLICT (channel_id, message_id) DO NOTHING",
        )
        .bind(channel_id)
        .bind(message_id)
        .bind(user_id)
        .bind(now)
        .bind(cap)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let outcome = if inserted > 0 {
            Pinned::New
        } else {
            // Nothing inserted: say why, from the same transaction.
            let (live, pinned): (bool, bool) = sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE id = $2 AND channel_id = $1 \
                   AND deleted_at IS NULL), \
                 EXISTS (SELECT 1 FROM pins WHERE channel_id = $1 AND message_id = $2)",
            )
            .bind(channel_id)
            .bind(message_id)
            .fetch_one(&mut *tx)
            .await?;
            match (live, pinned) {
                (false, _) => Pinned::NoMessage,
                (true, true) => Pinned::Already,
                (true, false) => Pinned::Full,
            }
        };
        tx.commit().await?;
        Ok(outcome)
    })
}

/// Unpins; whether a pin was there.
pub async fn unpin(db: &Db, channel_id: i64, message_id: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let done = sqlx::query("DELETE FROM pins WHERE channel_id = $1 AND message_id = $2")
            .bind(channel_id)
            .bind(message_id)
            .execute(pool)
            .await?;
        Ok(done.rows_affected() > 0)
    })
}

/// A pinned message with who pinned it and when.
#[derive(Debug, FromRow)]
pub struct PinRow {
    pub pinned_by: Option<i64>,
    pub pinned_by_username: Option<String>,
    pub pinned_at: i64,
    #[sqlx(flatten)]
    pub message: MessageRow,
}

/// The channel's pins of live messages (not deleted, not disappeared by
/// `now`), most recently pinned first. Read on the writer, so a pin just
/// made is listed.
pub async fn pins(db: &Db, channel_id: i64, now: i64) -> Result<Vec<PinRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, PinRow>(select_messages!(
            "p.pinned_by, pu.username AS pinned_by_username, p.pinned_at, ",
            "JOIN pins p ON p.message_id = m.id LEFT JOIN users pu ON pu.id = p.pinned_by \
             WHERE p.channel_id = $1 AND m.deleted_at IS NULL \
             AND (m.expires_at IS NULL OR m.expires_at > $2) \
             ORDER BY p.pinned_at DESC, p.message_id DESC"
        ))
        .bind(channel_id)
        .bind(now)
        .fetch_all(pool)
        .await
    })
}

/// Whether members may pin in `room_id` (else only admins and the owner).
pub async fn members_may_pin(db: &Db, room_id: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let allowed: Option<bool> =
            sqlx::query_scalar("SELECT members_may_pin FROM pin_settings WHERE room_id = $1")
                .bind(room_id)
                .fetch_optional(pool)
                .await?;
        Ok(allowed.unwrap_or(false))
    })
}

pub async fn set_members_may_pin(
    db: &Db,
    room_id: i64,
    allowed: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO pin_settings (room_id, members_may_pin, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (room_id) DO UPDATE SET members_may_pin = excluded.members_may_pin, \
             updated_at = excluded.updated_at",
        )
        .bind(room_id)
        .bind(allowed)
        .bind(now)
        .execute(pool)
        .await?;
        Ok(())
    })
}

/// What [`save`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Saved {
    /// Saved now, or it already was.
    Done,
    /// No such live message.
    NoMessage,
    /// The person already has `cap` saved messages.
    Full,
}

/// Saves `message_id` for `user_id` unless they have `cap` saved messages
/// already (live ones, in rooms they are still in, as the list shows them).
pub async fn save(
    db: &Db,
    user_id: i64,
    message_id: i64,
    now: i64,
    cap: i64,
) -> Result<Saved, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET username = username WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO saved_messages (user_id, message_id, saved_at) \
             SELECT $1, m.id, $3 FROM messages m \
             WHERE m.id = $2 AND m.deleted_at IS NULL \
             AND (SELECT COUNT(*) FROM saved_messages s JOIN messages sm ON sm.id = s.message_id \
                  JOIN channels c ON c.id = sm.channel_id \
                  JOIN room_members rm ON rm.room_id = c.room_id AND rm.user_id = s.user_id \
                  WHERE s.user_id = $1 AND sm.deleted_at IS NULL) < $4 \
             ON CONFLICT (user_id, message_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(message_id)
        .bind(now)
        .bind(cap)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let outcome = if inserted > 0 {
            Saved::Done
        } else {
            let (live, saved): (bool, bool) = sqlx::query_as(
                "SELECT EXISTS (SELECT 1 FROM messages WHERE id = $2 AND deleted_at IS NULL), \
                 EXISTS (SELECT 1 FROM saved_messages WHERE user_id = $1 AND message_id = $2)",
            )
            .bind(user_id)
            .bind(message_id)
            .fetch_one(&mut *tx)
            .await?;
            match (live, saved) {
                (false, _) => Saved::NoMessage,
                (true, true) => Saved::Done,
                (true, false) => Saved::Full,
            }
        };
        tx.commit().await?;
        Ok(outcome)
    })
}

/// Unsaves; whether it was saved.
pub async fn unsave(db: &Db, user_id: i64, message_id: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let done = sqlx::query("DELETE FROM saved_messages WHERE user_id = $1 AND message_id = $2")
            .bind(user_id)
            .bind(message_id)
            .execute(pool)
            .await?;
        Ok(done.rows_affected() > 0)
    })
}

/// A saved message with when it was saved and its room.
#[derive(Debug, FromRow)]
pub struct SavedRow {
    pub saved_at: i64,
    pub room_id: i64,
    #[sqlx(flatten)]
    pub message: MessageRow,
}

/// A page of `user_id`'s saved messages, newest saved first, strictly after
/// the cursor `(saved_at, message_id)` in that order: live messages of
/// rooms the person is a member of now (leaving a room hides its messages;
/// rejoining shows them again); disappeared messages (past `expires_at` at
/// `now`) are left out.
pub async fn saved_page(
    db: &Db,
    user_id: i64,
    before: (i64, i64),
    limit: i64,
    now: i64,
) -> Result<Vec<SavedRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, SavedRow>(select_messages!(
            "s.saved_at, c.room_id, ",
            "JOIN saved_messages s ON s.message_id = m.id \
             JOIN channels c ON c.id = m.channel_id \
             JOIN room_members rm ON rm.room_id = c.room_id AND rm.user_id = s.user_id \
             WHERE s.user_id = $1 AND m.deleted_at IS NULL \
             AND (m.expires_at IS NULL OR m.expires_at > $5) \
             AND (s.saved_at < $2 OR (s.saved_at = $2 AND s.message_id < $3)) \
             ORDER BY s.saved_at DESC, s.message_id DESC LIMIT $4"
        ))
        .bind(user_id)
        .bind(before.0)
        .bind(before.1)
        .bind(limit)
        .bind(now)
        .fetch_all(pool)
        .await
    })
}
