//! Removing blobs nothing refers to any more: files of deleted messages
//! (at once, and again by the sweep if that failed), of deleted channels and
//! rooms, and uploads never posted within an hour.

use std::time::Duration;

use super::blob::Blobs;
use super::store;
use crate::storage::{Db, now_ms};

/// How long an upload may wait for the message that posts it.
const UNPOSTED_GRACE_MS: i64 = 60 * 60 * 1000;
/// Files handled per sweep round.
const BATCH: i64 = 100;

/// Removes a blob, logging (not failing) if the store refuses: the sweep
/// tries again.
pub async fn delete_blob(blobs: &Blobs, key: &str) {
    if let Err(e) = blobs.delete(key).await {
        tracing::warn!(error = %e, "could not remove a blob; the sweep will retry");
    }
}

/// Removes one deleted file's blob, then its record.
pub async fn purge(db: &Db, blobs: &Blobs, id: i64, key: &str) -> Result<(), sqlx::Error> {
    match blobs.delete(key).await {
        Ok(()) => store::forget(db, id).await,
        Err(e) => {
            tracing::warn!(file_id = id, error = %e, "could not remove a blob; the sweep will retry");
            Ok(())
        }
    }
}

/// One sweep round: purges up to a batch of files that are due. Returns
/// how many were due (a blob the store refused stays due until next time).
pub async fn sweep(db: &Db, blobs: &Blobs) -> Result<usize, sqlx::Error> {
    let due = store::to_purge(db, now_ms() - UNPOSTED_GRACE_MS, BATCH).await?;
    for (id, key) in &due {
        purge(db, blobs, *id, key).await?;
    }
    Ok(due.len())
}

/// Sweeps every `every` until the task is aborted.
pub async fn run(db: Db, blobs: Blobs, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match sweep(&db, &blobs).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "removed unreferenced files"),
            Err(e) => tracing::warn!(error = %e, "file sweep failed"),
        }
    }
}
