//! The sender: drains the push queue in the background, on every node,
//! on the background runtime (`crate::background`) with its own `db`.
//!
//! It claims due rows (a lease, in the claiming statement; see
//! `store::queue`) in batches of up to [`CLAIM_BATCH`], and sends them with
//! at most [`CONCURRENCY`] requests in flight, each on a task of its own,
//! so one slow push service does not hold up the others. Each queue write
//! is a commit on SQLite's one writer, which the message path needs, so
//! the sender writes at most once per [`WRITE_INTERVAL`]: the outcomes of
//! whatever finished since the last write and the next claim, in one
//! transaction (`store::queue::settle`), run at normal priority
//! ([`super::WebPush::write`]). A push after a quiet spell goes out at
//! once. When nothing is due it sleeps until the next row is due, the
//! fan-out rings ([`super::WebPush::queued`]), or a short poll (rows queued
//! by other nodes, leases of a node that died). On shutdown the rows it
//! holds are handed back at once, so a restart does not wait out their
//! lease.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::request::{self, CONNECT_TIMEOUT, Context, REQUEST_TIMEOUT, Tokens};
use super::store::queue::{self, Claim, Claimed, Outcome};
use crate::outbound::Clients;
use crate::state::AppState;
use crate::storage::Db;
use crate::storage::now_ms;

/// Push requests in flight at once, per node.
pub const CONCURRENCY: usize = 128;
/// Rows this node holds at most (in flight or waiting their turn). Every
/// one is sent within its lease even if each request takes its whole
/// timeout: `CLAIM_BATCH / CONCURRENCY` rounds of `request::REQUEST_TIMEOUT`.
const CLAIM_BATCH: usize = 256;
/// How long a claimed row is this node's.
const LEASE_MS: i64 = 60_000;
/// The most often the queue is written (outcomes and claims together)
/// while pushes keep coming: at most ten commits a second whatever the
/// push rate, up to `CLAIM_BATCH` rows each.
const WRITE_INTERVAL: Duration = Duration::from_millis(100);
/// The longest the sender sleeps without looking at the queue.
const POLL_MS: i64 = 2_000;
/// How soon to look again when due rows were all claimed by another node.
const RECLAIM_MS: i64 = 250;

/// The sender's HTTP clients. Built at start-up, before the listener takes
/// connections: building one reads the system's root certificates, which
/// must not compete with a flood of sockets for descriptors.
pub fn clients() -> Result<Clients, http_client::Error> {
    Clients::new(CONNECT_TIMEOUT, REQUEST_TIMEOUT)
}

/// Runs until `stop` is rung (shutdown); then hands the rows it holds back
/// to the queue and returns.
pub async fn run(state: AppState, db: Db, clients: Clients, stop: Arc<Notify>) {
    let ctx = Arc::new(Context {
        clients,
        tokens: Tokens::default(),
        vapid: state.webpush.vapid.clone(),
        subject: state.webpush.subject.clone(),
        allow_hosts: state.webpush.allow_hosts.clone(),
    });
    let mut in_flight: JoinSet<(i64, Outcome)> = JoinSet::new();
    // Claimed rows waiting for a free request slot.
    let mut waiting: VecDeque<Claimed> = VecDeque::new();
    // Every row this node holds: waiting or in flight.
    let mut held: HashSet<i64> = HashSet::new();
    let mut finished: Vec<Outcome> = Vec::new();
    let mut last_write: Option<Instant> = None;
    loop {
        while let Some(joined) = in_flight.try_join_next() {
            take(joined, &mut held, &mut finished);
        }
        while in_flight.len() < CONCURRENCY {
            let Some(row) = waiting.pop_front() else {
                break;
            };
            let ctx = Arc::clone(&ctx);
            in_flight.spawn(async move { (row.id, request::send(&ctx, &row, now_ms()).await) });
        }
        let now = now_ms();
        let mut wake_at = now + POLL_MS;
        let next_write = last_write.map(|t| t + WRITE_INTERVAL);
        let may_write = next_write.is_none_or(|t| Instant::now() >= t);
        let room = CLAIM_BATCH - held.len().min(CLAIM_BATCH);
        // A claim only when a read saw a due row: an idle queue costs no write.
        let mut claim = None;
        let mut due_soon = !finished.is_empty();
        if room >= CLAIM_BATCH / 2 {
            match queue::next_due(&db).await {
                Ok(Some(due)) if due <= now => {
                    due_soon = true;
                    if may_write {
                        claim = Some(Claim {
                            now,
                            lease_ms: LEASE_MS,
                            limit: i64::try_from(room).unwrap_or(1),
                        });
                    }
                }
                Ok(Some(due)) => wake_at = wake_at.min(due),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "reading the web push queue failed"),
            }
        }
        if may_write && (claim.is_some() || !finished.is_empty()) {
            let outcomes = std::mem::take(&mut finished);
            last_write = Some(Instant::now());
            let write_db = db.clone();
            let settled = state
                .webpush
                .write(&db, async move {
                    queue::settle(&write_db, &outcomes, claim).await
                })
                .await;
            // On a failure the outcomes are lost: their rows are sent again
            // once their lease ends (delivery is at least once).
            match settled {
                Ok(rows) if claim.is_some() && rows.is_empty() => {
                    // Due, but claimed by another node: look again shortly.
                    wake_at = wake_at.min(now + RECLAIM_MS);
                }
                Ok(rows) => {
                    held.extend(rows.iter().map(|row| row.id));
                    waiting.extend(rows);
                    continue;
                }
                Err(e) => tracing::warn!(error = %e, "writing the web push queue failed"),
            }
        }
        let mut sleep = Duration::from_millis(u64::try_from(wake_at - now).unwrap_or(0).max(10));
        if due_soon && let Some(at) = next_write {
            sleep = sleep.min(at.saturating_duration_since(Instant::now()));
        }
        tokio::select! {
            Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                take(joined, &mut held, &mut finished);
            }
            () = state.webpush.queued.notified() => {}
            () = tokio::time::sleep(sleep) => {}
            () = stop.notified() => {
                in_flight.abort_all();
                let mut release: Vec<Outcome> = std::mem::take(&mut finished);
                release.extend(held.iter().map(|&id| Outcome::Retry { id, due_at: now_ms() }));
                let write_db = db.clone();
                let handed_back = state
                    .webpush
                    .write(&db, async move { queue::settle(&write_db, &release, None).await })
                    .await;
                if let Err(e) = handed_back {
                    tracing::warn!(error = %e, "handing back web pushes in flight failed");
                }
                return;
            }
        }
    }
}

/// Records a finished send's outcome for the next write.
fn take(
    joined: Result<(i64, Outcome), tokio::task::JoinError>,
    held: &mut HashSet<i64>,
    finished: &mut Vec<Outcome>,
) {
    // A send that panicked keeps its lease and is tried again after it.
    if let Ok((id, outcome)) = joined {
        held.remove(&id);
        finished.push(outcome);
    }
}
