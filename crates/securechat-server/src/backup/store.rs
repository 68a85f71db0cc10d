//! The SQL of backup and restore: the snapshot itself (`VACUUM INTO`), and
//! what is read from and written to a snapshot file — tables, their row
//! counts, the schema version and the file rows whose blobs go along.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};

/// A live file row of a snapshot: its blob must be in the archive.
pub struct BlobRow {
    pub storage_key: String,
    /// Hex SHA-256 the upload recorded.
    pub sha256: String,
}

/// Opens the SQLite file `path`, which must exist (a backup never creates
/// a database, so a wrong `DATA_DIR` cannot go unnoticed).
pub async fn open_existing(path: &Path) -> anyhow::Result<SqliteConnection> {
    let options = SqliteConnectOptions::from_str("sqlite://")
        .context("sqlite options")?
        .filename(path)
        .create_if_missing(false)
        .busy_timeout(std::time::Duration::from_secs(30));
    SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("cannot open the SQLite database {}", path.display()))
}

/// Copies the database behind `conn` into the new file `into`, as of one
/// read transaction: writers go on meanwhile (WAL), and the copy holds
/// exactly the commits made before it started.
pub async fn vacuum_into(conn: &mut SqliteConnection, into: &Path) -> anyhow::Result<()> {
    let target = into
        .to_str()
        .context("the temporary snapshot path is not valid UTF-8")?;
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(conn)
        .await
        .map(|_| ())
        .context("the SQLite snapshot (VACUUM INTO) failed")
}

/// The highest migration applied, 0 for a database never migrated.
pub async fn schema_version(conn: &mut SqliteConnection) -> anyhow::Result<i64> {
    let exists: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_one(&mut *conn)
    .await?;
    if exists == 0 {
        return Ok(0);
    }
    let version: Option<i64> =
        sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(conn)
            .await?;
    Ok(version.unwrap_or(0))
}

/// Rows per ordinary table (virtual tables are views over others and
/// their shadow tables are counted themselves).
pub async fn row_counts(conn: &mut SqliteConnection) -> anyhow::Result<BTreeMap<String, i64>> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .context("cannot list the snapshot's tables")?;
    let mut counts = BTreeMap::new();
    for name in names {
        // The name comes from the schema; quoted as an identifier.
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        let rows: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM {quoted}"
        )))
        .fetch_one(&mut *conn)
        .await
        .with_context(|| format!("cannot count the rows of {name}"))?;
        counts.insert(name, rows);
    }
    Ok(counts)
}

/// The snapshot's file rows not yet deleted, in id order.
pub async fn live_blobs(conn: &mut SqliteConnection) -> anyhow::Result<Vec<BlobRow>> {
    let rows =
        sqlx::query("SELECT storage_key, sha256 FROM files WHERE deleted_at IS NULL ORDER BY id")
            .fetch_all(conn)
            .await
            .context("cannot read the snapshot's files")?;
    rows.iter()
        .map(|r| {
            Ok(BlobRow {
                storage_key: r.try_get("storage_key")?,
                sha256: r.try_get("sha256")?,
            })
        })
        .collect()
}

/// Marks the snapshot's rows of `keys` deleted: their blobs were removed
/// after the snapshot (with their message), so the restored server purges
/// them instead of serving a file it does not have.
pub async fn mark_deleted(
    conn: &mut SqliteConnection,
    keys: &[String],
    now_ms: i64,
) -> anyhow::Result<()> {
    for key in keys {
        sqlx::query("UPDATE files SET deleted_at = $1 WHERE storage_key = $2")
            .bind(now_ms)
            .bind(key)
            .execute(&mut *conn)
            .await
            .context("cannot mark a vanished file deleted in the snapshot")?;
    }
    Ok(())
}

/// SQLite's own check of the snapshot file ("ok" when sound).
pub async fn quick_check(conn: &mut SqliteConnection) -> anyhow::Result<String> {
    let result: String = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_one(conn)
        .await
        .context("cannot check the restored database")?;
    Ok(result)
}

/// Whether a database already holds accounts (a deployment in use).
pub async fn has_accounts(conn: &mut SqliteConnection) -> anyhow::Result<bool> {
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'users'",
    )
    .fetch_one(&mut *conn)
    .await?;
    if tables == 0 {
        return Ok(false);
    }
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(conn)
        .await?;
    Ok(users > 0)
}
