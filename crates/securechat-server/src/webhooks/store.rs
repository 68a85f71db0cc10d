//! SQL for incoming webhooks. A channel holds at most [`super::MAX_PER_CHANNEL`]
//! of them: a condition of the insert, counted with the channel's row
//! locked first (PostgreSQL; SQLite has one writer), so parallel requests
//! cannot pass it together.

use sqlx::FromRow;

use super::Kind;
use crate::storage::Db;
use crate::with_db;

/// A webhook as its channel's admins list it (never its secret).
#[derive(Debug, Clone, FromRow)]
pub struct WebhookRow {
    pub id: i64,
    pub channel_id: i64,
    pub creator_id: i64,
    pub creator_username: Option<String>,
    pub name: String,
    pub allow_overrides: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// The columns of a [`WebhookRow`], then `$tail`.
macro_rules! select_webhooks {
    ($tail:expr) => {
        concat!(
            "SELECT w.id, w.channel_id, w.creator_id, u.username AS creator_username, \
             w.name, w.allow_overrides, w.created_at, w.last_used_at \
             FROM webhooks w LEFT JOIN users u ON u.id = w.creator_id ",
            $tail
        )
    };
}

/// What [`create`] needs.
pub struct NewWebhook<'a> {
    pub channel_id: i64,
    pub creator_id: i64,
    pub name: &'a str,
    pub secret_hash: &'a [u8],
    pub allow_overrides: bool,
    pub now: i64,
}

/// Stores a webhook unless its channel holds `cap` already; its id.
pub async fn create(db: &Db, new: &NewWebhook<'_>, cap: i64) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE channels SET name = name WHERE id = $1")
            .bind(new.channel_id)
            .execute(&mut *tx)
            .await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO webhooks (channel_id, creator_id, name, secret_hash, allow_overrides, \
             created_at) \
             SELECT $1, $2, $3, $4, $5, $6 \
             WHERE (SELECT COUNT(*) FROM webhooks WHERE channel_id = $1) < $7 \
             RETURNING id",
        )
        .bind(new.channel_id)
        .bind(new.creator_id)
        .bind(new.name)
        .bind(new.secret_hash)
        .bind(new.allow_overrides)
        .bind(new.now)
        .bind(cap)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    })
}

/// A channel's webhooks, oldest first.
pub async fn of_channel(db: &Db, channel_id: i64) -> Result<Vec<WebhookRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, WebhookRow>(select_webhooks!("WHERE w.channel_id = $1 ORDER BY w.id"))
            .bind(channel_id)
            .fetch_all(pool)
            .await
    })
}

/// The webhook whose secret hashes to `secret_hash`.
pub async fn by_secret(db: &Db, secret_hash: &[u8]) -> Result<Option<WebhookRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, WebhookRow>(select_webhooks!("WHERE w.secret_hash = $1"))
            .bind(secret_hash)
            .fetch_optional(pool)
            .await
    })
}

/// Deletes a webhook of `channel_id`; whether there was one. An incoming
/// one's URL fails from the commit on, and its messages keep the name they
/// showed; an outgoing one's queue and log go with it.
pub async fn delete(db: &Db, kind: Kind, channel_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    let sql = match kind {
        Kind::Incoming => "DELETE FROM webhooks WHERE id = $1 AND channel_id = $2",
        Kind::Outgoing => "DELETE FROM outgoing_webhooks WHERE id = $1 AND channel_id = $2",
    };
    with_db!(db, write, |pool| {
        let done = sqlx::query(sql)
            .bind(id)
            .bind(channel_id)
            .execute(pool)
            .await?;
        Ok(done.rows_affected() > 0)
    })
}

/// Notes that the webhook posted at `now` (callers do so once a minute at
/// most; the condition keeps parallel posts from moving it back).
pub async fn used(db: &Db, id: i64, now: i64) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE webhooks SET last_used_at = $2 WHERE id = $1 \
             AND (last_used_at IS NULL OR last_used_at < $2 - 60000)",
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?;
        Ok(())
    })
}
