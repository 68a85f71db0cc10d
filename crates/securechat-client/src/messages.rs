//! Messages: history over HTTP, and the Socket.IO requests of a chat
//! client — join a channel (resuming after the last message seen), send
//! (deduplicated by `client_msg_id`, waiting out rate limits), leave.
//!
//! Socket acks are `{success: true, ...}` or `{success: false, message,
//! code}`; a refusal is [`Error::Rejected`](crate::Error::Rejected).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;

use crate::client::{Client, with_query};
use crate::error::{Error, Rejection, Result};
use crate::socketio::Socket;

/// How long a socket request waits for its ack unless told otherwise.
pub const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest page of the history endpoint.
pub const MAX_HISTORY_PAGE: u32 = 200;

/// A message, as history, acks and `new_message` / `message_edited` carry it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Message {
    /// Grows monotonically within a channel.
    pub id: i64,
    pub channel_id: i64,
    /// `None` once the sender's account is gone.
    #[serde(default)]
    pub sender_id: Option<i64>,
    #[serde(default)]
    pub sender_username: Option<String>,
    /// The sender is a bot account.
    #[serde(default)]
    pub sender_is_bot: bool,
    /// Plaintext channels; `None` in encrypted channels and once deleted.
    #[serde(default)]
    pub content: Option<String>,
    /// Encrypted channels: the ciphertext envelope as its sender sent it.
    #[serde(default)]
    pub envelope: Option<String>,
    #[serde(default)]
    pub key_version: Option<i64>,
    #[serde(default)]
    pub client_msg_id: String,
    #[serde(default)]
    pub reply_to: Option<i64>,
    /// RFC 3339, UTC.
    #[serde(default)]
    pub created_at: String,
    #[serde(default)]
    pub edited_at: Option<String>,
    #[serde(default)]
    pub deleted: bool,
    /// The root of the thread it replies in; `None` in the channel itself.
    #[serde(default)]
    pub thread_root_id: Option<i64>,
    /// A thread reply also shown in the channel.
    #[serde(default)]
    pub also_send_to_channel: bool,
    /// On a thread's root: its summary (`None` while it has no reply).
    #[serde(default)]
    pub thread: Option<crate::threads::ThreadSummary>,
}

/// `message_deleted`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MessageDeleted {
    pub id: i64,
    pub channel_id: i64,
    #[serde(default)]
    pub deleted_by: Option<i64>,
}

/// Which page of a channel's history to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HistoryQuery {
    before: Option<i64>,
    after: Option<i64>,
    limit: Option<u32>,
}

impl HistoryQuery {
    /// The newest messages, newest first.
    pub fn latest() -> Self {
        Self::default()
    }

    /// Messages older than `id`, newest first (scrolling back).
    pub fn before(id: i64) -> Self {
        Self {
            before: Some(id),
            ..Self::default()
        }
    }

    /// Messages newer than `id`, oldest first (catching up).
    pub fn after(id: i64) -> Self {
        Self {
            after: Some(id),
            ..Self::default()
        }
    }

    /// At most `limit` messages (the server allows 1-200; default 50).
    #[must_use]
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    fn path(&self, channel_id: i64) -> String {
        self.path_of(&format!("api/channels/{channel_id}/messages"))
    }

    /// `base` with this page's query (a channel's or a thread's history).
    pub(crate) fn path_of(&self, base: &str) -> String {
        let text = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        let limit = self.limit.map(|n| n.to_string()).unwrap_or_default();
        with_query(
            base,
            &[
                ("before", &text(self.before)),
                ("after", &text(self.after)),
                ("limit", &limit),
            ],
        )
    }
}

/// A page of history.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HistoryPage {
    /// With [`HistoryQuery::after`]: oldest first. Otherwise newest first.
    pub messages: Vec<Message>,
    /// Whether more messages lie beyond this page in the same direction.
    #[serde(default)]
    pub has_more: bool,
}

/// The answer to `join_channel`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct JoinedChannel {
    pub channel_id: i64,
    /// Oldest first: the newest page, or everything after `after`.
    #[serde(default)]
    pub messages: Vec<Message>,
    /// More than the server returns at once (50 newest; 1000 after `after`).
    #[serde(default)]
    pub has_more: bool,
}

/// A message to send. Its `client_msg_id` is chosen once, at creation:
/// sending the same `OutgoingMessage` again — after a timeout, on a new
/// connection — can never post it twice, since the server answers a known
/// id with the original message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutgoingMessage {
    pub channel_id: i64,
    pub content: String,
    pub client_msg_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<i64>,
    /// Reply in the thread of this top-level message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thread_root_id: Option<i64>,
    /// With `thread_root_id`: also show the reply in the channel.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub also_send_to_channel: bool,
}

impl OutgoingMessage {
    /// A plaintext message with a fresh random `client_msg_id`.
    pub fn new(channel_id: i64, content: impl Into<String>) -> Self {
        Self {
            channel_id,
            content: content.into(),
            client_msg_id: new_client_msg_id(),
            reply_to: None,
            thread_root_id: None,
            also_send_to_channel: false,
        }
    }

    /// Sends it as a reply in the thread of `root_id` (a top-level message
    /// of the channel), also shown in the channel if `also_send_to_channel`.
    #[must_use]
    pub fn in_thread(mut self, root_id: i64, also_send_to_channel: bool) -> Self {
        self.thread_root_id = Some(root_id);
        self.also_send_to_channel = also_send_to_channel;
        self
    }

    #[must_use]
    pub fn reply_to(mut self, message_id: i64) -> Self {
        self.reply_to = Some(message_id);
        self
    }

    /// Uses the caller's id (1-64 printable ASCII characters, unique per
    /// sender) instead of a random one.
    #[must_use]
    pub fn client_msg_id(mut self, id: impl Into<String>) -> Self {
        self.client_msg_id = id.into();
        self
    }
}

/// How [`Socket::send_message_with`] waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendOptions {
    /// For each attempt's ack.
    pub ack_timeout: Duration,
    /// The most time spent waiting out `rate_limited` answers before giving
    /// up with that refusal.
    pub max_rate_limit_wait: Duration,
}

impl Default for SendOptions {
    fn default() -> Self {
        Self {
            ack_timeout: DEFAULT_ACK_TIMEOUT,
            max_rate_limit_wait: Duration::from_secs(60),
        }
    }
}

/// 128 random bits in hex: unique per sender, as the server's
/// deduplication needs, across processes and restarts.
pub fn new_client_msg_id() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness (rare sandboxes): time, process and a counter.
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let unique = nanos ^ (u128::from(std::process::id()) << 96) ^ (u128::from(count) << 64);
        bytes = unique.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Serialize)]
struct JoinRequest {
    channel_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<i64>,
}

#[derive(Serialize)]
struct ChannelRef {
    channel_id: i64,
}

#[derive(Deserialize)]
struct SentBody {
    message: Message,
}

#[derive(Deserialize)]
struct AckRefusal {
    #[serde(default)]
    message: String,
    code: String,
    #[serde(default)]
    retry_after_ms: Option<u64>,
}

/// An ack as `T` (the fields next to `success: true`) or the refusal it is.
pub(crate) fn parse_ack<T: DeserializeOwned>(event: &str, ack: Value) -> Result<T> {
    let unexpected = |detail: String| Error::UnexpectedAck {
        event: event.to_owned(),
        detail,
    };
    match ack.get("success").and_then(Value::as_bool) {
        Some(true) => T::deserialize(&ack).map_err(|e| unexpected(format!("{e}: {ack}"))),
        Some(false) => {
            let refusal = AckRefusal::deserialize(&ack).map_err(|_| unexpected(ack.to_string()))?;
            Err(Error::Rejected(Rejection {
                event: event.to_owned(),
                code: refusal.code,
                message: refusal.message,
                retry_after: refusal.retry_after_ms.map(Duration::from_millis),
            }))
        }
        None => Err(unexpected(ack.to_string())),
    }
}

impl Socket {
    /// Joins a channel's live events (`new_message`, edits, deletes,
    /// typing, reactions) and returns its newest messages, or with
    /// `after` (the last message id seen) every message since, in order.
    ///
    /// The socket is in the channel before the messages are read, so a
    /// message may come both in the answer and as `new_message`:
    /// deduplicate by id. Refusals: `channel_not_found` (no such channel,
    /// or not a member).
    pub async fn join_channel(&self, channel_id: i64, after: Option<i64>) -> Result<JoinedChannel> {
        let ack = self
            .emit_with_ack(
                "join_channel",
                &JoinRequest { channel_id, after },
                DEFAULT_ACK_TIMEOUT,
            )
            .await?;
        parse_ack("join_channel", ack)
    }

    /// Stops receiving a channel's live events.
    pub async fn leave_channel(&self, channel_id: i64) -> Result<()> {
        let ack = self
            .emit_with_ack(
                "leave_channel",
                &ChannelRef { channel_id },
                DEFAULT_ACK_TIMEOUT,
            )
            .await?;
        parse_ack::<serde::de::IgnoredAny>("leave_channel", ack).map(|_| ())
    }

    /// Sends a message with the default [`SendOptions`] and returns it as
    /// stored (committed when this returns).
    pub async fn send_message(&self, message: &OutgoingMessage) -> Result<Message> {
        self.send_message_with(message, &SendOptions::default())
            .await
    }

    /// Sends a message. A `rate_limited` answer is waited out and the same
    /// message (same `client_msg_id`) sent again, for at most
    /// `options.max_rate_limit_wait` in all; the server deduplicates, so
    /// however many attempts it takes the channel gets one message.
    ///
    /// Refusals: `channel_not_found`, `empty_message`, `payload_too_large`,
    /// `plaintext_in_encrypted_channel`, `invalid_reply`, `rate_limited`
    /// (once the wait would exceed the limit) …
    pub async fn send_message_with(
        &self,
        message: &OutgoingMessage,
        options: &SendOptions,
    ) -> Result<Message> {
        self.send_body(message, options).await
    }

    /// `send_message` with any body the server reads (plaintext or
    /// envelope), with the rate-limit handling of [`Socket::send_message_with`].
    pub(crate) async fn send_body<T: Serialize + ?Sized>(
        &self,
        message: &T,
        options: &SendOptions,
    ) -> Result<Message> {
        let give_up = Instant::now() + options.max_rate_limit_wait;
        loop {
            let ack = self
                .emit_with_ack("send_message", message, options.ack_timeout)
                .await?;
            match parse_ack::<SentBody>("send_message", ack) {
                Ok(sent) => return Ok(sent.message),
                Err(Error::Rejected(refusal)) if refusal.code == "rate_limited" => {
                    let wait = refusal
                        .retry_after
                        .unwrap_or(Duration::from_millis(100))
                        .max(Duration::from_millis(1));
                    if Instant::now() + wait > give_up {
                        return Err(Error::Rejected(refusal));
                    }
                    tokio::time::sleep(wait).await;
                }
                Err(error) => return Err(error),
            }
        }
    }
}

impl Client {
    /// A page of a channel's history. Non-members get 404 `channel_not_found`.
    pub async fn history(&self, channel_id: i64, query: HistoryQuery) -> Result<HistoryPage> {
        self.get(&query.path(channel_id)).await
    }

    /// Joins a channel on `socket` and returns every message after `after`
    /// in order, however many: what `join_channel` does not return at once
    /// is read from the history endpoint. This is how a client that lost
    /// its connection resumes — reconnect, then `resume_channel(last id
    /// seen)` — with no gap and no duplicate (live `new_message` events
    /// that raced the join may repeat these: deduplicate by id).
    pub async fn resume_channel(
        &self,
        socket: &Socket,
        channel_id: i64,
        after: i64,
    ) -> Result<Vec<Message>> {
        let joined = socket.join_channel(channel_id, Some(after)).await?;
        let mut messages = joined.messages;
        let mut has_more = joined.has_more;
        while has_more {
            let Some(last) = messages.last().map(|m| m.id) else {
                break;
            };
            let page = self
                .history(
                    channel_id,
                    HistoryQuery::after(last).limit(MAX_HISTORY_PAGE),
                )
                .await?;
            has_more = page.has_more && !page.messages.is_empty();
            messages.extend(page.messages);
        }
        Ok(messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn acks_are_successes_refusals_or_unexpected() {
        let joined: JoinedChannel = parse_ack(
            "join_channel",
            json!({"success": true, "channel_id": 4, "has_more": false, "messages": [
                {"id": 1, "channel_id": 4, "sender_id": 2, "sender_username": "alice",
                 "content": "hi", "envelope": null, "key_version": null, "client_msg_id": "c1",
                 "reply_to": null, "created_at": "2025-01-01T10:00:00Z", "edited_at": null,
                 "deleted": false, "reactions": []}]}),
        )
        .unwrap();
        assert_eq!(joined.messages[0].content.as_deref(), Some("hi"));

        let error = parse_ack::<JoinedChannel>(
            "send_message",
            json!({"success": false, "code": "rate_limited", "message": "wait", "retry_after_ms": 250}),
        )
        .unwrap_err();
        assert_eq!(error.code(), Some("rate_limited"));
        let Error::Rejected(rejection) = error else {
            panic!("expected a rejection");
        };
        assert_eq!(rejection.retry_after, Some(Duration::from_millis(250)));
        assert_eq!(rejection.event, "send_message");

        for odd in [
            json!(null),
            json!({"success": false}),
            json!({"success": true}),
        ] {
            assert!(
                matches!(
                    parse_ack::<JoinedChannel>("join_channel", odd.clone()),
                    Err(Error::UnexpectedAck { .. })
                ),
                "{odd}"
            );
        }
    }

    #[test]
    fn history_paths() {
        assert_eq!(HistoryQuery::latest().path(3), "api/channels/3/messages");
        assert_eq!(
            HistoryQuery::after(10).limit(200).path(3),
            "api/channels/3/messages?after=10&limit=200"
        );
        assert_eq!(
            HistoryQuery::before(7).path(3),
            "api/channels/3/messages?before=7"
        );
    }

    #[test]
    fn outgoing_messages_serialize_as_the_server_reads_them() {
        let message = OutgoingMessage::new(5, "hello").reply_to(9);
        let value = serde_json::to_value(&message).unwrap();
        assert_eq!(value["channel_id"], 5);
        assert_eq!(value["reply_to"], 9);
        assert_eq!(value["client_msg_id"].as_str().unwrap().len(), 32);
        let plain =
            serde_json::to_value(OutgoingMessage::new(5, "x").client_msg_id("m-1")).unwrap();
        assert_eq!(
            plain,
            json!({"channel_id": 5, "content": "x", "client_msg_id": "m-1"})
        );
    }

    #[test]
    fn client_msg_ids_are_distinct_printable_ascii() {
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| new_client_msg_id()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(
            ids.iter()
                .all(|id| id.bytes().all(|b| b.is_ascii_hexdigit()))
        );
    }
}
