//! What clients see of a message, over HTTP and Socket.IO alike.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::store::{self, MessageRow};
use crate::storage::{Db, rfc3339};

/// A message as `new_message`, acks and history carry it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub id: i64,
    pub channel_id: i64,
    pub sender_id: Option<i64>,
    pub sender_username: Option<String>,
    /// The sender is a bot account.
    #[serde(default)]
    pub sender_is_bot: bool,
    /// Plaintext channels; null in encrypted channels and once deleted.
    pub content: Option<String>,
    /// Encrypted channels: the ciphertext envelope exactly as its sender sent it.
    pub envelope: Option<String>,
    pub key_version: Option<i64>,
    pub client_msg_id: String,
    pub reply_to: Option<i64>,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub deleted: bool,
    /// When the message disappears (ms since the epoch), if its channel had
    /// a disappearing timer when it was sent; null otherwise. Clients
    /// delete their copies then; the server stops returning it then.
    pub expires_at: Option<i64>,
    /// The attached file, if any.
    pub file: Option<Attachment>,
    /// In history and `join_channel` answers: the reactions, as the reader
    /// sees them (absent when there are none, and in live events).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reactions: Option<Vec<ReactionView>>,
    /// The root of the thread this message replies in; null for a
    /// message of the channel itself.
    pub thread_root_id: Option<i64>,
    /// A thread reply that is also shown in the channel's timeline.
    pub also_send_to_channel: bool,
    /// On a thread's root: its summary; null while it has no reply.
    pub thread: Option<ThreadSummary>,
    /// Posted through an incoming webhook: shown as this integration
    /// (a bot), not as `sender_username`, who made the webhook. Null for
    /// people's messages.
    pub webhook: Option<WebhookSender>,
}

/// The integration a message shows as its sender.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookSender {
    pub id: i64,
    /// The webhook's name, or the poster's `username` where allowed.
    pub name: String,
    /// The poster's `icon_url`, where allowed (an `https` URL).
    pub icon_url: Option<String>,
}

/// What a thread's root shows of its replies.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThreadSummary {
    /// Live replies.
    pub reply_count: i64,
    /// When the newest live reply was sent.
    pub last_reply_at: Option<String>,
    /// Up to five people who replied, in the order of their first reply
    /// (filled in pages of history; empty in other answers).
    pub participants: Vec<i64>,
}

/// One emoji's reactions on a message.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReactionView {
    pub emoji: String,
    pub count: i64,
    /// The reader is among those who reacted with it.
    pub me: bool,
}

/// The views of a page of one channel's messages with their reactions as
/// `reader` sees them: one more query, over the ids from the first to the
/// last message that has reactions, and none when no message has any.
pub async fn with_reactions(
    db: &Db,
    reader: i64,
    channel_id: i64,
    rows: &[MessageRow],
) -> Result<Vec<MessageView>, sqlx::Error> {
    let mut views: Vec<MessageView> = rows.iter().map(MessageView::from).collect();
    with_participants(db, &mut views).await?;
    let reacted = rows.iter().filter(|m| m.has_reactions).map(|m| m.id);
    let (Some(first), Some(last)) = (reacted.clone().min(), reacted.max()) else {
        return Ok(views);
    };
    let mut by_message: HashMap<i64, Vec<ReactionView>> = HashMap::new();
    for r in store::reactions_in(db, reader, channel_id, first, last).await? {
        by_message
            .entry(r.message_id)
            .or_default()
            .push(ReactionView {
                emoji: r.emoji,
                count: r.count,
                me: r.mine > 0,
            });
    }
    for view in &mut views {
        view.reactions = by_message.remove(&view.id);
    }
    Ok(views)
}

/// Fills in the participants of the threads whose roots are in `views`
/// (one query, none when no root has replies).
pub async fn with_participants(db: &Db, views: &mut [MessageView]) -> Result<(), sqlx::Error> {
    let roots: Vec<i64> = views
        .iter()
        .filter(|v| v.thread.is_some())
        .map(|v| v.id)
        .collect();
    if roots.is_empty() {
        return Ok(());
    }
    let mut by_root: HashMap<i64, Vec<i64>> = HashMap::new();
    for (root, user) in crate::threads::store::participants(db, &roots).await? {
        by_root.entry(root).or_default().push(user);
    }
    for view in views {
        if let Some(thread) = view.thread.as_mut() {
            thread.participants = by_root.remove(&view.id).unwrap_or_default();
        }
    }
    Ok(())
}

/// A file as a message carries it. In an encrypted channel `name` is null:
/// the name, type and key are inside the envelope.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attachment {
    pub id: i64,
    pub name: Option<String>,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub encrypted: bool,
    pub url: String,
}

impl From<&MessageRow> for MessageView {
    fn from(m: &MessageRow) -> Self {
        Self {
            id: m.id,
            channel_id: m.channel_id,
            sender_id: m.sender_id,
            sender_username: m.sender_username.clone(),
            sender_is_bot: m.sender_is_bot,
            content: m.content.clone(),
            envelope: m.envelope.clone(),
            key_version: m.key_version,
            client_msg_id: m.client_msg_id.clone(),
            reply_to: m.reply_to,
            created_at: rfc3339(m.created_at),
            edited_at: m.edited_at.map(rfc3339),
            deleted: m.deleted_at.is_some(),
            expires_at: m.expires_at,
            file: attachment(m),
            reactions: None,
            thread_root_id: m.thread_root_id,
            also_send_to_channel: m.also_send_to_channel,
            thread: (m.reply_count > 0 || m.last_reply_at.is_some()).then(|| ThreadSummary {
                reply_count: m.reply_count,
                last_reply_at: m.last_reply_at.map(rfc3339),
                participants: Vec::new(),
            }),
            webhook: m.webhook_id.map(|id| WebhookSender {
                id,
                name: m.webhook_name.clone().unwrap_or_default(),
                icon_url: m.webhook_icon.clone(),
            }),
        }
    }
}

fn attachment(m: &MessageRow) -> Option<Attachment> {
    let id = m.file_id?;
    let encrypted = m.file_encrypted.unwrap_or(true);
    Some(Attachment {
        id,
        name: if encrypted { None } else { m.file_name.clone() },
        content_type: m
            .file_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".into()),
        size: m.file_size.unwrap_or(0),
        sha256: m.file_sha256.clone().unwrap_or_default(),
        encrypted,
        url: format!("/api/files/{id}"),
    })
}
