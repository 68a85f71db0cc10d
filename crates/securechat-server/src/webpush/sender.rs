//! The sender: drains the push queue in the background, on every node.
//!
//! It claims due rows (a lease, in the claiming statement; see
//! `store::queue`) only as fast as it has room for: at most
//! [`CONCURRENCY`] requests are in flight, each on a task of its own, so
//! one slow push service does not hold up the others, and the outcomes of
//! whatever finished are written back together, in one transaction. When
//! nothing is due it sleeps until the next row is due, the fan-out rings
//! ([`super::WebPush::queued`]), or a short poll (rows queued by other
//! nodes, leases of a node that died). On shutdown the rows still in
//! flight are handed back at once, so a restart does not wait out their
//! lease.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::request::{self, Clients, Context, Tokens};
use super::store::queue::{self, Outcome};
use crate::state::AppState;
use crate::storage::now_ms;

/// Push requests in flight at once, per node.
pub const CONCURRENCY: usize = 32;
/// How long a claimed row is this node's: longer than a request may take.
const LEASE_MS: i64 = 60_000;
/// The longest the sender sleeps without looking at the queue.
const POLL_MS: i64 = 2_000;

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
    loop {
        while let Some(joined) = in_flight.try_join_next() {
            if let Ok((id, outcome)) = joined {
                claimed.remove(&id);
                finished.push(outcome);
            }
        }
        if !finished.is_empty() {
            if let Err(e) = queue::finish(&state.db, &finished).await {
                tracing::warn!(error = %e, "recording web push outcomes failed; leases will expire");
            }
            finished.clear();
        }
        let now = now_ms();
        let room = CONCURRENCY - in_flight.len();
        let mut wake_at = now + POLL_MS;
        if room > 0 {
            match next_batch(&state, now, room).await {
                Ok(Batch::Rows(rows)) => {
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
                Ok(Batch::DueAt(due)) => wake_at = wake_at.min(due),
                Ok(Batch::Nothing) => {}
                Err(e) => tracing::warn!(error = %e, "reading the web push queue failed"),
            }
        }
        let sleep = Duration::from_millis(u64::try_from(wake_at - now).unwrap_or(0).max(10));
        tokio::select! {
            Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                if let Ok((id, outcome)) = joined {
                    claimed.remove(&id);
                    finished.push(outcome);
                }
            }
            () = state.webpush.queued.notified() => {}
            () = tokio::time::sleep(sleep) => {}
            () = stop.notified() => {
                in_flight.abort_all();
                let mut release: Vec<Outcome> = std::mem::take(&mut finished);
                release.extend(claimed.iter().map(|&id| Outcome::Retry { id, due_at: now_ms() }));
                if let Err(e) = queue::finish(&state.db, &release).await {
                    tracing::warn!(error = %e, "handing back web pushes in flight failed");
                }
                return;
            }
        }
    }
}

enum Batch {
    Rows(Vec<queue::Claimed>),
    DueAt(i64),
    Nothing,
}

/// Claims up to `room` due rows; if none is due, when one will be. The
/// claim (a write) is made only when a read saw a due row.
async fn next_batch(state: &AppState, now: i64, room: usize) -> Result<Batch, sqlx::Error> {
    match queue::next_due(&state.db).await? {
        None => Ok(Batch::Nothing),
        Some(due) if due > now => Ok(Batch::DueAt(due)),
        Some(_) => {
            let limit = i64::try_from(room).unwrap_or(1);
            let rows = queue::claim(&state.db, now, LEASE_MS, limit).await?;
            if rows.is_empty() {
                // Due, but claimed by another node: look again after a poll.
                return Ok(Batch::DueAt(now + POLL_MS));
            }
            Ok(Batch::Rows(rows))
        }
    }
}
