//! Group commit for new messages.
//!
//! Every new message goes through one writer task per node, which takes
//! whatever has queued up while the previous commit was being made durable
//! and commits it as one transaction. With `synchronous=FULL` a commit costs
//! an fsync, so one commit per message caps a server at a few hundred
//! messages a second on ordinary disks; batching spreads that fsync over
//! every message waiting for it. Nothing waits for a timer: an idle server
//! commits a lone message at once, and each sender is still acked only
//! after the commit that holds its message.
//!
//! A batch costs a few statements: one `UPDATE` that touches (and, on
//! PostgreSQL, locks) its channels' rows, which keeps ids growing in commit
//! order within each channel, and multi-row `INSERT`s of a few dozen rows.
//! Messages keep their arrival order within a channel. A batch that fails
//! (a channel deleted meanwhile, or two nodes' batches deadlocking, which
//! PostgreSQL breaks by aborting one) is retried one message per
//! transaction, so one bad message fails alone.

use tokio::sync::{mpsc, oneshot};

use super::store::NewMessage;
use crate::storage::Db;
use crate::with_db;

/// Largest batch committed at once (9 parameters a message stays well
/// under SQLite's 32766 and PostgreSQL's 65535).
const MAX_BATCH: usize = 512;
/// Messages waiting for the writer before senders wait to enqueue.
const QUEUE: usize = 8192;

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored under this id.
    New(i64),
    /// Not stored: a unique constraint holds (a retry of a stored
    /// `client_msg_id`, or a file already in a message).
    Conflict,
}

/// A queued message, owned, with where to send the outcome.
struct Job {
    channel_id: i64,
    sender_id: i64,
    content: Option<String>,
    envelope: Option<String>,
    key_version: Option<i64>,
    client_msg_id: String,
    reply_to: Option<i64>,
    file_id: Option<i64>,
    now: i64,
    reply: oneshot::Sender<Result<Inserted, sqlx::Error>>,
}

/// The handle senders use; cheap to clone.
#[derive(Clone)]
pub struct MessageWriter {
    queue: mpsc::Sender<Job>,
}

impl MessageWriter {
    /// Starts the writer task on `db` (needs a Tokio runtime).
    pub fn start(db: Db) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, jobs));
        Self { queue }
    }

    /// Stores `new` in the next group commit; returns once it is durable.
    pub async fn insert(&self, new: &NewMessage<'_>) -> Result<Inserted, sqlx::Error> {
        let (reply, outcome) = oneshot::channel();
        let job = Job {
            channel_id: new.channel_id,
            sender_id: new.sender_id,
            content: new.content.map(str::to_owned),
            envelope: new.envelope.map(str::to_owned),
            key_version: new.key_version,
            client_msg_id: new.client_msg_id.to_owned(),
            reply_to: new.reply_to,
            file_id: new.file_id,
            now: new.now,
            reply,
        };
        self.queue
            .send(job)
            .await
            .map_err(|_| sqlx::Error::PoolClosed)?;
        outcome.await.map_err(|_| sqlx::Error::PoolClosed)?
    }
}

async fn run(db: Db, mut jobs: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch.sort_by_key(|job| job.channel_id);
        match commit(&db, &batch).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.reply.send(Ok(outcome));
                }
            }
            Err(e) if batch.len() == 1 => {
                if let Some(job) = batch.pop() {
                    let _ = job.reply.send(Err(e));
                }
            }
            Err(_) => {
                for job in batch.drain(..) {
                    let outcome = commit(&db, std::slice::from_ref(&job))
                        .await
                        .map(|mut o| o.pop().unwrap_or(Inserted::Conflict));
                    let _ = job.reply.send(outcome);
                }
            }
        }
    }
}

/// Columns bound per message in the multi-row insert.
const COLUMNS: usize = 9;
/// Messages per `INSERT` statement. SQLite looks numbered parameters up
/// by a linear scan when binding, so one statement for a whole batch would
/// cost time quadratic in its size; a few dozen rows keep that negligible
/// while still sharing each round trip to the database thread.
const INSERT_ROWS: usize = 32;

/// Inserts `jobs` in one transaction: one `UPDATE` of their channels and
/// multi-row `INSERT`s (a round trip per statement, not two per message).
async fn commit(db: &Db, jobs: &[Job]) -> Result<Vec<Inserted>, sqlx::Error> {
    let mut channels: Vec<i64> = jobs.iter().map(|j| j.channel_id).collect();
    channels.dedup(); // `jobs` is sorted by channel.
    let now = jobs.iter().map(|j| j.now).max().unwrap_or(0);
    let update = update_sql(channels.len());
    let rows: Vec<(i64, i64, String)> = with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        // Serializes writers of these channels; see `store`'s module doc.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(update.as_str())).bind(now);
        for id in &channels {
            query = query.bind(*id);
        }
        query.execute(&mut *tx).await?;
        let mut rows = Vec::with_capacity(jobs.len());
        for chunk in jobs.chunks(INSERT_ROWS) {
            let sql = insert_sql(chunk.len());
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for job in chunk {
                query = query
                    .bind(job.channel_id)
                    .bind(job.sender_id)
                    .bind(job.content.as_deref())
                    .bind(job.envelope.as_deref())
                    .bind(job.key_version)
                    .bind(job.client_msg_id.as_str())
                    .bind(job.reply_to)
                    .bind(job.now)
                    .bind(job.file_id);
            }
            rows.extend(query.fetch_all(&mut *tx).await?);
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(rows)
    })?;
    Ok(match_ids(jobs, rows))
}

/// Pairs each job with its new id. `RETURNING` rows come in no promised
/// order, so they are matched by (sender, client id), which is unique;
/// a second job with the same pair in one batch was the conflict.
fn match_ids(jobs: &[Job], rows: Vec<(i64, i64, String)>) -> Vec<Inserted> {
    let mut ids: std::collections::HashMap<(i64, String), i64> = rows
        .into_iter()
        .map(|(id, sender, client_id)| ((sender, client_id), id))
        .collect();
    jobs.iter()
        .map(|job| {
            ids.remove(&(job.sender_id, job.client_msg_id.clone()))
                .map_or(Inserted::Conflict, Inserted::New)
        })
        .collect()
}

fn update_sql(channels: usize) -> String {
    let mut sql = String::from("UPDATE channels SET last_message_at = $1 WHERE id IN (");
    for i in 0..channels {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!("${}", i + 2));
    }
    sql.push(')');
    sql
}

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO messages (channel_id, sender_id, content, envelope, key_version, \
         client_msg_id, reply_to, created_at, file_id) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..COLUMNS {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * COLUMNS + column + 1));
        }
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT DO NOTHING RETURNING id, sender_id, client_msg_id");
    sql
}

#[cfg(test)]
mod tests {
    use super::{insert_sql, update_sql};

    #[test]
    fn statements_number_their_parameters() {
        assert_eq!(
            update_sql(2),
            "UPDATE channels SET last_message_at = $1 WHERE id IN ($2, $3)"
        );
        let sql = insert_sql(2);
        assert!(
            sql.contains("($1, $2, $3, $4, $5, $6, $7, $8, $9), ($10, $11"),
            "{sql}"
        );
        assert!(
            sql.ends_with("$18) ON CONFLICT DO NOTHING RETURNING id, sender_id, client_msg_id")
        );
    }
}
