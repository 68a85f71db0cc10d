//! The SQL of reminders. The cap on pending reminders is a condition of
//! the insert, counted with the person's row locked first in the same
//! transaction (parallel inserts queue on it on PostgreSQL; SQLite has one
//! writer), and a reminder is claimed for delivery by the `UPDATE` that
//! finds it due, so two nodes never deliver the same one.

use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;

use crate::storage::Db;
use crate::with_db;

/// A pending reminder.
#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Reminder {
    pub id: i64,
    #[serde(skip)]
    pub user_id: i64,
    pub channel_id: i64,
    /// What to be reminded of; `null` in an encrypted channel.
    pub note: Option<String>,
    /// When, in ms since the epoch.
    pub due_at: i64,
    pub created_at: i64,
}

const COLUMNS: &str = "id, user_id, channel_id, note, due_at, created_at";

/// Stores a reminder unless the person has `max` pending already (`None`).
pub async fn insert(
    db: &Db,
    user_id: i64,
    channel_id: i64,
    note: Option<&str>,
    due_at: i64,
    now: i64,
    max: i64,
) -> Result<Option<Reminder>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO reminders (user_id, channel_id, note, due_at, created_at) \
         SELECT $1, $2, $3, $4, $5 WHERE (SELECT COUNT(*) FROM reminders \
           WHERE user_id = $1 AND fired_at IS NULL) < $6 \
         RETURNING {COLUMNS}"
    );
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET username = username WHERE id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        let stored = sqlx::query_as::<_, Reminder>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_id)
            .bind(channel_id)
            .bind(note)
            .bind(due_at)
            .bind(now)
            .bind(max)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(stored)
    })
}

/// The person's pending reminders, soonest first (at most the cap).
pub async fn pending(db: &Db, user_id: i64) -> Result<Vec<Reminder>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM reminders WHERE user_id = $1 AND fired_at IS NULL \
         ORDER BY due_at, id"
    );
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Reminder>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(user_id)
            .fetch_all(pool)
            .await
    })
}

/// Deletes one of the person's pending reminders; whether there was one.
pub async fn delete(db: &Db, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        Ok(
            sqlx::query(
                "DELETE FROM reminders WHERE id = $1 AND user_id = $2 AND fired_at IS NULL",
            )
            .bind(id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected()
                > 0,
        )
    })
}

/// Claims up to `limit` reminders due by `now` for delivery: each is
/// returned by exactly one caller, whichever node it runs on.
pub async fn claim_due(db: &Db, now: i64, limit: i64) -> Result<Vec<Reminder>, sqlx::Error> {
    let sql = format!(
        "UPDATE reminders SET fired_at = $1 WHERE id IN \
           (SELECT id FROM reminders WHERE fired_at IS NULL AND due_at <= $1 \
            ORDER BY due_at LIMIT $2) \
         AND fired_at IS NULL RETURNING {COLUMNS}"
    );
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, Reminder>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await
    })
}

/// Forgets delivered reminders older than `before`.
pub async fn forget_fired(db: &Db, before: i64) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        Ok(
            sqlx::query("DELETE FROM reminders WHERE fired_at IS NOT NULL AND fired_at < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected(),
        )
    })
}
