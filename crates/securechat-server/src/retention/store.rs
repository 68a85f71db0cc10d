//! SQL of the purge job. Every delete is idempotent and bounded: it names
//! its rows by a range or a `LIMIT`, so two nodes running the job at once
//! at worst find nothing left to delete, and no transaction holds the
//! database for longer than one small batch.
//!
//! Deleting a message row takes with it, in the same transaction, its
//! reactions, pins, saved rows and pending email rows (foreign keys with
//! `ON DELETE CASCADE`) and its search-index rows (SQLite: the triggers of
//! `messages_fts` and `messages_cjk`; PostgreSQL: the `pg_trgm` index). Its
//! file is marked deleted in the same transaction; the file sweep
//! (`files/cleanup.rs`) removes the blob.

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

const DAY_MS: i64 = 24 * 3600 * 1000;

/// A channel whose room keeps messages for a limited time.
#[derive(Debug, Clone, FromRow)]
pub struct Retained {
    pub channel_id: i64,
    /// Messages created before this (ms since the epoch) are due.
    pub cutoff: i64,
}

/// Every channel of a room with a retention policy, with its cutoff at `now`.
pub async fn retained(db: &Db, now: i64) -> Result<Vec<Retained>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Retained>(
            "SELECT c.id AS channel_id, $1 - r.retention_days * $2 AS cutoff \
             FROM channels c JOIN rooms r ON r.id = c.room_id \
             WHERE r.retention_days IS NOT NULL ORDER BY c.id",
        )
        .bind(now)
        .bind(DAY_MS)
        .fetch_all(pool)
        .await
    })
}

/// Every channel with a disappearing timer, with the moment before which
/// its messages have disappeared.
pub async fn timed(db: &Db, now: i64) -> Result<Vec<Retained>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Retained>(
            "SELECT id AS channel_id, $1 - disappearing_seconds * 1000 AS cutoff \
             FROM channels WHERE disappearing_seconds IS NOT NULL ORDER BY id",
        )
        .bind(now)
        .fetch_all(pool)
        .await
    })
}

/// The id of the newest of the channel's oldest `limit` messages that were
/// all created before `cutoff`: the batch [`delete_through`] may take.
///
/// Reads at most `limit` rows from the `(channel_id, id)` index whatever
/// the channel's size: ids grow in commit order within a channel, so
/// messages past the cutoff are a prefix of it. The prefix stops at the
/// first message not yet due; one stored with an earlier time behind it
/// waits for the next pass.
pub async fn due_through(
    db: &Db,
    channel_id: i64,
    cutoff: i64,
    limit: i64,
) -> Result<Option<i64>, sqlx::Error> {
    let oldest: Vec<(i64, i64)> = with_db!(db, read, |pool| {
        sqlx::query_as(
            "SELECT id, created_at FROM messages WHERE channel_id = $1 ORDER BY id LIMIT $2",
        )
        .bind(channel_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })?;
    Ok(oldest
        .iter()
        .take_while(|(_, created_at)| *created_at < cutoff)
        .last()
        .map(|(id, _)| *id))
}

/// Deletes the channel's messages with ids up to `through`, in one short
/// transaction, marking their files deleted at `now`; the ids deleted.
/// Messages stored later have larger ids, so a writer's new message is
/// never in the range.
pub async fn delete_through(
    db: &Db,
    channel_id: i64,
    through: i64,
    now: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE files SET deleted_at = $1 WHERE deleted_at IS NULL AND id IN \
             (SELECT file_id FROM messages WHERE channel_id = $2 AND id <= $3 \
              AND file_id IS NOT NULL)",
        )
        .bind(now)
        .bind(channel_id)
        .bind(through)
        .execute(&mut *tx)
        .await?;
        // Thread replies going now leave their root's count (a reply
        // deleted by its author already left it).
        sqlx::query(
            "UPDATE thread_summaries SET reply_count = reply_count - \
             (SELECT COUNT(*) FROM messages r WHERE r.thread_root_id = thread_summaries.root_id \
             AND r.deleted_at IS NULL AND r.channel_id = $1 AND r.id <= $2) \
             WHERE root_id IN (SELECT thread_root_id FROM messages \
             WHERE channel_id = $1 AND id <= $2 AND thread_root_id IS NOT NULL)",
        )
        .bind(channel_id)
        .bind(through)
        .execute(&mut *tx)
        .await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "DELETE FROM messages WHERE channel_id = $1 AND id <= $2 RETURNING id",
        )
        .bind(channel_id)
        .bind(through)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ids)
    })
}

/// Whether any message's disappearing time passed by `now`: a read, so an
/// idle pass never takes SQLite's write lock.
pub async fn any_expired(db: &Db, now: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE expires_at <= $1 AND expires_at IS NOT NULL)",
        )
        .bind(now)
        .fetch_one(pool)
        .await
    })
}

/// Deletes up to `limit` messages whose disappearing time passed by `now`,
/// soonest first, marking their files deleted; `(id, channel_id)` of each.
pub async fn delete_expired(db: &Db, now: i64, limit: i64) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE files SET deleted_at = $1 WHERE deleted_at IS NULL AND id IN \
             (SELECT file_id FROM messages WHERE expires_at <= $1 AND file_id IS NOT NULL \
              ORDER BY expires_at, id LIMIT $2)",
        )
        .bind(now)
        .bind(limit)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE thread_summaries SET reply_count = reply_count - \
             (SELECT COUNT(*) FROM messages r WHERE r.thread_root_id = thread_summaries.root_id \
             AND r.deleted_at IS NULL AND r.id IN \
             (SELECT id FROM messages WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2)) \
             WHERE root_id IN (SELECT thread_root_id FROM messages WHERE id IN \
             (SELECT id FROM messages WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2))",
        )
        .bind(now)
        .bind(limit)
        .execute(&mut *tx)
        .await?;
        let gone: Vec<(i64, i64)> = sqlx::query_as(
            "DELETE FROM messages WHERE id IN \
             (SELECT id FROM messages WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2) \
             RETURNING id, channel_id",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(gone)
    })
}

/// Deletes the channel's sealed key shares no kept message needs: of key
/// versions older than both the channel's current one and its oldest kept
/// message's, created before `cutoff` (a share newer than the policy is
/// kept even if its version has no message left). The count deleted.
pub async fn delete_old_shares(db: &Db, channel_id: i64, cutoff: i64) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        let done = sqlx::query(
            "DELETE FROM channel_keys WHERE channel_id = $1 AND created_at < $2 \
             AND key_version < (SELECT c.key_version FROM channels c WHERE c.id = $1) \
             AND key_version < COALESCE((SELECT m.key_version FROM messages m \
                 WHERE m.channel_id = $1 ORDER BY m.id LIMIT 1), \
               (SELECT c.key_version FROM channels c WHERE c.id = $1))",
        )
        .bind(channel_id)
        .bind(cutoff)
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    })
}

/// The room of a channel, if it still exists (a purge's event names it).
pub async fn room_of(db: &Db, channel_id: i64) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT room_id FROM channels WHERE id = $1")
            .bind(channel_id)
            .fetch_optional(pool)
            .await
    })
}
