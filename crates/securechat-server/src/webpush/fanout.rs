//! From new messages to rows of the push queue, on a task of its own on
//! the background runtime (`crate::background`), with its own `db`.
//!
//! For each message: the channel and its room, the members who have a
//! subscription with their settings (one query), [`decide`] for each, and
//! whether anyone left is looking at the channel (asked only then: in a
//! cluster that is a round trip through Redis); then one payload per
//! person ([`payload`]) and one transaction that queues every message of
//! the batch. Messages that arrive within [`WINDOW`] of each other are
//! handled together, and the queue's writes run at normal priority
//! ([`super::WebPush::write`]).
//!
//! The same decision feeds email digests: a person it picks who has a
//! verified address gets the message recorded for their next digest
//! (`email::store::pending`), which is mailed only if it is still unread
//! after the delay.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use super::NewMessage;
use super::budget::LocalBudget;
use super::decide::{self, Dnd, Level};
use super::payload::{self, About};
use super::store::queue::{self, Limits, Push};
use super::store::recipients::{self, Recipient};
use crate::email::store::pending::{self, NewPending};
use crate::rooms::store::{ChannelRow, RoomRow};
use crate::state::AppState;
use crate::storage::{Db, now_ms};

/// Who has a visible tab on a channel (user ids, on every node).
pub type Viewers = Arc<dyn Fn(i64) -> BoxFuture<'static, HashSet<i64>> + Send + Sync>;

/// Messages planned together, at most.
const BATCH: usize = 256;
/// How long the fan-out gathers messages after the first of a batch: their
/// pushes are queued in one write, and each write is a commit on SQLite's
/// one writer, which the message path needs. A busy channel costs about
/// ten queue commits a second, whatever its message rate.
const WINDOW: Duration = Duration::from_millis(100);

/// Per person: 30 pushes a minute (beyond that, a flood is better read in
/// the app than on a lock screen), 50 waiting at most.
pub const LIMITS: Limits = Limits {
    per_minute: 30,
    queued: 50,
};

/// Runs until the message path's end of the hand-over is gone (shutdown).
pub async fn run(
    state: AppState,
    db: Db,
    mut messages: mpsc::Receiver<NewMessage>,
    viewers: Viewers,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut budget = LocalBudget::new(LIMITS.per_minute);
    while messages.recv_many(&mut batch, BATCH).await > 0 {
        gather(&mut messages, &mut batch).await;
        let now = now_ms();
        let mut planned: Vec<(i64, String)> = Vec::new();
        let mut digests: Vec<NewPending> = Vec::new();
        let mut lookups = Lookups::default();
        for message in batch.drain(..) {
            match plan(&state, &db, &message, &viewers, &mut lookups, now).await {
                Ok(plan) => {
                    planned.extend(plan.pushes);
                    digests.extend(plan.digests);
                }
                Err(e) => tracing::warn!(error = %e, "planning web pushes failed"),
            }
        }
        if let Some(email) = state.email.as_ref()
            && !digests.is_empty()
        {
            let (write_db, delay_ms) = (db.clone(), email.delay_ms);
            let recorded = state
                .webpush
                .write(&db, async move {
                    pending::record(&write_db, &digests, now, delay_ms).await
                })
                .await;
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "recording messages for email digests failed");
            }
        }
        // People this node alone has already sent the cap's worth this
        // minute cost no write (see `budget`).
        let before = planned.len();
        planned.retain(|(user_id, _)| budget.spend(*user_id, now));
        let over_here = before - planned.len();
        if over_here > 0 {
            tracing::debug!(
                over_rate = over_here,
                "web pushes dropped by this node's count of the per-person cap"
            );
        }
        if planned.is_empty() {
            continue;
        }
        let write_db = db.clone();
        let queued = state
            .webpush
            .write(&db, async move {
                let pushes: Vec<Push<'_>> = planned
                    .iter()
                    .map(|(user_id, payload)| Push {
                        user_id: *user_id,
                        payload,
                    })
                    .collect();
                queue::enqueue(&write_db, &pushes, now, LIMITS).await
            })
            .await;
        match queued {
            Ok(done) => {
                if done.over_rate > 0 || done.trimmed > 0 {
                    tracing::debug!(
                        over_rate = done.over_rate,
                        trimmed = done.trimmed,
                        "web pushes dropped by the per-person caps"
                    );
                }
                state.webpush.queued.notify_one();
            }
            Err(e) => tracing::warn!(error = %e, "queueing web pushes failed"),
        }
    }
}

/// Adds to `batch` what arrives within [`WINDOW`], up to [`BATCH`].
async fn gather(messages: &mut mpsc::Receiver<NewMessage>, batch: &mut Vec<NewMessage>) {
    let window = tokio::time::sleep(WINDOW);
    tokio::pin!(window);
    while batch.len() < BATCH {
        tokio::select! {
            received = messages.recv_many(batch, BATCH - batch.len()) => {
                if received == 0 {
                    return;
                }
            }
            () = &mut window => return,
        }
    }
}

fn person(r: &Recipient, viewing: bool) -> decide::Person<'_> {
    decide::Person {
        user_id: r.user_id,
        username: &r.username,
        level: r.level.as_deref().and_then(Level::parse),
        mute_until: r.mute_until,
        dnd: r.dnd_start.zip(r.dnd_end).map(|(start, end)| Dnd {
            start,
            end,
            utc_offset: r.utc_offset.unwrap_or(0),
        }),
        viewing,
        follows_thread: r.follows_thread,
    }
}

/// What one message makes: pushes (person, payload) and rows for email
/// digests.
#[derive(Default)]
struct Plan {
    pushes: Vec<(i64, String)>,
    digests: Vec<NewPending>,
}

/// A channel and its room.
type Place = (ChannelRow, RoomRow);

/// What planning a gathered batch reads, read once per batch: a busy
/// channel's messages within the window share its room, its recipients
/// for one sender and thread, and who views it (these change far less often
/// than such a channel speaks, and a change is seen by the next batch).
/// Read per message, the fan-out's queries, run by the database's
/// normal-priority threads, outnumbered the message path's own.
#[derive(Default)]
struct Lookups {
    /// By (channel, sender): the channel and its room, if the sender may
    /// post there.
    access: HashMap<(i64, i64), Option<Arc<Place>>>,
    /// By (channel, sender, thread root).
    people: HashMap<(i64, i64, Option<i64>), Arc<Vec<Recipient>>>,
    /// By channel.
    viewing: HashMap<i64, Arc<HashSet<i64>>>,
}

async fn plan(
    state: &AppState,
    db: &Db,
    message: &NewMessage,
    viewers: &Viewers,
    lookups: &mut Lookups,
    now: i64,
) -> Result<Plan, sqlx::Error> {
    let key = (message.channel_id, message.sender_id);
    let found = match lookups.access.get(&key) {
        Some(found) => found.clone(),
        None => {
            let found = crate::rooms::store::channel_access(db, key.0, key.1)
                .await?
                .map(|(channel, room, _)| Arc::new((channel, room)));
            lookups.access.insert(key, found.clone());
            found
        }
    };
    let Some(found) = found else {
        return Ok(Plan::default());
    };
    let (channel, room) = (&found.0, &found.1);
    let key = (channel.id, message.sender_id, message.thread_root_id);
    let people = match lookups.people.get(&key) {
        Some(people) => Arc::clone(people),
        None => {
            let people = Arc::new(
                recipients::of_channel(
                    db,
                    room.id,
                    channel.id,
                    message.sender_id,
                    state.email.is_some(),
                    message.thread_root_id,
                )
                .await?,
            );
            lookups.people.insert(key, Arc::clone(&people));
            people
        }
    };
    let about = decide::Message {
        sender_id: message.sender_id,
        is_dm: room.kind == "dm",
        encrypted: channel.is_encrypted,
        text: message.text.as_deref(),
        in_thread: message.thread_root_id.is_some(),
    };
    let wanted: Vec<&Recipient> = people
        .iter()
        .filter(|r| decide::decide(&about, &person(r, false), now).is_ok())
        .collect();
    if wanted.is_empty() {
        return Ok(Plan::default());
    }
    let viewing = match lookups.viewing.get(&channel.id) {
        Some(viewing) => Arc::clone(viewing),
        None => {
            let viewing = Arc::new(viewers(channel.id).await);
            lookups.viewing.insert(channel.id, Arc::clone(&viewing));
            viewing
        }
    };
    let content = About {
        message_id: message.message_id,
        channel_id: channel.id,
        room_id: room.id,
        encrypted: channel.is_encrypted,
        room: &room.name,
        channel: &channel.name,
        sender: &message.sender,
        text: message.text.as_deref(),
    };
    let mut plan = Plan::default();
    for r in wanted
        .into_iter()
        .filter(|r| decide::decide(&about, &person(r, viewing.contains(&r.user_id)), now).is_ok())
    {
        if r.has_push {
            let payload = payload::build(&content, r.no_content.unwrap_or(false));
            plan.pushes.push((r.user_id, payload));
        }
        if r.has_email && decide::server_can_tell(&about, &person(r, false)) {
            plan.digests.push(NewPending {
                user_id: r.user_id,
                message_id: message.message_id,
                channel_id: channel.id,
            });
        }
    }
    Ok(plan)
}
