//! SQL for the push queue: pushes waiting to be sent, one row per
//! subscription, claimed by a sender for a lease so that several nodes
//! never send the same row at once, and kept across restarts.
//!
//! A row's `due_at` is when a sender may next claim it. Claiming moves it
//! to the end of the lease in the same statement that selects it (on
//! PostgreSQL skipping rows another node has locked), so a row claimed by a
//! node that dies is sent again once its lease ends; delivery is at least
//! once. A failure moves it to the next retry.

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// One person's push about one message: its JSON, for each of their
/// subscriptions.
pub struct Push<'a> {
    pub user_id: i64,
    pub payload: &'a str,
}

/// The per-person bounds applied as pushes are queued.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Pushes queued for one person per minute; past it, new ones are dropped.
    pub per_minute: i64,
    /// Rows one person may have waiting; past it, the oldest are dropped.
    pub queued: i64,
}

/// What [`enqueue`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Enqueued {
    /// Rows queued (one per subscription).
    pub rows: u64,
    /// Pushes dropped by the rate cap.
    pub over_rate: u64,
    /// Older rows dropped to keep a person's queue bounded.
    pub trimmed: u64,
}

/// Counts one push in the person's budget for the current minute and
/// returns how many they have had in it, this one included.
const SPEND: &str = "INSERT INTO push_budget (user_id, window_start, used) VALUES ($1, $2, 1) \
     ON CONFLICT (user_id) DO UPDATE SET \
     used = CASE WHEN push_budget.window_start <= $2 - 60000 THEN 1 ELSE push_budget.used + 1 END, \
     window_start = CASE WHEN push_budget.window_start <= $2 - 60000 THEN $2 \
     ELSE push_budget.window_start END \
     RETURNING used";

/// Queues `pushes` in one transaction: for each person within their rate
/// cap, a row per subscription they have at that moment; then their
/// oldest rows beyond the queue bound are dropped.
pub async fn enqueue(
    db: &Db,
    pushes: &[Push<'_>],
    now: i64,
    limits: Limits,
) -> Result<Enqueued, sqlx::Error> {
    let mut done = Enqueued::default();
    if pushes.is_empty() {
        return Ok(done);
    }
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        for push in pushes {
            let used: i64 = sqlx::query_scalar(SPEND)
                .bind(push.user_id)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            if used > limits.per_minute {
                done.over_rate += 1;
                continue;
            }
            done.rows += sqlx::query(
                "INSERT INTO push_queue (subscription_id, user_id, payload, created_at, due_at) \
                 SELECT s.id, s.user_id, $2, $3, $3 FROM push_subscriptions s WHERE s.user_id = $1",
            )
            .bind(push.user_id)
            .bind(push.payload)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            done.trimmed += sqlx::query(
                "DELETE FROM push_queue WHERE user_id = $1 AND id NOT IN \
                 (SELECT id FROM push_queue WHERE user_id = $1 ORDER BY id DESC LIMIT $2)",
            )
            .bind(push.user_id)
            .bind(limits.queued)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(done)
    })
}

/// When the next row becomes claimable (`None`: the queue is empty). A
/// read, so an idle sender never takes SQLite's one writer.
pub async fn next_due(db: &Db) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT MIN(due_at) FROM push_queue")
            .fetch_one(pool)
            .await
    })
}

/// A claimed row with its subscription (the subscription's fields are
/// `None` only if it was deleted in between, which also deletes the row).
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub subscription_id: i64,
    pub payload: String,
    pub created_at: i64,
    /// Attempts including this one.
    pub attempts: i64,
    pub endpoint: Option<String>,
    pub p256dh: Option<String>,
    pub auth: Option<String>,
}

/// The claim's `RETURNING`: the row and its subscription.
macro_rules! claimed_columns {
    () => {
        "RETURNING id, subscription_id, payload, created_at, attempts, \
         (SELECT s.endpoint FROM push_subscriptions s WHERE s.id = push_queue.subscription_id) AS endpoint, \
         (SELECT s.p256dh FROM push_subscriptions s WHERE s.id = push_queue.subscription_id) AS p256dh, \
         (SELECT s.auth FROM push_subscriptions s WHERE s.id = push_queue.subscription_id) AS auth"
    };
}

/// What became of a claimed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted by the push service, or given up: the row goes.
    Done { id: i64 },
    /// To be tried again at `due_at`.
    Retry { id: i64, due_at: i64 },
    /// The push service says the subscription is gone (404, 410): it goes,
    /// with every row queued for it.
    Gone { subscription_id: i64 },
}

/// A claim: up to `limit` rows due at `now`, leased for `lease_ms`.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub now: i64,
    pub lease_ms: i64,
    pub limit: i64,
}

const CLAIM_SQLITE: &str = concat!(
    "UPDATE push_queue SET due_at = $2, attempts = attempts + 1 WHERE id IN \
     (SELECT id FROM push_queue WHERE due_at <= $1 ORDER BY due_at LIMIT $3) ",
    claimed_columns!()
);

/// PostgreSQL skips the rows another node's claim has locked.
const CLAIM_POSTGRES: &str = concat!(
    "UPDATE push_queue SET due_at = $2, attempts = attempts + 1 WHERE id IN \
     (SELECT id FROM push_queue WHERE due_at <= $1 ORDER BY due_at LIMIT $3 \
     FOR UPDATE SKIP LOCKED) ",
    claimed_columns!()
);

/// In one transaction (one commit, whatever the batch's size): applies
/// the outcomes of finished sends, then makes `claim`, oldest due first,
/// and returns the rows claimed.
pub async fn settle(
    db: &Db,
    outcomes: &[Outcome],
    claim: Option<Claim>,
) -> Result<Vec<Claimed>, sqlx::Error> {
    if outcomes.is_empty() && claim.is_none() {
        return Ok(Vec::new());
    }
    let claim_sql = match db {
        Db::Sqlite { .. } => CLAIM_SQLITE,
        Db::Postgres(_) => CLAIM_POSTGRES,
    };
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        for outcome in outcomes {
            let statement = match *outcome {
                Outcome::Done { id } => {
                    sqlx::query("DELETE FROM push_queue WHERE id = $1").bind(id)
                }
                Outcome::Retry { id, due_at } => {
                    sqlx::query("UPDATE push_queue SET due_at = $2 WHERE id = $1")
                        .bind(id)
                        .bind(due_at)
                }
                Outcome::Gone { subscription_id } => {
                    sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
                        .bind(subscription_id)
                }
            };
            statement.execute(&mut *tx).await?;
        }
        let claimed = match claim {
            Some(c) => {
                sqlx::query_as::<_, Claimed>(claim_sql)
                    .bind(c.now)
                    .bind(c.now + c.lease_ms)
                    .bind(c.limit)
                    .fetch_all(&mut *tx)
                    .await?
            }
            None => Vec::new(),
        };
        tx.commit().await?;
        Ok(claimed)
    })
}
