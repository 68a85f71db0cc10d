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
//! A batch costs the same statements whatever its size: one `UPDATE` that
//! touches (and, on PostgreSQL, locks) its channels' rows, which keeps ids
//! growing in commit order within each channel, and one `INSERT` of every
//! row (on SQLite, also one read of the largest id before it and one of
//! the new rows after it; see `sql`).
//! Messages keep their arrival order within a channel; a message whose
//! sender is not a member of the channel's room (kicked meanwhile, or the
//! channel deleted) is simply not stored. A batch that fails (two nodes'
//! batches deadlocking, which PostgreSQL breaks by aborting one, or an I/O
//! error) is retried one message per transaction, so one bad message fails
//! alone.

use tokio::sync::{mpsc, oneshot};

use crate::storage::Db;

/// Largest batch committed at once (on SQLite its rows travel as one JSON
/// text, at most 512 × a 64 KiB envelope).
const MAX_BATCH: usize = 512;
/// Messages waiting for the writer before senders wait to enqueue.
const QUEUE: usize = 8192;

/// What a sender submits.
pub struct NewMessage<'a> {
    pub channel_id: i64,
    pub sender_id: i64,
    pub content: Option<&'a str>,
    pub envelope: Option<&'a str>,
    pub key_version: Option<i64>,
    pub client_msg_id: &'a str,
    pub reply_to: Option<i64>,
    /// An uploaded file this message carries.
    pub file_id: Option<i64>,
    /// The root of the thread this message replies in (checked by the
    /// insert: a live top-level message of the same channel).
    pub thread_root_id: Option<i64>,
    /// A thread reply also shown in the channel.
    pub also_send_to_channel: bool,
    /// Posted through an incoming webhook (`webhooks/`), shown as it.
    pub webhook: Option<&'a Integration>,
    pub now: i64,
}

/// The integration a message is shown as from: the incoming webhook that
/// posted it, with the name and icon it showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    pub id: i64,
    pub name: String,
    pub icon_url: Option<String>,
}

/// What became of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// Stored under this id, disappearing at this time (ms since the
    /// epoch) if its channel had a timer when it was stored.
    New(i64, Option<i64>),
    /// Not stored: a unique constraint holds (a retry of a stored
    /// `client_msg_id`, or a file already in a message), or the sender is
    /// not (or no longer) a member of the channel's room.
    Missing,
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
    thread_root_id: Option<i64>,
    also_send_to_channel: bool,
    webhook: Option<Integration>,
    now: i64,
    reply: oneshot::Sender<Result<Inserted, sqlx::Error>>,
}

/// The handle senders use; cheap to clone.
#[derive(Clone)]
pub struct MessageWriter {
    queue: mpsc::Sender<Job>,
}

impl MessageWriter {
    /// Starts the writer (needs a Tokio runtime); it stops once every
    /// handle is dropped.
    ///
    /// On SQLite it runs on a thread of its own, with a single-threaded
    /// runtime. A batch is two round trips to sqlx's SQLite worker thread,
    /// and each answer wakes the writer from that thread: as a task of the
    /// server's runtime, the writer then waited behind every handler task
    /// the previous commit had just woken (hundreds, each sending its ack
    /// and broadcast), so the database sat idle between commits. On its own
    /// thread the next batch starts as soon as the previous one is durable.
    /// On PostgreSQL the writer stays a task of the server's runtime: the
    /// pool's connections are sockets, served by the runtime that opened
    /// them.
    pub fn start(db: Db) -> std::io::Result<Self> {
        let (queue, jobs) = mpsc::channel(QUEUE);
        if matches!(db, Db::Postgres(_)) {
            tokio::spawn(run(db, jobs));
        } else {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()?;
            std::thread::Builder::new()
                .name("message-writer".into())
                .spawn(move || runtime.block_on(run(db, jobs)))?;
        }
        Ok(Self { queue })
    }

    /// Messages waiting for a commit, for the metrics.
    pub fn queued(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
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
            thread_root_id: new.thread_root_id,
            also_send_to_channel: new.also_send_to_channel,
            webhook: new.webhook.cloned(),
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
        let metrics = crate::metrics::get();
        match commit(&db, &batch).await {
            Ok(outcomes) => {
                metrics.commit(batch.len(), stored(&outcomes));
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
                metrics.commit_failures.inc();
                for job in batch.drain(..) {
                    let outcome = commit(&db, std::slice::from_ref(&job))
                        .await
                        .map(|mut o| o.pop().unwrap_or(Inserted::Missing));
                    if let Ok(inserted) = &outcome {
                        metrics.commit(1, stored(std::slice::from_ref(inserted)));
                    }
                    let _ = job.reply.send(outcome);
                }
            }
        }
    }
}

/// How many of a commit's outcomes are new rows.
fn stored(outcomes: &[Inserted]) -> usize {
    outcomes
        .iter()
        .filter(|o| matches!(o, Inserted::New(..)))
        .count()
}

/// The batch's statements, the same text for every batch so each is
/// prepared once per connection: the rows travel as one parameter (a JSON
/// array on SQLite, one array per column on PostgreSQL), not as nine
/// numbered parameters a row. One round trip to the database per statement
/// whatever the batch size, and no per-parameter cost (SQLite looks a
/// numbered parameter up by a linear scan, which made large multi-row
/// `VALUES` lists quadratic).
mod sql {
    /// The SQLite transaction as two queries, each one round trip to
    /// sqlx's SQLite worker thread. The first takes the write lock (the
    /// `UPDATE`) and reads the largest message id, which every new row's id
    /// exceeds: nothing else writes while the lock is held. The second
    /// inserts the rows, leaving out those whose sender is not a member of
    /// the channel's room (membership is checked in the same transaction
    /// that stores the message, so a kick committed just before cannot be
    /// raced), adds their CJK characters to the search index that the
    /// server fills itself (`search::cjk`; the tenth value of a row, made
    /// before the transaction) and moves its high-water mark when nothing
    /// below is missing, and answers with one row: the new rows as a JSON
    /// array.
    /// One row instead of `RETURNING` one row a message: sqlx hands each
    /// row over from its worker thread on its own, a wake-up of the writer
    /// task per row, which made a 500-row batch spend most of its time
    /// switching threads.
    pub const SQLITE_BEGIN: &str = "BEGIN IMMEDIATE; \
         UPDATE channels SET last_message_at = $1 WHERE id IN (SELECT value FROM json_each($2)); \
         SELECT COALESCE(MAX(id), 0) FROM messages";
    pub const SQLITE_INSERT: &str = "INSERT INTO messages (channel_id, sender_id, content, \
         envelope, key_version, client_msg_id, reply_to, created_at, file_id, thread_root_id, \
         also_send_to_channel, webhook_id, webhook_name, webhook_icon, expires_at) \
         SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
         value ->> 6, value ->> 7, value ->> 8, value ->> 10, COALESCE(value ->> 11, 0), \
         value ->> 12, value ->> 13, value ->> 14, value ->> 7 + 1000 * \
         (SELECT c.disappearing_seconds FROM channels c WHERE c.id = value ->> 0) \
         FROM json_each($1) \
         WHERE EXISTS (SELECT 1 FROM channels c JOIN room_members m ON m.room_id = c.room_id \
         WHERE c.id = value ->> 0 AND m.user_id = value ->> 1) \
         AND (value ->> 10 IS NULL OR EXISTS (SELECT 1 FROM messages r WHERE r.id = value ->> 10 \
         AND r.channel_id = value ->> 0 AND r.thread_root_id IS NULL AND r.deleted_at IS NULL)) \
         ON CONFLICT DO NOTHING; \
         INSERT INTO thread_summaries (root_id, channel_id, reply_count, last_reply_id, \
         last_reply_at) \
         SELECT thread_root_id, MIN(channel_id), COUNT(*), MAX(id), MAX(created_at) FROM messages \
         WHERE id > $2 AND thread_root_id IS NOT NULL GROUP BY thread_root_id \
         ON CONFLICT (root_id) DO UPDATE SET \
         reply_count = thread_summaries.reply_count + excluded.reply_count, \
         last_reply_id = MAX(thread_summaries.last_reply_id, excluded.last_reply_id), \
         last_reply_at = MAX(COALESCE(thread_summaries.last_reply_at, 0), excluded.last_reply_at); \
         INSERT INTO thread_follows (user_id, root_id, following, first_reply_id, last_read_id, \
         updated_at) \
         SELECT sender_id, thread_root_id, TRUE, MIN(id), MAX(id), MAX(created_at) FROM messages \
         WHERE id > $2 AND thread_root_id IS NOT NULL AND sender_id IS NOT NULL \
         GROUP BY sender_id, thread_root_id \
         ON CONFLICT (user_id, root_id) DO UPDATE SET following = TRUE, \
         first_reply_id = COALESCE(thread_follows.first_reply_id, excluded.first_reply_id), \
         last_read_id = MAX(thread_follows.last_read_id, excluded.last_read_id), \
         updated_at = excluded.updated_at; \
         INSERT INTO thread_follows (user_id, root_id, following, first_reply_id, last_read_id, \
         updated_at) \
         SELECT r.sender_id, r.id, TRUE, NULL, 0, r.created_at FROM messages r \
         WHERE r.id IN (SELECT thread_root_id FROM messages WHERE id > $2) \
         AND r.sender_id IS NOT NULL \
         ON CONFLICT (user_id, root_id) DO NOTHING; \
         INSERT INTO messages_cjk (rowid, text) \
         SELECT m.id, value ->> 9 FROM json_each($1) \
         JOIN messages m ON m.sender_id = value ->> 1 AND m.client_msg_id = value ->> 5 \
         WHERE value ->> 9 IS NOT NULL AND m.id > $2; \
         UPDATE search_cjk_mark SET indexed_through = (SELECT MAX(id) FROM messages) \
         WHERE indexed_through >= $2; \
         SELECT json_group_array(json_array(id, sender_id, client_msg_id, expires_at)) \
         FROM messages \
         WHERE id > $2; \
         COMMIT";
    pub const POSTGRES_TOUCH: &str = "UPDATE channels SET last_message_at = $1 WHERE id = ANY($2)";
    pub const POSTGRES_INSERT: &str = "INSERT INTO messages (channel_id, sender_id, content, \
         envelope, key_version, client_msg_id, reply_to, created_at, file_id, thread_root_id, \
         also_send_to_channel, webhook_id, webhook_name, webhook_icon, expires_at) \
         SELECT j.*, j.created_at + 1000 * \
         (SELECT c.disappearing_seconds FROM channels c WHERE c.id = j.channel_id) \
         FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], \
         $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::boolean[], \
         $12::bigint[], $13::text[], $14::text[]) \
         AS j (channel_id, sender_id, content, envelope, key_version, client_msg_id, reply_to, \
         created_at, file_id, thread_root_id, also_send_to_channel, webhook_id, webhook_name, \
         webhook_icon) \
         WHERE EXISTS (SELECT 1 FROM channels c JOIN room_members m ON m.room_id = c.room_id \
         WHERE c.id = j.channel_id AND m.user_id = j.sender_id) \
         AND (j.thread_root_id IS NULL OR EXISTS (SELECT 1 FROM messages r \
         WHERE r.id = j.thread_root_id AND r.channel_id = j.channel_id \
         AND r.thread_root_id IS NULL AND r.deleted_at IS NULL)) \
         ON CONFLICT DO NOTHING RETURNING id, sender_id, client_msg_id, expires_at";
    /// The thread statements, run only for a batch that stored replies
    /// (`$1`: the new ids): the summary row of each root, counted up in
    /// the write (`reply_count + n`, never a value read before), then the
    /// repliers' follow rows (following again, their read marker past
    /// their reply) and the roots' authors' (kept as they are if present).
    pub const POSTGRES_SUMMARIES: &str = "INSERT INTO thread_summaries (root_id, channel_id, \
         reply_count, last_reply_id, last_reply_at) \
         SELECT thread_root_id, MIN(channel_id), COUNT(*), MAX(id), MAX(created_at) FROM messages \
         WHERE id = ANY($1) AND thread_root_id IS NOT NULL GROUP BY thread_root_id \
         ON CONFLICT (root_id) DO UPDATE SET \
         reply_count = thread_summaries.reply_count + excluded.reply_count, \
         last_reply_id = GREATEST(thread_summaries.last_reply_id, excluded.last_reply_id), \
         last_reply_at = GREATEST(thread_summaries.last_reply_at, excluded.last_reply_at)";
    pub const POSTGRES_REPLIERS: &str = "INSERT INTO thread_follows (user_id, root_id, following, \
         first_reply_id, last_read_id, updated_at) \
         SELECT sender_id, thread_root_id, TRUE, MIN(id), MAX(id), MAX(created_at) FROM messages \
         WHERE id = ANY($1) AND thread_root_id IS NOT NULL AND sender_id IS NOT NULL \
         GROUP BY sender_id, thread_root_id \
         ON CONFLICT (user_id, root_id) DO UPDATE SET following = TRUE, \
         first_reply_id = COALESCE(thread_follows.first_reply_id, excluded.first_reply_id), \
         last_read_id = GREATEST(thread_follows.last_read_id, excluded.last_read_id), \
         updated_at = excluded.updated_at";
    pub const POSTGRES_ROOT_AUTHORS: &str = "INSERT INTO thread_follows (user_id, root_id, \
         following, first_reply_id, last_read_id, updated_at) \
         SELECT r.sender_id, r.id, TRUE, NULL, 0, r.created_at FROM messages r \
         WHERE r.id IN (SELECT thread_root_id FROM messages WHERE id = ANY($1)) \
         AND r.sender_id IS NOT NULL \
         ON CONFLICT (user_id, root_id) DO NOTHING";
}

/// Inserts `jobs` in one transaction: one `UPDATE` of their channels and
/// one `INSERT` of all the rows.
async fn commit(db: &Db, jobs: &[Job]) -> Result<Vec<Inserted>, sqlx::Error> {
    let mut channels: Vec<i64> = jobs.iter().map(|j| j.channel_id).collect();
    channels.dedup(); // `jobs` is sorted by channel.
    let now = jobs.iter().map(|j| j.now).max().unwrap_or(0);
    let rows = match db {
        Db::Sqlite { writer, .. } => commit_sqlite(writer, jobs, &channels, now).await?,
        Db::Postgres(pool) => commit_postgres(pool, jobs, &channels, now).await?,
    };
    Ok(match_ids(jobs, rows))
}

type Returned = Vec<(i64, i64, String, Option<i64>)>;

async fn commit_sqlite(
    pool: &sqlx::SqlitePool,
    jobs: &[Job],
    channels: &[i64],
    now: i64,
) -> Result<Returned, sqlx::Error> {
    let channels = serde_json::to_string(channels).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let rows: Vec<_> = jobs
        .iter()
        .map(|j| {
            (
                j.channel_id,
                j.sender_id,
                j.content.as_deref(),
                j.envelope.as_deref(),
                j.key_version,
                j.client_msg_id.as_str(),
                j.reply_to,
                j.now,
                j.file_id,
                j.content.as_deref().and_then(crate::search::cjk::tokens),
                j.thread_root_id,
                j.also_send_to_channel,
                j.webhook.as_ref().map(|w| w.id),
                j.webhook.as_ref().map(|w| w.name.as_str()),
                j.webhook.as_ref().and_then(|w| w.icon_url.as_deref()),
            )
        })
        .collect();
    let rows = serde_json::to_string(&rows).map_err(|e| sqlx::Error::Encode(e.into()))?;
    let mut conn = pool.acquire().await?;
    let inserted = insert_sqlite(&mut conn, now, &channels, &rows).await;
    if inserted.is_err() {
        // The statement that failed left the transaction open.
        if let Err(e) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
            tracing::debug!(error = %e, "rollback after a failed batch");
        }
    }
    inserted
}

async fn insert_sqlite(
    conn: &mut sqlx::SqliteConnection,
    now: i64,
    channels: &str,
    rows: &str,
) -> Result<Returned, sqlx::Error> {
    let last: i64 = sqlx::query_scalar(sql::SQLITE_BEGIN)
        .bind(now)
        .bind(channels)
        .fetch_one(&mut *conn)
        .await?;
    // `fetch_all`, not `fetch_one`: sqlx stops a query at its first row
    // when asked for one, and the `COMMIT` comes after it.
    let new: Vec<String> = sqlx::query_scalar(sql::SQLITE_INSERT)
        .bind(rows)
        .bind(last)
        .fetch_all(&mut *conn)
        .await?;
    let new = new.first().ok_or(sqlx::Error::RowNotFound)?;
    serde_json::from_str(new).map_err(|e| sqlx::Error::Decode(e.into()))
}

async fn commit_postgres(
    pool: &sqlx::PgPool,
    jobs: &[Job],
    channels: &[i64],
    now: i64,
) -> Result<Returned, sqlx::Error> {
    let column = |f: fn(&Job) -> Option<i64>| jobs.iter().map(f).collect::<Vec<_>>();
    let text = |f: fn(&Job) -> Option<&str>| jobs.iter().map(f).collect::<Vec<_>>();
    let mut tx = pool.begin().await?;
    // Locks these channels' rows; see `store`'s module doc.
    sqlx::query(sql::POSTGRES_TOUCH)
        .bind(now)
        .bind(channels)
        .execute(&mut *tx)
        .await?;
    let returned: Returned = sqlx::query_as(sql::POSTGRES_INSERT)
        .bind(column(|j| Some(j.channel_id)))
        .bind(column(|j| Some(j.sender_id)))
        .bind(text(|j| j.content.as_deref()))
        .bind(text(|j| j.envelope.as_deref()))
        .bind(column(|j| j.key_version))
        .bind(text(|j| Some(j.client_msg_id.as_str())))
        .bind(column(|j| j.reply_to))
        .bind(column(|j| Some(j.now)))
        .bind(column(|j| j.file_id))
        .bind(column(|j| j.thread_root_id))
        .bind(
            jobs.iter()
                .map(|j| j.also_send_to_channel)
                .collect::<Vec<_>>(),
        )
        .bind(column(|j| j.webhook.as_ref().map(|w| w.id)))
        .bind(text(|j| j.webhook.as_ref().map(|w| w.name.as_str())))
        .bind(text(|j| {
            j.webhook.as_ref().and_then(|w| w.icon_url.as_deref())
        }))
        .fetch_all(&mut *tx)
        .await?;
    if jobs.iter().any(|j| j.thread_root_id.is_some()) {
        let ids: Vec<i64> = returned.iter().map(|(id, _, _, _)| *id).collect();
        for statement in [
            sql::POSTGRES_SUMMARIES,
            sql::POSTGRES_REPLIERS,
            sql::POSTGRES_ROOT_AUTHORS,
        ] {
            sqlx::query(statement)
                .bind(ids.as_slice())
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(returned)
}

/// Pairs each job with its new id. The new rows come in no promised
/// order, so they are matched by (sender, client id), which is unique;
/// a second job with the same pair in one batch was the conflict, and a
/// job with no row was a conflict or a sender outside the room.
fn match_ids(jobs: &[Job], rows: Returned) -> Vec<Inserted> {
    let mut ids: std::collections::HashMap<(i64, String), (i64, Option<i64>)> = rows
        .into_iter()
        .map(|(id, sender, client_id, expires)| ((sender, client_id), (id, expires)))
        .collect();
    jobs.iter()
        .map(|job| {
            ids.remove(&(job.sender_id, job.client_msg_id.clone()))
                .map_or(Inserted::Missing, |(id, expires)| {
                    Inserted::New(id, expires)
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Inserted, MessageWriter, NewMessage};
    use crate::storage::Db;

    fn message<'a>(channel: i64, sender: i64, content: &'a str, id: &'a str) -> NewMessage<'a> {
        NewMessage {
            channel_id: channel,
            sender_id: sender,
            content: Some(content),
            envelope: None,
            key_version: None,
            client_msg_id: id,
            reply_to: None,
            file_id: None,
            thread_root_id: None,
            also_send_to_channel: false,
            webhook: None,
            now: 1_700_000_000_000,
        }
    }

    /// A fresh database with alice and her room (the directory lives as
    /// long as the first value).
    async fn room() -> (
        tempfile::TempDir,
        Db,
        crate::auth::store::UserRow,
        crate::rooms::store::ChannelRow,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/chat.db", dir.path().display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let user = crate::auth::admin::add_demo_user(&db, "alice", "password123", false)
            .await
            .unwrap();
        let (_, channel) = crate::rooms::store::create_room(&db, "R", "", false, user.id, 1)
            .await
            .unwrap();
        (dir, db, user, channel)
    }

    /// Sends `texts` at once (client ids `{prefix}0`, `{prefix}1`, …), so
    /// they share a batch; outcomes in the same order.
    async fn send_all(
        writer: &MessageWriter,
        channel: i64,
        user: i64,
        texts: &[&str],
        prefix: &str,
    ) -> Vec<Result<Inserted, sqlx::Error>> {
        futures_util::future::join_all(texts.iter().enumerate().map(|(i, text)| {
            let id = format!("{prefix}{i}");
            async move { writer.insert(&message(channel, user, text, &id)).await }
        }))
        .await
    }

    /// Messages committed together keep their exact text (quotes,
    /// backslashes, newlines, non-ASCII: the rows travel as JSON), get
    /// distinct ids; a repeated client id in the same batch conflicts, and
    /// a sender outside the room stores nothing.
    #[tokio::test]
    async fn a_batch_stores_each_message_exactly_once() {
        let (_dir, db, user, channel) = room().await;
        let writer = MessageWriter::start(db.clone()).unwrap();
        let texts = ["plain", "\"quoted\" \\ back\nslash", "héllo 👋 \u{0}"];
        let firsts = send_all(&writer, channel.id, user.id, &texts, "m");
        let dup = message(channel.id, user.id, "dup", "m0");
        let again = writer.insert(&dup);
        let (firsts, again) = tokio::join!(firsts, again);
        let mut ids = Vec::new();
        for outcome in &firsts {
            match outcome {
                Ok(Inserted::New(id, _)) => ids.push(*id),
                other => panic!("not stored: {other:?}"),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 3);
        assert_eq!(again.unwrap(), Inserted::Missing);
        // Someone outside the room: the insert leaves the row out.
        let outsider = crate::auth::admin::add_demo_user(&db, "mallory", "password123", false)
            .await
            .unwrap();
        let intruding = message(channel.id, outsider.id, "let me in", "x1");
        assert_eq!(writer.insert(&intruding).await.unwrap(), Inserted::Missing);
        let crate::storage::Db::Sqlite { writer: pool, .. } = &db else {
            unreachable!()
        };
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT client_msg_id, content FROM messages ORDER BY client_msg_id")
                .fetch_all(pool)
                .await
                .unwrap();
        let expected: Vec<(String, String)> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("m{i}"), (*t).to_owned()))
            .collect();
        assert_eq!(stored, expected);
    }

    /// A batch that fails is rolled back and retried one message at a
    /// time: only the bad message fails, and the connection is left
    /// outside any transaction for the next batch.
    #[tokio::test]
    async fn a_failed_batch_fails_only_its_bad_message() {
        let (_dir, db, user, channel) = room().await;
        let crate::storage::Db::Sqlite { writer: pool, .. } = &db else {
            unreachable!()
        };
        sqlx::query(
            "CREATE TRIGGER refuse_boom BEFORE INSERT ON messages WHEN NEW.content = 'boom' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .execute(pool)
        .await
        .unwrap();
        let writer = MessageWriter::start(db.clone()).unwrap();
        let texts = ["one", "boom", "three"];
        let outcomes = send_all(&writer, channel.id, user.id, &texts, "b").await;
        assert!(matches!(outcomes[0], Ok(Inserted::New(..))));
        assert!(outcomes[1].is_err());
        assert!(matches!(outcomes[2], Ok(Inserted::New(..))));
        let later = message(channel.id, user.id, "later", "b3");
        assert!(matches!(writer.insert(&later).await, Ok(Inserted::New(..))));
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(count, 3);
    }

    /// On SQLite the writer commits on its own thread: a send completes
    /// while the sender's runtime is not running at all, so a commit never
    /// waits for that runtime's other tasks.
    #[test]
    fn sqlite_commits_do_not_wait_for_the_senders_runtime() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (_dir, db, user, channel) = runtime.block_on(room());
        let crate::storage::Db::Sqlite { writer: pool, .. } = &db else {
            unreachable!()
        };
        // sqlx hands a connection back to its pool from a task of the
        // runtime that used it: let the set-up's connection go back.
        runtime.block_on(async {
            while pool.num_idle() < pool.size() as usize {
                tokio::task::yield_now().await;
            }
        });
        let writer = runtime
            .block_on(async { MessageWriter::start(db.clone()) })
            .unwrap();
        let new = message(channel.id, user.id, "hello", "own-thread");
        let mut send = std::pin::pin!(writer.insert(&new));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        // Polled by hand: the runtime above is idle from here on.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let outcome = loop {
            if let std::task::Poll::Ready(outcome) = send.as_mut().poll(&mut cx) {
                break outcome;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the commit waited for the sender's runtime"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        assert!(matches!(outcome, Ok(Inserted::New(..))), "{outcome:?}");
    }
}
