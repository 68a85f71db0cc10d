//! What a room's export reads, in keyset pages: a channel's messages and
//! the room's files.

use serde::Serialize;
use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// A message as the export writes it: the text of a plaintext channel, or
/// the ciphertext envelope (and its key version) of an encrypted one.
#[derive(Debug, Serialize, FromRow)]
pub struct ExportedMessage {
    pub id: i64,
    pub sender_id: Option<i64>,
    pub sender_username: Option<String>,
    /// For a message posted by an incoming webhook: the name it showed.
    pub webhook_name: Option<String>,
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_version: Option<i64>,
    pub thread_root_id: Option<i64>,
    pub reply_to: Option<i64>,
    pub file_id: Option<i64>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
}

/// Up to `limit` live messages of `channel_id` after `after`, by id.
pub async fn messages(
    db: &Db,
    channel_id: i64,
    after: i64,
    limit: i64,
    now: i64,
) -> Result<Vec<ExportedMessage>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, ExportedMessage>(
            "SELECT m.id, m.sender_id, u.username AS sender_username, m.webhook_name, m.content, m.envelope, \
             m.key_version, m.thread_root_id, m.reply_to, m.file_id, m.created_at, m.edited_at \
             FROM messages m LEFT JOIN users u ON u.id = m.sender_id \
             WHERE m.channel_id = $1 AND m.id > $2 AND m.deleted_at IS NULL \
             AND (m.expires_at IS NULL OR m.expires_at > $4) \
             ORDER BY m.id LIMIT $3",
        )
        .bind(channel_id)
        .bind(after)
        .bind(limit)
        .bind(now)
        .fetch_all(pool)
        .await
    })
}

/// A file kept in one of the room's channels.
#[derive(Debug, Serialize, FromRow)]
pub struct ExportedFile {
    pub id: i64,
    pub channel_id: i64,
    pub uploader_id: Option<i64>,
    #[serde(skip)]
    pub storage_key: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub is_encrypted: bool,
    pub created_at: i64,
}

/// Up to `limit` of the room's live files after `after`, by id.
pub async fn files(
    db: &Db,
    room_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<ExportedFile>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, ExportedFile>(
            "SELECT f.id, f.channel_id, f.uploader_id, f.storage_key, f.name, f.content_type, \
             f.size, f.sha256, f.is_encrypted, f.created_at \
             FROM files f JOIN channels c ON c.id = f.channel_id \
             WHERE c.room_id = $1 AND f.id > $2 AND f.deleted_at IS NULL \
             ORDER BY f.id LIMIT $3",
        )
        .bind(room_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}
