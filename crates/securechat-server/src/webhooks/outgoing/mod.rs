//! Outgoing webhooks: a channel's new messages (or those holding one of
//! its keywords) POSTed, signed, to URLs its admins register, from a
//! durable queue with retries — all in the background, on the background
//! runtime (`crate::background`), with its own `db`.
//!
//! Two tasks. The **dispatcher** looks for webhooks whose channel has
//! messages past their `last_message_id` (woken by the message path's
//! bell, [`super::Webhooks::message_stored`], or a short poll for other
//! nodes' messages), turns those a webhook fires on into delivery rows and
//! moves `last_message_id` in one transaction (`store::advance`): nothing
//! is held in memory, so a restart or a crash loses no delivery. The
//! **sender** claims due rows with a lease, sends at most
//! [`CONCURRENCY`] at once through the SSRF-guarded clients, and records
//! each outcome (delivered, retried with backoff, failed) in the row,
//! which is also the delivery log admins read. Their writes run where
//! they cannot hold up the message path (`Webhooks::write`).
//!
//! - [`http`]: the routes (register, list, delete, the delivery log).
//! - [`request`]: keywords, payload, signature, outcome (pure) and the request.
//! - [`store`]: the SQL.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::outbound::Clients;
use crate::state::AppState;
use crate::storage::{Db, now_ms};

pub mod http;
pub mod request;
pub mod store;

/// Deliveries in flight at once, per node.
pub const CONCURRENCY: usize = 16;
/// How long a claimed delivery is this node's: longer than a request.
const LEASE_MS: i64 = 60_000;
/// The longest either task sleeps without looking.
const POLL: Duration = Duration::from_secs(2);
/// Messages one webhook considers per step.
const STEP: i64 = 100;
/// How long the dispatcher gathers new messages after being woken: one
/// pass per gap however fast messages come, so a busy channel costs the
/// message path's database about ten reads a second, not one per message.
const GATHER: Duration = Duration::from_millis(100);

/// The sender's HTTP clients, built at start-up like Web Push's
/// (`webpush::sender::clients`).
pub fn clients() -> Result<Clients, http_client::Error> {
    Clients::new(request::CONNECT_TIMEOUT, request::REQUEST_TIMEOUT)
}

/// Runs the dispatcher and the sender until `stop` is rung.
pub async fn run(state: AppState, db: Db, clients: Clients, stop: Arc<Notify>) {
    let dispatcher = {
        let (state, db) = (state.clone(), db.clone());
        tokio::spawn(async move { dispatch(&state, &db).await })
    };
    send(&state, &db, clients, &stop).await;
    dispatcher.abort();
}

/// The dispatcher: never returns.
async fn dispatch(state: &AppState, db: &Db) {
    loop {
        match step(state, db).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "dispatching outgoing webhooks failed"),
        }
        tokio::select! {
            () = state.webhooks.new_messages.notified() => {
                tokio::time::sleep(GATHER).await;
            }
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// One pass over the webhooks that are behind; whether any moved (so
/// there may be more at once).
async fn step(state: &AppState, db: &Db) -> Result<bool, sqlx::Error> {
    let mut moved = false;
    for hook in store::behind(db).await? {
        let keywords: Vec<String> = serde_json::from_str(&hook.keywords).unwrap_or_default();
        let messages =
            store::messages_after(db, hook.channel_id, hook.last_message_id, STEP).await?;
        let Some(last) = messages.last().map(|m| m.id) else {
            continue;
        };
        let deliveries: Vec<(i64, String)> = messages
            .iter()
            .filter_map(|m| {
                let trigger = request::fires_on(&keywords, m)?;
                Some((
                    m.id,
                    request::payload(hook.id, hook.channel_id, m, trigger.as_deref()),
                ))
            })
            .collect();
        let queued_any = !deliveries.is_empty();
        let (write_db, (id, seen), now) = (db.clone(), (hook.id, hook.last_message_id), now_ms());
        let advanced = state
            .webhooks
            .write(db, async move {
                store::advance(&write_db, id, seen, last, &deliveries, now).await
            })
            .await?;
        if advanced {
            moved = true;
            if queued_any {
                state.webhooks.queued.notify_one();
            }
        }
    }
    Ok(moved)
}

/// The sender: until `stop`; then the deliveries in flight are handed
/// back (due at once) for the next start.
async fn send(state: &AppState, db: &Db, clients: Clients, stop: &Notify) {
    let clients = Arc::new(clients);
    let mut in_flight: JoinSet<(i64, store::Attempted)> = JoinSet::new();
    let mut claimed: Vec<i64> = Vec::new();
    loop {
        let now = now_ms();
        let mut wake = POLL;
        let room = CONCURRENCY - in_flight.len();
        if room > 0 {
            match store::next_due(db).await {
                Ok(Some(due)) if due <= now => {
                    let limit = i64::try_from(room).unwrap_or(1);
                    let write_db = db.clone();
                    let claimed_rows = state
                        .webhooks
                        .write(db, async move {
                            store::claim(&write_db, now, now + LEASE_MS, limit).await
                        })
                        .await;
                    match claimed_rows {
                        Ok(rows) => {
                            for row in rows {
                                claimed.push(row.id);
                                let secret = row
                                    .secret_salt
                                    .as_deref()
                                    .map(|salt| state.keys.outgoing_secret(row.webhook_id, salt))
                                    .unwrap_or_default();
                                let (clients, allow) =
                                    (Arc::clone(&clients), state.webhooks.allow_hosts.clone());
                                in_flight.spawn(async move {
                                    let answer = request::send(
                                        &clients,
                                        &allow,
                                        &row,
                                        &secret,
                                        now_ms() / 1000,
                                    )
                                    .await;
                                    let jitter = rand::random::<f64>();
                                    (
                                        row.id,
                                        request::outcome(row.attempts, &answer, now_ms(), jitter),
                                    )
                                });
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "claiming webhook deliveries failed"),
                    }
                    if in_flight.len() < CONCURRENCY {
                        wake = Duration::from_millis(50);
                    }
                }
                Ok(Some(due)) => {
                    wake = wake.min(Duration::from_millis(u64::try_from(due - now).unwrap_or(0)));
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "reading webhook deliveries failed"),
            }
        }
        tokio::select! {
            Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                // A send that panicked keeps its lease and is tried after it.
                if let Ok((id, attempted)) = joined {
                    claimed.retain(|c| *c != id);
                    if let Err(e) = finish(state, db, id, attempted).await {
                        tracing::warn!(error = %e, "recording a webhook delivery failed");
                    }
                }
            }
            () = state.webhooks.queued.notified() => {}
            () = tokio::time::sleep(wake) => {}
            () = stop.notified() => {
                in_flight.abort_all();
                let back = store::Attempted {
                    status: "pending",
                    due_at: Some(now_ms()),
                    last_status: None,
                    last_error: Some("interrupted by a restart".into()),
                };
                for id in claimed {
                    if let Err(e) = finish(state, db, id, back.clone()).await {
                        tracing::warn!(error = %e, "handing back a webhook delivery failed");
                    }
                }
                return;
            }
        }
    }
}

/// Records what became of delivery `id` ([`store::finish`]), as a write of
/// the background thread's (`Webhooks::write`).
async fn finish(
    state: &AppState,
    db: &Db,
    id: i64,
    attempted: store::Attempted,
) -> Result<(), sqlx::Error> {
    let write_db = db.clone();
    state
        .webhooks
        .write(db, async move {
            store::finish(&write_db, id, &attempted, now_ms()).await
        })
        .await
}
