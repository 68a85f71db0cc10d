//! The sender: drains the push queue in the background, on every node.
//!
//! It claims due rows (a lease, in the claiming statement; see
//! `store::queue`) only as fast as it has room for: at most
//! [`CONCURRENCY`] requests are in flight, each on a task of its own, so
//! one slow push service does not hold up the others. Claims wait until
//! half the slots are free, and are made in one transaction with the
//! outcomes of whatever finished (`store::queue::settle`), so a busy
//! queue costs one commit per batch of pushes, not per push (SQLite has
//! one writer, which the message path needs). When
//! nothing is due it sleeps until the next row is due, the fan-out rings
//! ([`super::WebPush::queued`]), or a short poll (rows queued by other
//! nodes, leases of a node that died). On shutdown the rows still in
//! flight are handed back at once, so a restart does not wait out their
//! lease.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::request::{self, Clients, Context, Tokens};
use super::store::queue::{self, Claim, Outcome};
use crate::state::AppState;
use crate::storage::now_ms;

/// Push requests in flight at once, per node.
pub const CONCURRENCY: usize = 64;
/// How long a claimed row is this node's: longer than a request may take.
const LEASE_MS: i64 = 60_000;
/// The longest the sender sleeps without looking at the queue.
const POLL_MS: i64 = 2_000;
/// Rows are claimed for at least this many free slots at once (or when
/// nothing is in flight), and outcomes written with the claim, so that
/// the queue's writes — each a commit — are shared by many pushes.
const CLAIM_AT_ONCE: usize = CONCURRENCY / 2;
/// The longest an outcome waits to be written with others.
const FINISH_DELAY: Duration = Duration::from_millis(50);
/// How soon to look again when due rows were all claimed by another node.
const RECLAIM_MS: i64 = 250;

/// Runs until `stop` is rung (shutdown); then hands the rows in flight
/// back to the queue and returns.
pub async fn run(state: AppState, stop: Arc<Notify>) {
    let clients = match Clients::new() {
        Ok(clients) => clients,
        Err(e) => {
            tracing::error!(error = %e, "web push is off: its HTTP client cannot be built");
            return;
        }
    };
    let ctx = Arc::new(Context {
        clients,
        tokens: Tokens::default(),
        vapid: state.webpush.vapid.clone(),
        subject: state.webpush.subject.clone(),
        allow_hosts: state.webpush.allow_hosts.clone(),
    });
    let mut in_flight: JoinSet<(i64, Outcome)> = JoinSet::new();
    let mut claimed: HashSet<i64> = HashSet::new();
    let mut finished: Vec<Outcome> = Vec::new();
    // When the oldest outcome not yet written came in.
    let mut finished_since: Option<Instant> = None;
    loop {
        while let Some(joined) = in_flight.try_join_next() {
            take(joined, &mut claimed, &mut finished, &mut finished_since);
        }
        let room = CONCURRENCY - in_flight.len();
        let may_claim = room >= CLAIM_AT_ONCE || in_flight.is_empty();
        let now = now_ms();
        let mut wake_at = now + POLL_MS;
        // A claim only when a read saw a due row: an idle queue costs no write.
        let mut claim = None;
        if may_claim {
            match queue::next_due(&state.db).await {
                Ok(Some(due)) if due <= now => {
                    claim = Some(Claim {
                        now,
                        lease_ms: LEASE_MS,
                        limit: i64::try_from(room).unwrap_or(1),
                    });
                }
                Ok(Some(due)) => wake_at = wake_at.min(due),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "reading the web push queue failed"),
            }
        }
        let overdue = finished_since.is_some_and(|t| t.elapsed() >= FINISH_DELAY);
        if claim.is_some() || (!finished.is_empty() && (may_claim || overdue)) {
            let settled = queue::settle(&state.db, &finished, claim).await;
            // On a failure the outcomes are lost: their rows are sent again
            // once their lease ends (delivery is at least once).
            finished.clear();
            finished_since = None;
            match settled {
                Ok(rows) if claim.is_some() && rows.is_empty() => {
                    // Due, but claimed by another node: look again shortly.
                    wake_at = wake_at.min(now + RECLAIM_MS);
                }
                Ok(rows) => {
                    let full = rows.len() == room;
                    for row in rows {
                        claimed.insert(row.id);
                        let ctx = Arc::clone(&ctx);
                        in_flight.spawn(async move {
                            (row.id, request::send(&ctx, &row, now_ms()).await)
                        });
                    }
                    if full {
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "writing the web push queue failed"),
            }
        }
        let mut sleep = Duration::from_millis(u64::try_from(wake_at - now).unwrap_or(0).max(10));
        if finished_since.is_some() {
            sleep = sleep.min(FINISH_DELAY);
        }
        tokio::select! {
            Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                take(joined, &mut claimed, &mut finished, &mut finished_since);
            }
            () = state.webpush.queued.notified() => {}
            () = tokio::time::sleep(sleep) => {}
            () = stop.notified() => {
                in_flight.abort_all();
                let mut release: Vec<Outcome> = std::mem::take(&mut finished);
                release.extend(claimed.iter().map(|&id| Outcome::Retry { id, due_at: now_ms() }));
                if let Err(e) = queue::settle(&state.db, &release, None).await {
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
    claimed: &mut HashSet<i64>,
    finished: &mut Vec<Outcome>,
    finished_since: &mut Option<Instant>,
) {
    // A send that panicked keeps its lease and is tried again after it.
    if let Ok((id, outcome)) = joined {
        claimed.remove(&id);
        finished.push(outcome);
        finished_since.get_or_insert_with(Instant::now);
    }
}
