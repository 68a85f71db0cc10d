//! The database handle: SQLite (embedded, the default) or PostgreSQL.
//!
//! sqlx's `Any` driver loses types and speed, so [`Db`] is an enum over the
//! two native pools instead, and the [`with_db!`](crate::with_db) macro runs
//! the same query text against whichever is configured. Queries are written
//! once, in the SQL both engines share: `$1` placeholders, `RETURNING`,
//! `ON CONFLICT`, integer ids and times as UTC milliseconds (`BIGINT`).
//!
//! SQLite gets one writer connection (SQLite serializes writers anyway; a
//! single connection turns lock contention into a queue) and a small pool of
//! read-only connections, in WAL mode so readers never block the writer;
//! the server checkpoints the WAL from a connection of its own
//! ([`checkpoint`]).
//!
//! Each domain module keeps its own SQL next to its handlers; this module only
//! connects and migrates.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod checkpoint;
mod time;

pub use time::{now_ms, rfc3339};

/// Migrations, one folder per dialect; see `migrations/README.md`.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long a SQLite connection waits for a lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows sqlx's SQLite worker thread may hand over before waiting for the
/// task to take them. Its default, 50, is less than a page of history (51
/// rows with the one that tells whether there is more), so the worker
/// would stop and be woken again in the middle of most pages; the largest
/// page (201 rows) fits. Rows are buffered only as they are produced.
const SQLITE_ROW_BUFFER: usize = 256;

/// Who copies SQLite's write-ahead log back into the database file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Checkpoints {
    /// The committing connection, when the log passes 1000 pages (SQLite's
    /// default; right for short-lived commands).
    OnCommit,
    /// A background task ([`checkpoint`]).
    Background,
}

/// A connected database. Cheap to clone (the pools are reference-counted).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite {
        /// The single connection that writes.
        writer: SqlitePool,
        /// Read-only connections.
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the native pool for the configured
/// engine. `read` uses SQLite's read-only pool; `write` its single writer.
/// The body is compiled once per engine, so it must be valid for both.
#[macro_export]
macro_rules! with_db {
    ($db:expr, read, |$pool:ident| $body:expr) => {
        match $db {
            $crate::storage::Db::Sqlite { reader: $pool, .. } => $body,
            $crate::storage::Db::Postgres($pool) => $body,
        }
    };
    ($db:expr, write, |$pool:ident| $body:expr) => {
        match $db {
            $crate::storage::Db::Sqlite { writer: $pool, .. } => $body,
            $crate::storage::Db::Postgres($pool) => $body,
        }
    };
}

/// Escapes `%`, `_` and `\\` for a `LIKE … ESCAPE '\\'` pattern, so user
/// search text matches literally on both engines.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The newest migration this build carries (both engines have the same
/// numbers), so a backup from a newer schema is recognised.
pub fn latest_migration() -> i64 {
    SQLITE_MIGRATIONS
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

impl Db {
    /// Connects to `url` (`sqlite:…` or `postgres://…`), creating a SQLite
    /// file and its directory if needed.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::open(url, Checkpoints::OnCommit).await
    }

    /// [`Db::connect`] for the long-running server: SQLite commits no
    /// longer copy the WAL back into the database (an auto-checkpoint, with
    /// its fsync of the main file, stalls every commit queued behind the
    /// one that triggers it); a task on its own connection does that in
    /// the background instead, without blocking the writer.
    pub async fn connect_for_server(url: &str) -> anyhow::Result<Self> {
        Self::open(url, Checkpoints::Background).await
    }

    async fn open(url: &str, checkpoints: Checkpoints) -> anyhow::Result<Self> {
        if url.starts_with("postgres") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await
                .context("cannot connect to PostgreSQL (check DATABASE_URL)")?;
            return Ok(Self::Postgres(pool));
        }
        let options = SqliteConnectOptions::from_str(url)
            .context("DATABASE_URL is not a valid sqlite: URL")?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .row_buffer_size(SQLITE_ROW_BUFFER)
            .foreign_keys(true)
            // Temporary files in memory. A write of many rows inside a
            // transaction (a group commit's `INSERT`) keeps a statement
            // journal, which past 64 KiB would spill to a temporary file
            // created, written and deleted on every batch.
            .pragma("temp_store", "memory");
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let writer_options = match checkpoints {
            Checkpoints::OnCommit => options.clone(),
            // The log file keeps its size when it starts over (its pages
            // stay cached), up to this; past a spike it is cut back.
            Checkpoints::Background => options
                .clone()
                .pragma("wal_autocheckpoint", "0")
                .pragma("journal_size_limit", (64 << 20).to_string()),
        };
        // No ping before handing out a connection: an in-process SQLite
        // connection cannot have been hung up on, and the ping was a round
        // trip to its worker thread (two thread wake-ups) before every
        // query's own.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(writer_options)
            .await
            .context("cannot open the SQLite database")?;
        if checkpoints == Checkpoints::Background {
            let checkpointer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await
                .context("cannot open the SQLite database for checkpoints")?;
            tokio::spawn(checkpoint::run(
                checkpointer,
                writer.clone(),
                SQLITE_BUSY_TIMEOUT,
            ));
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options.read_only(true))
            .await
            .context("cannot open the SQLite database for reading")?;
        Ok(Self::Sqlite { writer, reader })
    }

    /// This database for tasks on the background runtime
    /// (`crate::background`). PostgreSQL gets a small pool of its own,
    /// whose connections are opened on first use, so from that runtime: a
    /// socket belongs to the runtime that opened it, and one of the main
    /// pool's opened there would leave request handlers waiting on a
    /// low-priority thread. SQLite's connections run on threads of their
    /// own and are shared (there is one writer either way).
    pub fn for_background(&self, connections: u32) -> Self {
        match self {
            Self::Sqlite { .. } => self.clone(),
            Self::Postgres(pool) => Self::Postgres(
                PgPoolOptions::new()
                    .max_connections(connections.max(1))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_lazy_with((*pool.connect_options()).clone()),
            ),
        }
    }

    /// Applies pending migrations. Safe to run on every start.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await,
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .context("applying database migrations failed")
    }

    /// Which engine this is, for logs.
    pub fn engine(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// A cheap round trip, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        with_db!(self, read, |pool| sqlx::query("SELECT 1")
            .execute(pool)
            .await
            .map(|_| ()))
    }

    /// Closes every connection, letting SQLite checkpoint its WAL.
    pub async fn close(&self) {
        match self {
            Self::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(super::escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }

    /// Every connection keeps temporary files (a batch's statement
    /// journal among them) in memory.
    #[tokio::test]
    async fn temporary_files_stay_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/chat.db", dir.path().display());
        let db = super::Db::connect_for_server(&url).await.unwrap();
        let super::Db::Sqlite { writer, reader } = &db else {
            unreachable!()
        };
        for pool in [writer, reader] {
            let store: i64 = sqlx::query_scalar("PRAGMA temp_store")
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(store, 2, "temp_store is not MEMORY");
        }
    }

    /// The bundled SQLite is built with the options `.cargo/config.toml`
    /// sets: without them every page of history is planned again on every
    /// request, and every SQLite allocation takes a global lock.
    #[tokio::test]
    async fn sqlite_is_built_with_our_options() {
        let dir = tempfile::tempdir().unwrap();
        let db = super::Db::connect(&format!("sqlite://{}/chat.db", dir.path().display()))
            .await
            .unwrap();
        let super::Db::Sqlite { reader, .. } = &db else {
            unreachable!()
        };
        let options: Vec<String> = sqlx::query_scalar("PRAGMA compile_options")
            .fetch_all(reader)
            .await
            .unwrap();
        for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
            assert!(
                options.iter().any(|o| o == wanted),
                "{wanted} missing from {options:?}"
            );
        }
    }
}
