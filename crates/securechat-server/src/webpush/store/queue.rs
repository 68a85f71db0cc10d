//! SQL for the push queue: pushes waiting to be sent, one row per
//! subscription, claimed by a sender for a lease so that several nodes
//! never send the same row at once, and kept across restarts.
//!
//! A row's `due_at` is when a sender may next claim it. Claiming moves it
//! to the end of the lease in the same statement that selects it (on
//! PostgreSQL skipping rows another node has locked), so a row claimed by a
//! node that dies is sent again once its lease ends; delivery is at least
//! once. A failure moves it to the next retry.

use std::collections::HashMap;

use sqlx::{FromRow, QueryBuilder};

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

/// The rate cap's window.
const WINDOW_MS: i64 = 60_000;

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

/// People, or pushes, per statement: at most three bound values each, far
/// below SQLite's limit of 32,766 variables and PostgreSQL's 65,535.
const CHUNK: usize = 500;

/// Queues `pushes` in one transaction of a few set-based statements,
/// whatever the batch's size (the transaction holds SQLite's one writer,
/// which the message path needs; a statement per push held it for tens
/// of milliseconds under a busy channel): each person's rate budget is
/// spent for all their pushes at once, a row is queued per subscription
/// they have at that moment for the pushes within their cap (the earliest
/// ones), then their oldest rows beyond the queue bound are dropped.
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
    // Each person's pushes in this batch, people in order of first push.
    let mut wanted: Vec<(i64, i64)> = Vec::new();
    let mut slot: HashMap<i64, usize> = HashMap::new();
    for push in pushes {
        let i = *slot.entry(push.user_id).or_insert_with(|| {
            wanted.push((push.user_id, 0));
            wanted.len() - 1
        });
        wanted[i].1 += 1;
    }
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        // How many of each person's pushes their budget still allows.
        let mut allowed: HashMap<i64, i64> = HashMap::with_capacity(wanted.len());
        for people in wanted.chunks(CHUNK) {
            let mut spend =
                QueryBuilder::new("INSERT INTO push_budget (user_id, window_start, used) ");
            spend.push_values(people, |mut row, &(user_id, count)| {
                row.push_bind(user_id).push_bind(now).push_bind(count);
            });
            spend
                .push(
                    " ON CONFLICT (user_id) DO UPDATE SET \
                     used = CASE WHEN push_budget.window_start <= ",
                )
                .push_bind(now - WINDOW_MS)
                .push(
                    " THEN excluded.used ELSE push_budget.used + excluded.used END, \
                     window_start = CASE WHEN push_budget.window_start <= ",
                )
                .push_bind(now - WINDOW_MS)
                .push(" THEN excluded.window_start ELSE push_budget.window_start END RETURNING user_id, used");
            let spent: Vec<(i64, i64)> = spend.build_query_as().fetch_all(&mut *tx).await?;
            for (user_id, used) in spent {
                let count = slot.get(&user_id).map_or(0, |&i| wanted[i].1);
                // `used` counts this batch: before it, `used - count` were spent.
                let left = (limits.per_minute - (used - count)).clamp(0, count);
                done.over_rate += u64::try_from(count - left).unwrap_or(0);
                allowed.insert(user_id, left);
            }
        }
        let mut kept: Vec<(i64, i64, &str)> = Vec::with_capacity(pushes.len());
        for (ord, push) in (0_i64..).zip(pushes) {
            if let Some(left) = allowed.get_mut(&push.user_id).filter(|left| **left > 0) {
                *left -= 1;
                kept.push((ord, push.user_id, push.payload));
            }
        }
        for batch in kept.chunks(CHUNK) {
            let mut insert = QueryBuilder::new("WITH wanted (ord, user_id, payload) AS (");
            insert.push_values(batch, |mut row, &(ord, user_id, payload)| {
                row.push_bind(ord).push_bind(user_id).push_bind(payload);
            });
            insert
                .push(
                    ") INSERT INTO push_queue (subscription_id, user_id, payload, created_at, due_at) \
                     SELECT s.id, s.user_id, w.payload, ",
                )
                .push_bind(now)
                .push(", ")
                .push_bind(now)
                .push(
                    " FROM wanted w JOIN push_subscriptions s ON s.user_id = w.user_id \
                     ORDER BY w.ord, s.id",
                );
            done.rows += insert.build().execute(&mut *tx).await?.rows_affected();
        }
        // The people who got rows, once each.
        let mut touched: Vec<i64> = kept.iter().map(|&(_, user_id, _)| user_id).collect();
        touched.sort_unstable();
        touched.dedup();
        for people in touched.chunks(CHUNK) {
            // Everything older than each person's newest `queued` rows.
            let mut trim = QueryBuilder::new(
                "DELETE FROM push_queue WHERE id <= COALESCE((SELECT p.id FROM push_queue p \
                 WHERE p.user_id = push_queue.user_id ORDER BY p.id DESC LIMIT 1 OFFSET ",
            );
            trim.push_bind(limits.queued).push("), 0) AND user_id IN (");
            let mut ids = trim.separated(", ");
            for &user_id in people {
                ids.push_bind(user_id);
            }
            trim.push(")");
            done.trimmed += trim.build().execute(&mut *tx).await?.rows_affected();
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

/// Rows waiting to be sent, for the metrics.
pub async fn depth(db: &Db) -> Result<i64, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM push_queue")
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
        // Sent rows (nearly all outcomes) go in one statement per chunk.
        let sent: Vec<i64> = outcomes
            .iter()
            .filter_map(|o| match *o {
                Outcome::Done { id } => Some(id),
                _ => None,
            })
            .collect();
        for ids in sent.chunks(CHUNK) {
            let mut delete = QueryBuilder::new("DELETE FROM push_queue WHERE id IN (");
            let mut list = delete.separated(", ");
            for &id in ids {
                list.push_bind(id);
            }
            delete.push(")");
            delete.build().execute(&mut *tx).await?;
        }
        for outcome in outcomes {
            let statement = match *outcome {
                Outcome::Done { .. } => continue,
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
