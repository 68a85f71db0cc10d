//! SQL for the messages waiting to be mailed: recorded as messages are
//! decided (`record`), claimed one person at a time for a digest
//! (`claim`), then deleted once sent or put back for a retry (`settle`).
//!
//! The rules live in the statements themselves: a row is recorded only for
//! a person with a verified address and fewer than [`MAX_PER_PERSON`]
//! rows; a claim first drops the rows whose message was read (the person's
//! read marker in its channel is at or past it), deleted, or is in a room
//! they left; it goes ahead only if a remaining row is due, and takes the
//! person's digest slot in the same transaction (`last_digest_at` at most
//! once per delay window, in a conditional update that a second node's
//! claim waits on and then fails), so two nodes never mail the same
//! person at once and nobody gets more than one digest per window.

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// Rows one person may have waiting; messages beyond it are not listed.
pub const MAX_PER_PERSON: i64 = 200;

/// A message to list in a person's next digest.
#[derive(Debug, Clone, Copy)]
pub struct NewPending {
    pub user_id: i64,
    pub message_id: i64,
    pub channel_id: i64,
}

/// Records `rows` (each due `delay_ms` from `now`) in one transaction;
/// returns how many were recorded.
pub async fn record(
    db: &Db,
    rows: &[NewPending],
    now: i64,
    delay_ms: i64,
) -> Result<u64, sqlx::Error> {
    if rows.is_empty() {
        return Ok(0);
    }
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let mut recorded = 0;
        for row in rows {
            recorded += sqlx::query(
                "INSERT INTO email_pending (user_id, message_id, channel_id, created_at, due_at) \
                 SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM email_addresses e \
                 WHERE e.user_id = $1 AND e.verified_at IS NOT NULL) \
                 AND (SELECT COUNT(*) FROM email_pending WHERE user_id = $1) < $6 \
                 ON CONFLICT (user_id, message_id) DO NOTHING",
            )
            .bind(row.user_id)
            .bind(row.message_id)
            .bind(row.channel_id)
            .bind(now)
            .bind(now + delay_ms)
            .bind(MAX_PER_PERSON)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(recorded)
    })
}

/// People with a due row not leased, whose digest slot is free at `now`,
/// whose account is not disabled (a read: an idle queue costs no write).
pub async fn due_people(
    db: &Db,
    now: i64,
    delay_ms: i64,
    limit: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT DISTINCT p.user_id FROM email_pending p \
             JOIN email_addresses e ON e.user_id = p.user_id \
             JOIN users u ON u.id = p.user_id AND NOT u.disabled \
             WHERE p.due_at <= $1 AND (p.leased_until IS NULL OR p.leased_until <= $1) \
             AND e.verified_at IS NOT NULL \
             AND (e.last_digest_at IS NULL OR e.last_digest_at <= $2) \
             ORDER BY p.user_id LIMIT $3",
        )
        .bind(now)
        .bind(now - delay_ms)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// One message of a claimed digest.
#[derive(Debug, Clone, FromRow)]
pub struct Row {
    pub channel_id: i64,
    pub channel: String,
    pub room: String,
    pub room_kind: String,
    pub is_encrypted: bool,
    pub sender: Option<String>,
    pub content: Option<String>,
    /// Sends tried, this one included.
    pub attempts: i64,
}

/// A person's digest, claimed until `leased_until`.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub user_id: i64,
    pub address: String,
    pub verified_at: i64,
    /// When it was claimed: the person's `last_digest_at`.
    pub claimed_at: i64,
    pub leased_until: i64,
    pub rows: Vec<Row>,
}

/// Claims `user_id`'s digest at `now` (see the module's rules): every
/// unread row of theirs not leased, oldest first. `None` when nothing is
/// due or the slot is taken.
pub async fn claim(
    db: &Db,
    user_id: i64,
    now: i64,
    delay_ms: i64,
    lease_ms: i64,
) -> Result<Option<Claimed>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "DELETE FROM email_pending WHERE user_id = $1 AND ( \
             NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = email_pending.message_id \
                         AND m.deleted_at IS NULL) \
             OR EXISTS (SELECT 1 FROM read_markers r WHERE r.user_id = email_pending.user_id \
                        AND r.channel_id = email_pending.channel_id \
                        AND r.message_id >= email_pending.message_id) \
             OR NOT EXISTS (SELECT 1 FROM channels c JOIN room_members rm ON rm.room_id = c.room_id \
                            WHERE c.id = email_pending.channel_id \
                            AND rm.user_id = email_pending.user_id))",
        )
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
        let due: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM email_pending WHERE user_id = $1 AND due_at <= $2 \
             AND (leased_until IS NULL OR leased_until <= $2)",
        )
        .bind(user_id)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let slot: Option<(String, i64)> = if due == 0 {
            None
        } else {
            sqlx::query_as(
                "UPDATE email_addresses SET last_digest_at = $2 WHERE user_id = $1 \
                 AND verified_at IS NOT NULL AND (last_digest_at IS NULL OR last_digest_at <= $3) \
                 RETURNING address, verified_at",
            )
            .bind(user_id)
            .bind(now)
            .bind(now - delay_ms)
            .fetch_optional(&mut *tx)
            .await?
        };
        let Some((address, verified_at)) = slot else {
            tx.commit().await?;
            return Ok(None);
        };
        let leased_until = now + lease_ms;
        sqlx::query(
            "UPDATE email_pending SET leased_until = $3, attempts = attempts + 1 \
             WHERE user_id = $1 AND (leased_until IS NULL OR leased_until <= $2)",
        )
        .bind(user_id)
        .bind(now)
        .bind(leased_until)
        .execute(&mut *tx)
        .await?;
        let rows = sqlx::query_as::<_, Row>(
            "SELECT p.channel_id, c.name AS channel, r.name AS room, \
             r.kind AS room_kind, c.is_encrypted, u.username AS sender, m.content, p.attempts \
             FROM email_pending p JOIN messages m ON m.id = p.message_id \
             JOIN channels c ON c.id = p.channel_id JOIN rooms r ON r.id = c.room_id \
             LEFT JOIN users u ON u.id = m.sender_id \
             WHERE p.user_id = $1 AND p.leased_until = $2 ORDER BY p.message_id",
        )
        .bind(user_id)
        .bind(leased_until)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(Claimed {
            user_id,
            address,
            verified_at,
            claimed_at: now,
            leased_until,
            rows,
        }))
    })
}

/// What became of a claimed digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the SMTP server: the rows go.
    Sent,
    /// Refused or unreachable: the rows wait until `retry_at` (the slot is
    /// freed, since nothing was mailed), and those tried `max_attempts`
    /// times are given up.
    Failed { retry_at: i64, max_attempts: i64 },
}

/// Applies `outcome` to the digest `claimed`; returns the rows given up.
pub async fn settle(db: &Db, claimed: &Claimed, outcome: Outcome) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let mut given_up = 0;
        match outcome {
            Outcome::Sent => {
                sqlx::query("DELETE FROM email_pending WHERE user_id = $1 AND leased_until = $2")
                    .bind(claimed.user_id)
                    .bind(claimed.leased_until)
                    .execute(&mut *tx)
                    .await?;
            }
            Outcome::Failed {
                retry_at,
                max_attempts,
            } => {
                given_up = sqlx::query(
                    "DELETE FROM email_pending WHERE user_id = $1 AND leased_until = $2 \
                     AND attempts >= $3",
                )
                .bind(claimed.user_id)
                .bind(claimed.leased_until)
                .bind(max_attempts)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                sqlx::query(
                    "UPDATE email_pending SET leased_until = NULL, due_at = $3 \
                     WHERE user_id = $1 AND leased_until = $2",
                )
                .bind(claimed.user_id)
                .bind(claimed.leased_until)
                .bind(retry_at)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "UPDATE email_addresses SET last_digest_at = NULL \
                     WHERE user_id = $1 AND last_digest_at = $2",
                )
                .bind(claimed.user_id)
                .bind(claimed.claimed_at)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(given_up)
    })
}

/// Messages waiting for a digest, for the metrics.
pub async fn depth(db: &Db) -> Result<i64, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM email_pending")
            .fetch_one(pool)
            .await
    })
}
