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
//! Within a batch, messages are inserted in channel order (stable, so each
//! channel keeps its arrival order), which makes concurrent batches on
//! several nodes take their channel-row locks in the same order: no
//! deadlocks. A batch that fails (a channel deleted meanwhile, say) is
//! retried one message per transaction, so one bad message fails alone.

use tokio::sync::{mpsc, oneshot};

use super::store::NewMessage;
use crate::storage::Db;
use crate::with_db;

/// Largest batch committed at once.
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

/// Inserts `jobs` in one transaction.
async fn commit(db: &Db, jobs: &[Job]) -> Result<Vec<Inserted>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut locked = None;
        for job in jobs {
            // Serializes writers of this channel; see `store`'s module doc.
            if locked != Some(job.channel_id) {
                sqlx::query("UPDATE channels SET last_message_at = $1 WHERE id = $2")
                    .bind(job.now)
                    .bind(job.channel_id)
                    .execute(&mut *tx)
                    .await?;
                locked = Some(job.channel_id);
            }
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO messages (channel_id, sender_id, content, envelope, key_version, \
                 client_msg_id, reply_to, created_at, file_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT DO NOTHING RETURNING id",
            )
            .bind(job.channel_id)
            .bind(job.sender_id)
            .bind(job.content.as_deref())
            .bind(job.envelope.as_deref())
            .bind(job.key_version)
            .bind(&job.client_msg_id)
            .bind(job.reply_to)
            .bind(job.now)
            .bind(job.file_id)
            .fetch_optional(&mut *tx)
            .await?;
            outcomes.push(id.map_or(Inserted::Conflict, Inserted::New));
        }
        tx.commit().await?;
        Ok(outcomes)
    })
}
