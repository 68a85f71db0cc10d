//! SQL for outgoing webhooks and their deliveries: the webhooks (ten a
//! channel, counted in the insert with the channel's row locked), the
//! dispatcher's step (new messages become delivery rows in the
//! transaction that moves the webhook's `last_message_id`, conditional on
//! the value it read, so two nodes never queue a message twice), and the
//! delivery queue, claimed with a lease like the push queue.

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// Finished deliveries kept per webhook for its log.
const LOG_KEPT: i64 = 100;

/// An outgoing webhook as its channel's admins list it.
#[derive(Debug, Clone, FromRow)]
pub struct OutgoingRow {
    pub id: i64,
    pub channel_id: i64,
    pub creator_id: i64,
    pub creator_username: Option<String>,
    pub url: String,
    /// A JSON array of keywords.
    pub keywords: String,
    pub created_at: i64,
}

/// What [`create`] needs.
pub struct NewOutgoing<'a> {
    pub channel_id: i64,
    pub creator_id: i64,
    pub url: &'a str,
    pub keywords: &'a str,
    pub secret_salt: &'a [u8],
    pub now: i64,
}

/// Stores an outgoing webhook unless its channel holds `cap` already; its
/// id. It starts after the channel's newest message: only messages sent
/// from now on are delivered.
pub async fn create(db: &Db, new: &NewOutgoing<'_>, cap: i64) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE channels SET name = name WHERE id = $1")
            .bind(new.channel_id)
            .execute(&mut *tx)
            .await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO outgoing_webhooks (channel_id, creator_id, url, keywords, secret_salt, \
             last_message_id, created_at) \
             SELECT $1, $2, $3, $4, $5, \
             (SELECT COALESCE(MAX(id), 0) FROM messages WHERE channel_id = $1), $6 \
             WHERE (SELECT COUNT(*) FROM outgoing_webhooks WHERE channel_id = $1) < $7 \
             RETURNING id",
        )
        .bind(new.channel_id)
        .bind(new.creator_id)
        .bind(new.url)
        .bind(new.keywords)
        .bind(new.secret_salt)
        .bind(new.now)
        .bind(cap)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    })
}

/// A channel's outgoing webhooks, oldest first.
pub async fn of_channel(db: &Db, channel_id: i64) -> Result<Vec<OutgoingRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, OutgoingRow>(
            "SELECT w.id, w.channel_id, w.creator_id, u.username AS creator_username, w.url, \
             w.keywords, w.created_at FROM outgoing_webhooks w \
             LEFT JOIN users u ON u.id = w.creator_id WHERE w.channel_id = $1 ORDER BY w.id",
        )
        .bind(channel_id)
        .fetch_all(pool)
        .await
    })
}

/// A webhook whose channel has messages it has not considered yet.
#[derive(Debug, Clone, FromRow)]
pub struct Behind {
    pub id: i64,
    pub channel_id: i64,
    pub last_message_id: i64,
    pub keywords: String,
}

/// Up to 100 webhooks with messages to consider.
pub async fn behind(db: &Db) -> Result<Vec<Behind>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Behind>(
            "SELECT w.id, w.channel_id, w.last_message_id, w.keywords FROM outgoing_webhooks w \
             WHERE EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = w.channel_id \
             AND m.id > w.last_message_id) ORDER BY w.id LIMIT 100",
        )
        .fetch_all(pool)
        .await
    })
}

/// A message as a delivery describes it.
#[derive(Debug, Clone, FromRow)]
pub struct Posted {
    pub id: i64,
    pub room_id: i64,
    pub channel_name: String,
    pub sender_id: Option<i64>,
    pub sender_username: Option<String>,
    pub content: Option<String>,
    pub created_at: i64,
    pub deleted_at: Option<i64>,
    pub thread_root_id: Option<i64>,
    pub webhook_id: Option<i64>,
}

/// The channel's messages after `after`, oldest first, at most `limit`.
pub async fn messages_after(
    db: &Db,
    channel_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<Posted>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Posted>(
            "SELECT m.id, c.room_id, c.name AS channel_name, m.sender_id, \
             u.username AS sender_username, m.content, m.created_at, m.deleted_at, \
             m.thread_root_id, m.webhook_id FROM messages m \
             JOIN channels c ON c.id = m.channel_id LEFT JOIN users u ON u.id = m.sender_id \
             WHERE m.channel_id = $1 AND m.id > $2 ORDER BY m.id LIMIT $3",
        )
        .bind(channel_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Moves webhook `id` from `from` to `to` and queues `deliveries`
/// (message id, payload) due at `now`, in one transaction; `false` (and
/// nothing written) when another node moved it first. Finished
/// deliveries beyond the log's size are dropped in the same transaction.
pub async fn advance(
    db: &Db,
    id: i64,
    from: i64,
    to: i64,
    deliveries: &[(i64, String)],
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE outgoing_webhooks SET last_message_id = $3 \
             WHERE id = $1 AND last_message_id = $2",
        )
        .bind(id)
        .bind(from)
        .bind(to)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved == 0 {
            return Ok(false);
        }
        for (message_id, payload) in deliveries {
            sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, message_id, payload, status, \
                 attempts, due_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4)",
            )
            .bind(id)
            .bind(message_id)
            .bind(payload)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "DELETE FROM webhook_deliveries WHERE webhook_id = $1 AND due_at IS NULL \
             AND id <= COALESCE((SELECT d.id FROM webhook_deliveries d \
             WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT 1 OFFSET $2), 0)",
        )
        .bind(id)
        .bind(LOG_KEPT)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    })
}

/// When the next delivery may be claimed (`None`: none waits). A read.
pub async fn next_due(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT MIN(due_at) FROM webhook_deliveries")
            .fetch_one(pool)
            .await
    })
}

/// A claimed delivery with where it goes.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub webhook_id: i64,
    pub payload: String,
    /// Attempts including this one.
    pub attempts: i64,
    pub url: Option<String>,
    pub secret_salt: Option<Vec<u8>>,
}

/// Up to `limit` deliveries due at `now`, leased until `lease_until`
/// (PostgreSQL skips rows another node's claim has locked).
pub async fn claim(
    db: &Db,
    now: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let lock = match db {
        Db::Sqlite { .. } => "",
        Db::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE webhook_deliveries SET due_at = $2, attempts = attempts + 1 WHERE id IN \
         (SELECT id FROM webhook_deliveries WHERE due_at <= $1 ORDER BY due_at LIMIT $3{lock}) \
         RETURNING id, webhook_id, payload, attempts, \
         (SELECT w.url FROM outgoing_webhooks w WHERE w.id = webhook_deliveries.webhook_id) AS url, \
         (SELECT w.secret_salt FROM outgoing_webhooks w \
          WHERE w.id = webhook_deliveries.webhook_id) AS secret_salt"
    );
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, Claimed>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(now)
            .bind(lease_until)
            .bind(limit)
            .fetch_all(pool)
            .await
    })
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    /// `delivered`, `failed` or `pending` (then retried at `due_at`).
    pub status: &'static str,
    pub due_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

/// Records an attempt's outcome.
pub async fn finish(db: &Db, id: i64, done: &Attempted, now: i64) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $2, due_at = $3, last_status = $4, \
             last_error = $5, updated_at = $6 WHERE id = $1",
        )
        .bind(id)
        .bind(done.status)
        .bind(done.due_at)
        .bind(done.last_status)
        .bind(done.last_error.as_deref())
        .bind(now)
        .execute(pool)
        .await?;
        Ok(())
    })
}

/// One delivery as the log shows it.
#[derive(Debug, Clone, FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub message_id: i64,
    pub status: String,
    pub attempts: i64,
    pub due_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A webhook's newest deliveries first (only if it is `channel_id`'s).
pub async fn log(
    db: &Db,
    channel_id: i64,
    webhook_id: i64,
    limit: i64,
) -> Result<Vec<DeliveryRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, DeliveryRow>(
            "SELECT d.id, d.message_id, d.status, d.attempts, d.due_at, d.last_status, \
             d.last_error, d.created_at, d.updated_at FROM webhook_deliveries d \
             JOIN outgoing_webhooks w ON w.id = d.webhook_id \
             WHERE d.webhook_id = $1 AND w.channel_id = $2 ORDER BY d.id DESC LIMIT $3",
        )
        .bind(webhook_id)
        .bind(channel_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}
