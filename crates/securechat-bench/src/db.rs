//! Straight to the database of a server under test: a fresh PostgreSQL
//! database per run, history seeded in bulk (the server is stopped while
//! it runs), and row counts to check acks against.
//!
//! Every server under test keeps messages in a table `messages` with the
//! columns used here (Securechat's schema; the peers copy these names), so
//! the same statements serve all of them.

use anyhow::{Context, Result};
use sqlx::Connection;

/// Creates an empty database next to `admin_url`'s and returns its URL.
pub async fn fresh_postgres(admin_url: &str) -> Result<String> {
    let name = format!("securechat_bench_{}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .with_context(|| format!("cannot reach PostgreSQL at {admin_url}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .context("cannot create the benchmark database (the user needs CREATEDB)")?;
    let (base, _) = admin_url
        .rsplit_once('/')
        .context("the PostgreSQL URL has no database name")?;
    Ok(format!("{base}/{name}"))
}

/// Drops a database made by [`fresh_postgres`].
pub async fn drop_postgres(admin_url: &str, url: &str) {
    let Some((_, name)) = url.rsplit_once('/') else {
        return;
    };
    if let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
    }
}

/// What [`seed_history`] writes.
#[derive(Debug, Clone, Copy)]
pub struct Seed {
    /// The channel read from afterwards and how many rows it gets.
    pub channel_id: i64,
    pub channel_rows: i64,
    /// The other channel that takes the rest of `total_rows`.
    pub filler_channel_id: i64,
    pub total_rows: i64,
    pub sender_id: i64,
}

/// Inserts `total_rows` messages, exactly `channel_rows` of them in the
/// measured channel, evenly interleaved with the filler channel's as real
/// traffic would be. Returns the measured channel's id range.
pub async fn seed_history(url: &str, seed: Seed) -> Result<(i64, i64)> {
    let now = 1_700_000_000_000_i64;
    const BATCH: i64 = 200_000;
    if url.starts_with("postgres") {
        let mut db = sqlx::PgConnection::connect(url).await?;
        let mut from = 1;
        while from <= seed.total_rows {
            let to = (from + BATCH - 1).min(seed.total_rows);
            sqlx::query(
                "INSERT INTO messages (channel_id, sender_id, content, client_msg_id, created_at) \
                 SELECT CASE WHEN (n * $1) / $8 > ((n - 1) * $1) / $8 THEN $2 ELSE $3 END, $4, \
                        'history message ' || n, 'seed-' || n, $5 + n \
                 FROM generate_series($6::bigint, $7::bigint) AS n",
            )
            .bind(seed.channel_rows)
            .bind(seed.channel_id)
            .bind(seed.filler_channel_id)
            .bind(seed.sender_id)
            .bind(now)
            .bind(from)
            .bind(to)
            .bind(seed.total_rows)
            .execute(&mut db)
            .await?;
            from = to + 1;
        }
        sqlx::query("ANALYZE messages").execute(&mut db).await?;
    } else {
        let mut db = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&mut db)
            .await?;
        let mut from = 1;
        while from <= seed.total_rows {
            let to = (from + BATCH - 1).min(seed.total_rows);
            sqlx::query(
                "WITH RECURSIVE s(n) AS (SELECT ?6 UNION ALL SELECT n + 1 FROM s WHERE n < ?7) \
                 INSERT INTO messages (channel_id, sender_id, content, client_msg_id, created_at) \
                 SELECT CASE WHEN (n * ?1) / ?8 > ((n - 1) * ?1) / ?8 THEN ?2 ELSE ?3 END, ?4, \
                        'history message ' || n, 'seed-' || n, ?5 + n FROM s",
            )
            .bind(seed.channel_rows)
            .bind(seed.channel_id)
            .bind(seed.filler_channel_id)
            .bind(seed.sender_id)
            .bind(now)
            .bind(from)
            .bind(to)
            .bind(seed.total_rows)
            .execute(&mut db)
            .await?;
            from = to + 1;
        }
        sqlx::query("ANALYZE").execute(&mut db).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut db)
            .await?;
    }
    let range: (i64, i64) = query_range(url, seed.channel_id).await?;
    Ok(range)
}

async fn query_range(url: &str, channel_id: i64) -> Result<(i64, i64)> {
    let sql = "SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0) FROM messages WHERE channel_id = ";
    let sql = format!("{sql}{channel_id}");
    if url.starts_with("postgres") {
        let mut db = sqlx::PgConnection::connect(url).await?;
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut db)
            .await?)
    } else {
        let mut db = sqlx::SqliteConnection::connect(url).await?;
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut db)
            .await?)
    }
}

/// Messages stored in `channels` (read while the server runs: WAL readers
/// do not block it).
pub async fn count_messages(url: &str, channels: &[i64]) -> Result<i64> {
    let list: Vec<String> = channels.iter().map(i64::to_string).collect();
    let sql = format!(
        "SELECT COUNT(*) FROM messages WHERE channel_id IN ({})",
        list.join(",")
    );
    if url.starts_with("postgres") {
        let mut db = sqlx::PgConnection::connect(url).await?;
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut db)
            .await?)
    } else {
        let mut db = sqlx::SqliteConnection::connect(url).await?;
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&mut db)
            .await?)
    }
}
