//! What an export reads: the account, its rooms, and the messages,
//! reactions and files the person made, each in keyset pages.

pub mod tombstone;

use serde::Serialize;
use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// The account and its profile.
#[derive(Debug, Serialize, FromRow)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub created_at: i64,
    pub password_changed_at: i64,
    pub display_name: Option<String>,
    pub status_text: Option<String>,
    pub status_emoji: Option<String>,
    pub availability: Option<String>,
}

pub async fn account(db: &Db, user_id: i64) -> Result<Option<Account>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Account>(
            "SELECT u.id, u.username, u.is_admin, u.created_at, u.password_changed_at, \
             p.display_name, p.status_text, p.status_emoji, p.availability \
             FROM users u LEFT JOIN profiles p ON p.user_id = u.id WHERE u.id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// A room the person belongs to.
#[derive(Debug, Serialize, FromRow)]
pub struct Membership {
    pub room_id: i64,
    pub room_name: String,
    pub role: String,
    pub joined_at: i64,
}

pub async fn memberships(db: &Db, user_id: i64) -> Result<Vec<Membership>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Membership>(
            "SELECT m.room_id, r.name AS room_name, m.role, m.joined_at \
             FROM room_members m JOIN rooms r ON r.id = m.room_id \
             WHERE m.user_id = $1 ORDER BY m.room_id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// A message the person sent. `content` is the text of a plaintext
/// channel; `envelope` the ciphertext of an encrypted one.
#[derive(Debug, Serialize, FromRow)]
pub struct Sent {
    pub id: i64,
    pub room_id: i64,
    pub room_name: String,
    pub channel_id: i64,
    pub channel_name: String,
    pub is_encrypted: bool,
    pub content: Option<String>,
    pub envelope: Option<String>,
    pub thread_root_id: Option<i64>,
    pub reply_to: Option<i64>,
    pub file_id: Option<i64>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
}

/// Up to `limit` live messages the person sent, by id after `after`.
pub async fn sent(
    db: &Db,
    user_id: i64,
    after: i64,
    limit: i64,
    now: i64,
) -> Result<Vec<Sent>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Sent>(
            "SELECT m.id, c.room_id, r.name AS room_name, m.channel_id, c.name AS channel_name, \
             c.is_encrypted, m.content, m.envelope, m.thread_root_id, m.reply_to, m.file_id, \
             m.created_at, m.edited_at \
             FROM messages m JOIN channels c ON c.id = m.channel_id JOIN rooms r ON r.id = c.room_id \
             WHERE m.sender_id = $1 AND m.id > $2 AND m.deleted_at IS NULL \
             AND (m.expires_at IS NULL OR m.expires_at > $4) \
             ORDER BY m.id LIMIT $3",
        )
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .bind(now)
        .fetch_all(pool)
        .await
    })
}

/// A reaction the person gave.
#[derive(Debug, Serialize, FromRow)]
pub struct Reaction {
    pub message_id: i64,
    pub emoji: String,
    pub created_at: i64,
}

/// Up to `limit` reactions, after (`message_id`, `emoji`) = `after`.
pub async fn reactions(
    db: &Db,
    user_id: i64,
    after: (i64, &str),
    limit: i64,
) -> Result<Vec<Reaction>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Reaction>(
            "SELECT message_id, emoji, created_at FROM reactions \
             WHERE user_id = $1 AND (message_id > $2 OR (message_id = $2 AND emoji > $3)) \
             ORDER BY message_id, emoji LIMIT $4",
        )
        .bind(user_id)
        .bind(after.0)
        .bind(after.1)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// A file the person uploaded and still keeps.
#[derive(Debug, Serialize, FromRow)]
pub struct Upload {
    pub id: i64,
    pub channel_id: i64,
    #[serde(skip)]
    pub storage_key: String,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub is_encrypted: bool,
    pub created_at: i64,
}

/// Up to `limit` uploads, by id after `after`.
pub async fn uploads(
    db: &Db,
    user_id: i64,
    after: i64,
    limit: i64,
) -> Result<Vec<Upload>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Upload>(
            "SELECT id, channel_id, storage_key, name, content_type, size, sha256, is_encrypted, \
             created_at FROM files \
             WHERE uploader_id = $1 AND id > $2 AND deleted_at IS NULL ORDER BY id LIMIT $3",
        )
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}
