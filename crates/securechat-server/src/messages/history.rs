//! Reading a channel's history, or one thread's, a page at a time, keyed by
//! message id, for every transport (`GET /api/channels/{id}/messages`,
//! `GET /api/channels/{id}/threads/{root_id}/messages` and the socket's
//! `join_channel` and `join_thread`). Access is the caller's to check first.

use super::store::{self, Scope};
use super::view::{MessageView, with_reactions};
use crate::error::Error;
use crate::storage::Db;

/// Where a page starts.
#[derive(Debug, Clone, Copy)]
pub enum From {
    /// Messages older than this id, newest first (scrolling back);
    /// `i64::MAX` for the latest.
    Before(i64),
    /// Messages newer than this id, oldest first (catching up).
    After(i64),
}

/// A page of messages as `viewer` sees them (with their own reactions).
pub struct Page {
    pub messages: Vec<MessageView>,
    /// Whether more messages lie beyond this page in the same direction.
    pub has_more: bool,
}

/// Reads up to `limit` messages of `scope` (in channel `channel_id`) from
/// `from`. A thread is scanned by its own index, so its pages and resumes
/// follow the same cursor rules as the channel's.
pub async fn page(
    db: &Db,
    viewer: i64,
    channel_id: i64,
    scope: Scope,
    from: From,
    limit: i64,
) -> Result<Page, Error> {
    let limit = limit.max(1);
    // Messages past their `expires_at` are gone for readers at once, even
    // before the purge job deletes them.
    let now = crate::storage::now_ms();
    // One extra row tells whether there is more.
    let mut rows = match from {
        From::Before(before) => store::page_before(db, scope, before, limit + 1, now).await?,
        From::After(after) => store::page_after(db, scope, after, limit + 1, now).await?,
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    Ok(Page {
        messages: with_reactions(db, viewer, channel_id, &rows).await?,
        has_more,
    })
}
