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

/// One message row written straight into `messages`.
#[derive(Debug, Clone)]
pub struct Row {
    pub channel_id: i64,
    pub sender_id: i64,
    pub content: String,
    pub client_msg_id: String,
    pub created_at: i64,
}

/// Rows inserted per statement: one JSON array bound as a single value, so
/// neither engine's limit on bound values applies.
const ROW_BATCH: u64 = 5_000;

/// Inserts `total` rows made by `make(n)` (n from 1), in batches, each in
/// its own transaction. The tables' triggers and indexes (the search
/// index) are kept as the server's own writes keep them.
pub async fn insert_rows(url: &str, total: u64, mut make: impl FnMut(u64) -> Row) -> Result<()> {
    enum Conn {
        Pg(sqlx::PgConnection),
        Lite(sqlx::SqliteConnection),
    }
    let mut conn = if url.starts_with("postgres") {
        Conn::Pg(sqlx::PgConnection::connect(url).await?)
    } else {
        let mut db = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&mut db)
            .await?;
        Conn::Lite(db)
    };
    let mut n = 1;
    while n <= total {
        let end = (n + ROW_BATCH - 1).min(total);
        let rows: Vec<(i64, i64, String, String, i64)> = (n..=end)
            .map(|i| {
                let r = make(i);
                (
                    r.channel_id,
                    r.sender_id,
                    r.content,
                    r.client_msg_id,
                    r.created_at,
                )
            })
            .collect();
        let json = serde_json::to_string(&rows)?;
        match &mut conn {
            Conn::Pg(db) => {
                sqlx::query(
                    "INSERT INTO messages (channel_id, sender_id, content, client_msg_id, created_at) \
                     SELECT (e->>0)::bigint, (e->>1)::bigint, e->>2, e->>3, (e->>4)::bigint \
                     FROM jsonb_array_elements($1::jsonb) AS e",
                )
                .bind(json)
                .execute(&mut *db)
                .await
                .context("inserting seeded messages")?;
            }
            Conn::Lite(db) => {
                sqlx::query(
                    "INSERT INTO messages (channel_id, sender_id, content, client_msg_id, created_at) \
                     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 \
                     FROM json_each(?1)",
                )
                .bind(json)
                .execute(&mut *db)
                .await
                .context("inserting seeded messages")?;
            }
        }
        n = end + 1;
    }
    match &mut conn {
        Conn::Pg(db) => {
            sqlx::query("ANALYZE messages").execute(&mut *db).await?;
        }
        Conn::Lite(db) => {
            sqlx::query("ANALYZE").execute(&mut *db).await?;
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&mut *db)
                .await?;
        }
    }
    Ok(())
}

/// Runs one statement (schema changes of the index-cost scenario).
pub async fn execute(url: &str, sql: &str) -> Result<()> {
    if url.starts_with("postgres") {
        let mut db = sqlx::PgConnection::connect(url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut db)
            .await
            .with_context(|| format!("running {sql}"))?;
    } else {
        let mut db = sqlx::SqliteConnection::connect(url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut db)
            .await
            .with_context(|| format!("running {sql}"))?;
    }
    Ok(())
}

/// One number from a query (a count, an id).
pub async fn scalar(url: &str, sql: &str) -> Result<i64> {
    if url.starts_with("postgres") {
        let mut db = sqlx::PgConnection::connect(url).await?;
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&mut db)
            .await
            .with_context(|| format!("running {sql}"))?)
    } else {
        let mut db = sqlx::SqliteConnection::connect(url).await?;
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&mut db)
            .await
            .with_context(|| format!("running {sql}"))?)
    }
}
