//! Threads: replies to a top-level message, kept out of the channel's
//! history unless also sent to it. Send with
//! [`OutgoingMessage::in_thread`](crate::OutgoingMessage::in_thread) (or
//! [`SecureClient::send_in_thread`](crate::SecureClient::send_in_thread) in
//! encrypted channels); read, resume, follow and mark read here.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{Auth, Client, with_query};
use crate::error::Result;
use crate::messages::{DEFAULT_ACK_TIMEOUT, HistoryQuery, MAX_HISTORY_PAGE, Message, parse_ack};
use crate::socketio::Socket;

/// What a thread's root shows of its replies.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ThreadSummary {
    pub reply_count: i64,
    /// RFC 3339, UTC.
    #[serde(default)]
    pub last_reply_at: Option<String>,
    /// Up to five repliers, in the order of their first reply (filled in
    /// pages; empty in live events' messages).
    #[serde(default)]
    pub participants: Vec<i64>,
}

/// A page of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ThreadPage {
    pub root: Message,
    /// With [`HistoryQuery::after`]: oldest first. Otherwise newest first.
    pub messages: Vec<Message>,
    #[serde(default)]
    pub has_more: bool,
    #[serde(default)]
    pub following: bool,
    #[serde(default)]
    pub unread: i64,
}

/// The answer to `join_thread`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JoinedThread {
    pub channel_id: i64,
    pub root_id: i64,
    /// Oldest first: the newest replies, or every reply after `after`.
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub has_more: bool,
}

/// My state in a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ThreadState {
    pub following: bool,
    pub unread: i64,
}

/// A thread I follow.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FollowedThread {
    pub room_id: i64,
    pub root: Message,
    pub unread: i64,
}

/// A page of the threads I follow, most recently replied first.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FollowedThreads {
    pub threads: Vec<FollowedThread>,
    /// Pass to [`Client::followed_threads`] for the next page.
    #[serde(default)]
    pub next: Option<i64>,
}

#[derive(Serialize)]
struct JoinThread {
    channel_id: i64,
    root_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<i64>,
}

#[derive(Serialize)]
struct ReadBody {
    message_id: i64,
}

impl Socket {
    /// Joins a thread's channel (its replies arrive as `new_message` with
    /// `thread_root_id`) and returns the newest replies, or every reply
    /// after `after`, in order. Deduplicate by id against live events.
    pub async fn join_thread(
        &self,
        channel_id: i64,
        root_id: i64,
        after: Option<i64>,
    ) -> Result<JoinedThread> {
        let body = JoinThread {
            channel_id,
            root_id,
            after,
        };
        let ack = self
            .emit_with_ack("join_thread", &body, DEFAULT_ACK_TIMEOUT)
            .await?;
        parse_ack("join_thread", ack)
    }
}

impl Client {
    /// A page of a thread's replies. Non-members get 404 `thread_not_found`.
    pub async fn thread_history(
        &self,
        channel_id: i64,
        root_id: i64,
        query: HistoryQuery,
    ) -> Result<ThreadPage> {
        let base = format!("api/channels/{channel_id}/threads/{root_id}/messages");
        self.get(&query.path_of(&base)).await
    }

    /// Every reply of a thread after `after`, however many: how a client
    /// that lost its connection resumes a thread without gap or duplicate.
    pub async fn resume_thread(
        &self,
        socket: &Socket,
        channel_id: i64,
        root_id: i64,
        after: i64,
    ) -> Result<Vec<Message>> {
        let joined = socket.join_thread(channel_id, root_id, Some(after)).await?;
        let mut messages = joined.messages;
        let mut has_more = joined.has_more;
        while has_more {
            let Some(last) = messages.last().map(|m| m.id) else {
                break;
            };
            let query = HistoryQuery::after(last).limit(MAX_HISTORY_PAGE);
            let page = self.thread_history(channel_id, root_id, query).await?;
            has_more = page.has_more && !page.messages.is_empty();
            messages.extend(page.messages);
        }
        Ok(messages)
    }

    /// Follows (or, with `false`, unfollows) a thread.
    pub async fn follow_thread(&self, root_id: i64, follow: bool) -> Result<ThreadState> {
        let method = if follow { Method::PUT } else { Method::DELETE };
        let path = format!("api/threads/{root_id}/follow");
        self.call::<(), _>(method, &path, Auth::Required, None)
            .await
    }

    /// Moves my read marker in a thread to `message_id` (never back).
    pub async fn read_thread(&self, root_id: i64, message_id: i64) -> Result<ThreadState> {
        let path = format!("api/threads/{root_id}/read");
        self.post(&path, Some(&ReadBody { message_id })).await
    }

    /// The threads I follow, `unread_only` or all, after the cursor `before`.
    pub async fn followed_threads(
        &self,
        before: Option<i64>,
        unread_only: bool,
    ) -> Result<FollowedThreads> {
        let before = before.map(|b| b.to_string()).unwrap_or_default();
        let path = with_query(
            "api/threads",
            &[
                ("before", &before),
                ("unread_only", if unread_only { "true" } else { "" }),
            ],
        );
        self.get(&path).await
    }
}
