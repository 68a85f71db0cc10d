//! Background WAL checkpoints for the server's SQLite database.
//!
//! With the writer's auto-checkpoint off, commits only append to the WAL.
//! This task copies committed pages back into the database file every
//! [`INTERVAL`] in `PASSIVE` mode: it never blocks the writer or readers,
//! and copies whatever no reader still needs.
//!
//! The log starts over from its beginning only when a write begins while
//! every frame in it has been copied. Under writes that never pause that
//! never happens (the writer appends while the checkpoint copies), and the
//! log would grow for as long as the load lasts: hundreds of megabytes a
//! minute, each commit extending the file instead of overwriting pages
//! the kernel already holds. So once the log passes [`LOG_LIMIT_FRAMES`],
//! the task takes the writer's own connection between two commits and
//! checkpoints in `RESTART` mode there: it copies the little the passive
//! pass left, and the next commit writes from the start of the log again.
//! Commits wait for that copy, at most one every [`INTERVAL`].

use std::time::Duration;

use sqlx::SqlitePool;

/// Time between checkpoints.
const INTERVAL: Duration = Duration::from_millis(500);
/// Frames (a page and a 24-byte header each: about 16 MiB with 4 KiB
/// pages) past which the log is started over.
pub(super) const LOG_LIMIT_FRAMES: i64 = 4096;
/// How long a restart waits for readers still on the old log before it
/// leaves the restart to the next round; commits wait meanwhile.
const RESTART_WAIT: Duration = Duration::from_millis(100);

/// (busy, frames in the log, frames copied), as `PRAGMA wal_checkpoint`
/// reports them.
type Outcome = (i64, i64, i64);

/// Checkpoints on `pool` until `writer` is closed (the server shutting
/// down), then closes `pool`. `busy` is the writer's usual busy timeout,
/// restored after each restart.
pub async fn run(pool: SqlitePool, writer: SqlitePool, busy: Duration) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The log's length when it was last restarted: until a commit starts
    // it over, it keeps that length, and restarting it again is no use.
    let mut restarted_at = None;
    loop {
        tick.tick().await;
        if writer.is_closed() {
            pool.close().await;
            return;
        }
        let done: Result<Outcome, sqlx::Error> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await;
        match done {
            // `log` is the length when the pass began: the writer may have
            // appended meanwhile even when all of that was copied.
            Ok((_, log, _)) if log > LOG_LIMIT_FRAMES && restarted_at != Some(log) => {
                match restart(&writer, busy).await {
                    Ok(()) => restarted_at = Some(log),
                    Err(e) => tracing::warn!(error = %e, "WAL restart failed; retrying"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying"),
        }
    }
}

/// Checkpoints the whole log on the writer's connection, so no commit can
/// slip in before the next one starts the log over. Waits for readers at
/// most [`RESTART_WAIT`] instead of the usual busy timeout.
async fn restart(writer: &SqlitePool, busy: Duration) -> Result<(), sqlx::Error> {
    let mut conn = writer.acquire().await?;
    // Built from a number only.
    let set_wait =
        |wait: Duration| sqlx::AssertSqlSafe(format!("PRAGMA busy_timeout = {}", wait.as_millis()));
    sqlx::query(set_wait(RESTART_WAIT))
        .execute(&mut *conn)
        .await?;
    let done: Result<Outcome, sqlx::Error> = sqlx::query_as("PRAGMA wal_checkpoint(RESTART)")
        .fetch_one(&mut *conn)
        .await;
    if let Err(e) = sqlx::query(set_wait(busy)).execute(&mut *conn).await {
        // Not back to the usual wait: the pool opens a fresh connection.
        conn.close_on_drop();
        return Err(e);
    }
    done.map(drop)
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

    /// Under writes that never pause, a passive checkpoint never catches
    /// up with the log, so the log would never start over and would grow
    /// for as long as the load lasts. The task restarts it once it passes
    /// its limit: far more is written than the file ever holds.
    #[tokio::test]
    async fn the_log_stays_bounded_under_writes_that_never_pause() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/chat.db", dir.path().display());
        let db = Db::connect_for_server(&url).await.unwrap();
        let Db::Sqlite { writer, .. } = &db else {
            unreachable!()
        };
        sqlx::query("CREATE TABLE filler (x BLOB)")
            .execute(writer)
            .await
            .unwrap();
        let wal = dir.path().join("chat.db-wal");
        let mut written = 0u64;
        let mut largest = 0u64;
        let limit = super::LOG_LIMIT_FRAMES as u64 * (4096 + 24);
        // Several checkpoint rounds, and several times the limit written:
        // a busy machine writes slower and so runs longer.
        let started = tokio::time::Instant::now();
        let deadline = started + Duration::from_secs(120);
        while started.elapsed() < Duration::from_secs(4) || written <= 6 * limit {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {written} bytes written in two minutes"
            );
            // Each commit replaces the previous rows: the database stays
            // small, only the log would grow.
            sqlx::query("DELETE FROM filler; INSERT INTO filler VALUES (randomblob(262144))")
                .execute(writer)
                .await
                .unwrap();
            written += 262_144;
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        assert!(
            largest < 2 * limit + written / 4,
            "the log reached {largest} bytes after {written} written"
        );
    }
}
