//! The purge job: every `RETENTION_PURGE_SECS`, on every node, deletes the
//! messages that disappeared (past `expires_at`) and those older than their
//! room's retention, then the key shares no kept message needs.
//!
//! It shares the database with the message path, and on SQLite there is one
//! writer: so it deletes [`BATCH`] rows per transaction and, after each,
//! pauses [`PACE`] times as long as the batch took (at least [`MIN_PAUSE`]),
//! so it holds the writer at most a fifth of the time while it has work and
//! a sender waits at most one small batch. Its deletes are idempotent
//! (`store.rs`), so nodes of a cluster may run it together: a row is deleted,
//! and its deletion announced, by one node only.
//!
//! Each batch is announced as `messages_deleted` to the sockets that joined
//! its channel, so open clients drop the messages.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::store;
use crate::notify::Notifier;
use crate::push::{Audience, MessagesDeleted, ServerEvent};
use crate::storage::{Db, now_ms};

/// Messages deleted per transaction.
pub const BATCH: i64 = 200;
/// After a batch, the job pauses this many times as long as it took.
const PACE: u32 = 4;
/// The shortest pause between two batches.
const MIN_PAUSE: Duration = Duration::from_millis(10);
/// How often every policy's channel has its old key shares looked at even
/// when no message of it was deleted (a channel where messages were is
/// looked at in the same pass).
const SHARE_SWEEP: Duration = Duration::from_secs(600);

/// What one pass deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub messages: usize,
    pub shares: u64,
}

/// Runs a pass every `every` until the task is aborted.
pub async fn run(db: Db, notify: Notifier, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shares_swept: Option<Instant> = None;
    loop {
        tick.tick().await;
        let started = Instant::now();
        let all_shares = shares_swept.is_none_or(|at| at.elapsed() >= SHARE_SWEEP);
        if all_shares {
            shares_swept = Some(started);
        }
        match pass(&db, &notify, all_shares).await {
            Ok(Purged {
                messages: 0,
                shares: 0,
            }) => {}
            Ok(done) => tracing::info!(
                messages = done.messages,
                key_shares = done.shares,
                took_ms = started.elapsed().as_millis() as u64,
                "retention purge"
            ),
            Err(e) => tracing::warn!(error = %e, "retention purge failed; next pass retries"),
        }
    }
}

/// One pass: disappeared messages, then each retained channel, then the
/// key shares of the channels that lost messages (of every channel with a
/// policy when `all_shares`). Everything due when it starts is deleted
/// before it returns.
pub async fn pass(db: &Db, notify: &Notifier, all_shares: bool) -> Result<Purged, sqlx::Error> {
    let now = now_ms();
    let mut done = Purged::default();
    let mut touched: BTreeSet<i64> = BTreeSet::new();
    while store::any_expired(db, now).await? {
        let started = Instant::now();
        let gone = store::delete_expired(db, now, BATCH).await?;
        if gone.is_empty() {
            break;
        }
        done.messages += gone.len();
        let mut by_channel: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (id, channel_id) in gone {
            by_channel.entry(channel_id).or_default().push(id);
        }
        for (channel_id, ids) in by_channel {
            touched.insert(channel_id);
            announce(db, notify, channel_id, ids).await?;
        }
        pause(started).await;
    }
    let retained = store::retained(db, now).await?;
    for channel in &retained {
        loop {
            let started = Instant::now();
            let Some(through) =
                store::due_through(db, channel.channel_id, channel.cutoff, BATCH).await?
            else {
                break;
            };
            let ids = store::delete_through(db, channel.channel_id, through, now).await?;
            done.messages += ids.len();
            touched.insert(channel.channel_id);
            announce(db, notify, channel.channel_id, ids).await?;
            pause(started).await;
        }
    }
    for channel in retained.iter().chain(&store::timed(db, now).await?) {
        if all_shares || touched.contains(&channel.channel_id) {
            done.shares += store::delete_old_shares(db, channel.channel_id, channel.cutoff).await?;
        }
    }
    Ok(done)
}

/// Tells the channel's open sockets which of its messages are gone.
async fn announce(
    db: &Db,
    notify: &Notifier,
    channel_id: i64,
    ids: Vec<i64>,
) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    if let Some(room_id) = store::room_of(db, channel_id).await? {
        notify.push(
            ServerEvent::MessagesDeleted(MessagesDeleted {
                room_id,
                channel_id,
                ids,
            }),
            Audience::Channel(channel_id),
        );
    }
    Ok(())
}

/// Leaves the database to the message path for [`PACE`] times as long as
/// the batch that started at `started` took.
async fn pause(started: Instant) {
    tokio::time::sleep((started.elapsed() * PACE).max(MIN_PAUSE)).await;
}
