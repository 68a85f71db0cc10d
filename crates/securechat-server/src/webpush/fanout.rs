//! From new messages to rows of the push queue, on a task of its own.
//!
//! For each message: the channel and its room, the members who have a
//! subscription with their settings (one query), [`decide`] for each, and
//! whether anyone left is looking at the channel (asked only then: in a
//! cluster that is a round trip through Redis); then one payload per
//! person ([`payload`]) and one transaction that queues every message of
//! the batch. Messages that arrived together are handled together.

use std::collections::HashSet;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use super::NewMessage;
use super::decide::{self, Dnd, Level};
use super::payload::{self, About};
use super::store::queue::{self, Limits, Push};
use super::store::recipients::{self, Recipient};
use crate::state::AppState;
use crate::storage::now_ms;

/// Who has a visible tab on a channel (user ids, on every node).
pub type Viewers = Arc<dyn Fn(i64) -> BoxFuture<'static, HashSet<i64>> + Send + Sync>;

/// Messages planned together, at most.
const BATCH: usize = 64;

/// Per person: 30 pushes a minute (beyond that, a flood is better read in
/// the app than on a lock screen), 50 waiting at most.
pub const LIMITS: Limits = Limits {
    per_minute: 30,
    queued: 50,
};

/// Runs until the message path's end of the hand-over is gone (shutdown).
pub async fn run(state: AppState, mut messages: mpsc::Receiver<NewMessage>, viewers: Viewers) {
    let mut batch = Vec::with_capacity(BATCH);
    while messages.recv_many(&mut batch, BATCH).await > 0 {
        let now = now_ms();
        let mut planned: Vec<(i64, String)> = Vec::new();
        for message in batch.drain(..) {
            match plan(&state, &message, &viewers, now).await {
                Ok(pushes) => planned.extend(pushes),
                Err(e) => tracing::warn!(error = %e, "planning web pushes failed"),
            }
        }
        if planned.is_empty() {
            continue;
        }
        let pushes: Vec<Push<'_>> = planned
            .iter()
            .map(|(user_id, payload)| Push {
                user_id: *user_id,
                payload,
            })
            .collect();
        match queue::enqueue(&state.db, &pushes, now, LIMITS).await {
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
    }
}

/// The pushes one message makes: (person, payload).
async fn plan(
    state: &AppState,
    message: &NewMessage,
    viewers: &Viewers,
    now: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let found =
        crate::rooms::store::channel_access(&state.db, message.channel_id, message.sender_id)
            .await?;
    let Some((channel, room, _)) = found else {
        return Ok(Vec::new());
    };
    let people = recipients::of_channel(&state.db, room.id, channel.id, message.sender_id).await?;
    let about = decide::Message {
        sender_id: message.sender_id,
        is_dm: room.kind == "dm",
        encrypted: channel.is_encrypted,
        text: message.text.as_deref(),
    };
    let wanted: Vec<&Recipient> = people
        .iter()
        .filter(|r| decide::decide(&about, &person(r, false), now).is_ok())
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let viewing = viewers(channel.id).await;
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
    Ok(wanted
        .into_iter()
        .filter(|r| decide::decide(&about, &person(r, viewing.contains(&r.user_id)), now).is_ok())
        .map(|r| {
            (
                r.user_id,
                payload::build(&content, r.no_content.unwrap_or(false)),
            )
        })
        .collect())
}
