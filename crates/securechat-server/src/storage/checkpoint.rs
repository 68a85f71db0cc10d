//! Background WAL checkpoints for the server's SQLite database.
//!
//! With the writer's auto-checkpoint off, commits only append to the WAL.
//! This task copies committed pages back into the database file every
//! [`INTERVAL`] in `PASSIVE` mode: it never blocks the writer or readers,
//! and copies whatever no reader still needs. The WAL restarts from the
//! beginning once a checkpoint has caught up, so it stays about as large as
//! what is written between two checkpoints.

use std::time::Duration;

use sqlx::SqlitePool;

/// Time between checkpoints.
const INTERVAL: Duration = Duration::from_millis(500);

/// Checkpoints on `pool` until `writer` is closed (the server shutting
/// down), then closes `pool`.
pub async fn run(pool: SqlitePool, writer: SqlitePool) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if writer.is_closed() {
            pool.close().await;
            return;
        }
        let done: Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&pool)
                .await;
        if let Err(e) = done {
            tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::storage::Db;

    /// Commits on the server's connection leave the WAL to the background
    /// task, which copies it into the database file.
    #[tokio::test]
    async fn the_background_task_checkpoints_what_commits_leave() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/chat.db", dir.path().display());
        let db = Db::connect_for_server(&url).await.unwrap();
        db.migrate().await.unwrap();
        let Db::Sqlite { writer, .. } = &db else {
            unreachable!()
        };
        let pending = |pool: sqlx::SqlitePool| async move {
            // (busy, frames in the log, frames checkpointed), without copying.
            let (_, log, done): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(NOOP)")
                .fetch_one(&pool)
                .await
                .unwrap();
            log - done
        };
        let autocheckpoint: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(writer)
            .await
            .unwrap();
        assert_eq!(autocheckpoint, 0);
        sqlx::query("CREATE TABLE filler (x BLOB)")
            .execute(writer)
            .await
            .unwrap();
        for _ in 0..50 {
            sqlx::query("INSERT INTO filler VALUES (randomblob(8192))")
                .execute(writer)
                .await
                .unwrap();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while pending(writer.clone()).await > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "WAL never checkpointed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
