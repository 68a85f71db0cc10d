//! `securechat backup` and `securechat restore`: a deployment in one file.
//!
//! A backup is a gzip-compressed tar archive:
//!
//! - `database/securechat.db`: an SQLite snapshot taken with `VACUUM INTO`
//!   while the server keeps running — one read transaction, so it holds
//!   exactly the commits made before it began (PostgreSQL deployments back
//!   their database up with `pg_dump`; the archive then holds no database);
//! - `keys/`: the key files the server made in `DATA_DIR` (`secret_key`,
//!   `vapid_private_key`), without which restored sessions, device cookies
//!   and push subscriptions would not verify;
//! - `files/`: the blob of every live file row of the snapshot;
//! - `manifest.json`, last: versions, the snapshot's rows per table and the
//!   size and SHA-256 of every other entry.
//!
//! Consistency: an upload writes its blob before its row, so every row in
//! the snapshot had its blob on disk when the snapshot began. A message
//! deleted after the snapshot takes its blob with it, so just before the
//! snapshot every blob on disk is hard-linked into a hidden folder of the
//! files folder, where it stays readable until copied. Only a blob written
//! between those links and the snapshot, and deleted before it is copied,
//! can still be gone: such rows are marked deleted in the snapshot (and
//! listed in the manifest), so the restored server purges them as it would
//! have and never offers a file it lacks. Blobs without a row in the
//! snapshot (uploads that finished after it) are left out.
//!
//! The snapshot is one read transaction: while it runs, SQLite cannot start
//! the WAL over (`storage/checkpoint.rs` gives up waiting after a moment),
//! so the log grows for the snapshot's duration and is started over after.
//!
//! Restore reads the archive into a staging folder inside `DATA_DIR`,
//! checks every hash, the entry list, SQLite's integrity check, the schema
//! version and the row counts against the manifest, and only then moves
//! the blobs, keys and database into place (the database last).
//!
//! - [`manifest`]: the manifest and the archive's paths.
//! - [`write`]: taking a backup; [`restore`]: bringing one back.
//! - [`store`]: the SQL on the live database and on snapshot files.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::files::config::StoreConfig;

pub mod manifest;
pub mod restore;
mod store;
pub mod write;

/// What a backup reads or a restore fills: the settings of one deployment.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub files: StoreConfig,
}

impl Deployment {
    /// The SQLite file of the deployment, `None` on PostgreSQL.
    fn sqlite_path(&self) -> anyhow::Result<Option<PathBuf>> {
        if self.database_url.starts_with("postgres") {
            return Ok(None);
        }
        let options: sqlx::sqlite::SqliteConnectOptions = self
            .database_url
            .parse()
            .context("DATABASE_URL is not a valid sqlite: URL")?;
        Ok(Some(options.get_filename().to_owned()))
    }
}

/// Progress of long work on standard error: at most one line every two
/// seconds, and one at the end.
struct Progress {
    what: &'static str,
    total: usize,
    done: usize,
    bytes: u64,
    last: Instant,
}

impl Progress {
    fn new(what: &'static str, total: usize) -> Self {
        Self {
            what,
            total,
            done: 0,
            bytes: 0,
            last: Instant::now(),
        }
    }

    fn step(&mut self, bytes: u64) {
        self.done += 1;
        self.bytes += bytes;
        if self.last.elapsed() >= Duration::from_secs(2) {
            self.last = Instant::now();
            self.print();
        }
    }

    fn print(&self) {
        let count = match self.total {
            0 => self.done.to_string(),
            total => format!("{}/{total}", self.done),
        };
        eprintln!(
            "securechat: {} {count} ({})",
            self.what,
            mebibytes(self.bytes)
        );
    }
}

fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
