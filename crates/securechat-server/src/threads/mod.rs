//! Threads: replies to a top-level message, kept out of the channel's
//! timeline unless also sent to it, with a summary on the root, follows,
//! per-thread read markers and the list of followed threads.
//!
//! A reply is an ordinary message with `thread_root_id`: it is sent, stored
//! (group commit, which also keeps the summary and the automatic follows in
//! the same transaction), edited and deleted by `messages/`, and its body
//! follows the same rules, so threads work in encrypted channels, where the
//! server sees only ids. This module owns what only threads have.
//!
//! - [`http`]: thread history, follow/unfollow, the read marker and
//!   `GET /api/threads`.
//! - [`store`]: the SQL.
//!
//! After a reply is stored or deleted, [`changed`] pushes `thread_updated`
//! (the summary) to the room's members and `thread_unread` to each
//! follower still in the room.

pub mod http;
pub mod store;

use crate::messages::store::MessageRow;
use crate::messages::view::ThreadSummary;
use crate::push::{Audience, ServerEvent, ThreadUnread, ThreadUpdated};
use crate::state::AppState;
use crate::storage::rfc3339;

/// Pushes the changes a new reply in `row`'s thread made (nothing for a
/// message outside threads).
pub async fn replied(state: &AppState, row: &MessageRow) {
    if let Some(root_id) = row.thread_root_id {
        changed(state, root_id).await;
    }
}

/// Pushes the thread's summary to its room and the unread counts to its
/// followers. A failure is logged: every pushed fact can be fetched.
pub async fn changed(state: &AppState, root_id: i64) {
    if let Err(error) = announce(state, root_id).await {
        tracing::warn!(%error, root_id, "thread change not pushed");
    }
}

async fn announce(state: &AppState, root_id: i64) -> Result<(), sqlx::Error> {
    let Some(summary) = store::summary(&state.db, root_id).await? else {
        return Ok(());
    };
    let participants = store::participants(&state.db, &[root_id])
        .await?
        .into_iter()
        .map(|(_, user)| user)
        .collect();
    let event = ThreadUpdated {
        room_id: summary.room_id,
        channel_id: summary.channel_id,
        root_id,
        thread: ThreadSummary {
            reply_count: summary.reply_count,
            last_reply_at: summary.last_reply_at.map(rfc3339),
            participants,
        },
    };
    state.notify.push(
        ServerEvent::ThreadUpdated(event),
        Audience::Room(summary.room_id),
    );
    for follower in store::follower_unreads(&state.db, root_id).await? {
        let event = ThreadUnread {
            room_id: summary.room_id,
            channel_id: summary.channel_id,
            root_id,
            following: true,
            unread: follower.unread,
        };
        state.notify.push(
            ServerEvent::ThreadUnread(event),
            Audience::Users(vec![follower.user_id]),
        );
    }
    Ok(())
}
