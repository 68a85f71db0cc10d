//! SQL for messages, reactions and read markers.
//!
//! Within a channel, ids grow in commit order: an insert first touches its
//! channel's row, which serializes writers of one channel (PostgreSQL row
//! lock; SQLite has one writer anyway), so the id sequence value is taken in
//! the same order as the commits. That is what lets a reconnecting client ask
//! for "everything after id N" and get no gap.

use sqlx::FromRow;

use super::writer::{Inserted, MessageWriter, NewMessage};
use crate::storage::Db;
use crate::with_db;

/// A message with its sender's name.
#[derive(Debug, Clone, FromRow)]
pub struct MessageRow {
    pub id: i64,
    pub channel_id: i64,
    pub sender_id: Option<i64>,
    pub sender_username: Option<String>,
    /// The sender is a bot account.
    pub sender_is_bot: bool,
    pub content: Option<String>,
    pub envelope: Option<String>,
    pub key_version: Option<i64>,
    pub client_msg_id: String,
    pub reply_to: Option<i64>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    /// When it disappears (ms since the epoch), if its channel had a timer
    /// when it was stored. Reads leave it out from then on.
    pub expires_at: Option<i64>,
    /// The attached file, while it exists.
    pub file_id: Option<i64>,
    pub file_name: Option<String>,
    pub file_type: Option<String>,
    pub file_size: Option<i64>,
    pub file_sha256: Option<String>,
    pub file_encrypted: Option<bool>,
    /// Whether anyone reacted to it: a page of history fetches reactions
    /// only when one of its messages has some, saving a query on most pages.
    pub has_reactions: bool,
    /// The root of the thread it replies in.
    pub thread_root_id: Option<i64>,
    /// A thread reply also shown in the channel.
    pub also_send_to_channel: bool,
    /// A root's live replies (0 without a thread) and the newest one's time.
    pub reply_count: i64,
    pub last_reply_at: Option<i64>,
    /// The incoming webhook that posted it (`webhooks/`), and the name
    /// and icon it showed.
    pub webhook_id: Option<i64>,
    pub webhook_name: Option<String>,
    pub webhook_icon: Option<String>,
}

/// The columns of a [`MessageRow`], from `messages m`; `$extra` columns
/// (each followed by a comma) come first, for rows that flatten one (pins
/// and saved messages).
macro_rules! select_messages {
    ($tail:expr) => {
        select_messages!("", $tail)
    };
    ($extra:expr, $tail:expr) => {
        concat!(
            "SELECT ",
            $extra,
            "m.id, m.channel_id, m.sender_id, u.username AS sender_username, \
             COALESCE(u.is_bot, FALSE) AS sender_is_bot, m.content, m.envelope, m.key_version, m.client_msg_id, m.reply_to, m.created_at, m.edited_at, \
             m.deleted_at, m.expires_at, f.id AS file_id, f.name AS file_name, f.content_type AS file_type, \
             f.size AS file_size, f.sha256 AS file_sha256, f.is_encrypted AS file_encrypted, \
             EXISTS (SELECT 1 FROM reactions r WHERE r.message_id = m.id) AS has_reactions, \
             m.thread_root_id, m.also_send_to_channel, \
             COALESCE(ts.reply_count, 0) AS reply_count, ts.last_reply_at, \
             m.webhook_id, m.webhook_name, m.webhook_icon \
             FROM messages m LEFT JOIN users u ON u.id = m.sender_id \
             LEFT JOIN files f ON f.id = m.file_id AND f.deleted_at IS NULL \
             LEFT JOIN thread_summaries ts ON ts.root_id = m.id ",
            $tail
        )
    };
}
pub(crate) use select_messages;

/// What [`insert`] did.
pub enum Stored {
    /// Stored now.
    New(MessageRow),
    /// This sender already stored a message with this `client_msg_id` in
    /// this channel.
    Existing(MessageRow),
    /// This sender used this `client_msg_id` in another channel: a retry
    /// never answers with a message of another channel.
    IdUsedElsewhere,
    /// The file is already in another message.
    FileTaken,
    /// The sender is not a member of the channel's room (any more), or the
    /// channel is gone.
    NotMember,
    /// The thread's root was deleted (or turned out not to be a root)
    /// before the reply was stored.
    ThreadGone,
}

/// Stores a message through the group-commit writer, or returns the one
/// this sender already stored with the same `client_msg_id`.
pub async fn insert(
    db: &Db,
    writer: &MessageWriter,
    new: &NewMessage<'_>,
    (sender_username, sender_is_bot): (&str, bool),
) -> Result<Stored, sqlx::Error> {
    match writer.insert(new).await? {
        // Built from what was written: no read after the write (a file's
        // details come from the files table, so those are read).
        Inserted::New(id, expires_at) if new.file_id.is_none() => Ok(Stored::New(MessageRow {
            id,
            channel_id: new.channel_id,
            sender_id: Some(new.sender_id),
            sender_username: Some(sender_username.to_owned()),
            sender_is_bot,
            content: new.content.map(str::to_owned),
            envelope: new.envelope.map(str::to_owned),
            key_version: new.key_version,
            client_msg_id: new.client_msg_id.to_owned(),
            reply_to: new.reply_to,
            created_at: new.now,
            edited_at: None,
            deleted_at: None,
            expires_at,
            file_id: None,
            file_name: None,
            file_type: None,
            file_size: None,
            file_sha256: None,
            file_encrypted: None,
            has_reactions: false,
            thread_root_id: new.thread_root_id,
            also_send_to_channel: new.also_send_to_channel,
            reply_count: 0,
            last_reply_at: None,
            webhook_id: new.webhook.map(|w| w.id),
            webhook_name: new.webhook.map(|w| w.name.clone()),
            webhook_icon: new.webhook.and_then(|w| w.icon_url.clone()),
        })),
        Inserted::New(id, _) => Ok(Stored::New(
            by_id(db, id).await?.ok_or(sqlx::Error::RowNotFound)?,
        )),
        Inserted::Missing => Ok(
            match by_client_id(db, new.sender_id, new.client_msg_id).await? {
                Some(existing) if existing.channel_id == new.channel_id => {
                    Stored::Existing(existing)
                }
                Some(_) => Stored::IdUsedElsewhere,
                None if new.file_id.is_some() && is_member(db, new).await? => Stored::FileTaken,
                None if new.thread_root_id.is_some() && is_member(db, new).await? => {
                    Stored::ThreadGone
                }
                None => Stored::NotMember,
            },
        ),
    }
}

/// Whether the sender is a member of the channel's room.
async fn is_member(db: &Db, new: &NewMessage<'_>) -> Result<bool, sqlx::Error> {
    let access = crate::rooms::store::channel_access(db, new.channel_id, new.sender_id).await?;
    Ok(access.is_some_and(|(_, _, role)| role.is_some()))
}

async fn by_client_id(
    db: &Db,
    sender_id: i64,
    client_msg_id: &str,
) -> Result<Option<MessageRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, MessageRow>(select_messages!(
            "WHERE m.sender_id = $1 AND m.client_msg_id = $2"
        ))
        .bind(sender_id)
        .bind(client_msg_id)
        .fetch_optional(pool)
        .await
    })
}

/// One message by id. Read on the writer so a just-committed row is seen.
pub async fn by_id(db: &Db, id: i64) -> Result<Option<MessageRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, MessageRow>(select_messages!("WHERE m.id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await
    })
}

/// Whose messages a page holds.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// A channel's timeline: its top-level messages and the thread
    /// replies also sent to it.
    Channel(i64),
    /// One thread's replies (the root excluded), by the root's id.
    Thread(i64),
}

/// The statement of a page of `scope` and the key it is bound to:
/// `older` pages go back from a cursor, newest first; the others forward,
/// oldest first.
fn page_sql(scope: Scope, older: bool) -> (&'static str, i64) {
    macro_rules! page {
        ($filter:literal) => {
            (
                select_messages!(concat!(
                    $filter,
                    " AND m.id < $2 AND (m.expires_at IS NULL OR m.expires_at > $4) \
                     ORDER BY m.id DESC LIMIT $3"
                )),
                select_messages!(concat!(
                    $filter,
                    " AND m.id > $2 AND (m.expires_at IS NULL OR m.expires_at > $4) \
                     ORDER BY m.id ASC LIMIT $3"
                )),
            )
        };
    }
    let ((back, forth), key) = match scope {
        Scope::Channel(id) => (
            page!(
                "WHERE m.channel_id = $1 \
                 AND (m.thread_root_id IS NULL OR m.also_send_to_channel)"
            ),
            id,
        ),
        Scope::Thread(root) => (page!("WHERE m.thread_root_id = $1"), root),
    };
    (if older { back } else { forth }, key)
}

/// The newest `limit` messages of `scope` before `before`, newest first,
/// leaving out those that disappeared by `now`.
pub async fn page_before(
    db: &Db,
    scope: Scope,
    before: i64,
    limit: i64,
    now: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let (sql, key) = page_sql(scope, true);
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, MessageRow>(sql)
            .bind(key)
            .bind(before)
            .bind(limit)
            .bind(now)
            .fetch_all(pool)
            .await
    })
}

/// The oldest `limit` messages of `scope` after `after`, oldest first,
/// leaving out those that disappeared by `now`.
/// Read on the writer: a resume sees every message committed before it.
pub async fn page_after(
    db: &Db,
    scope: Scope,
    after: i64,
    limit: i64,
    now: i64,
) -> Result<Vec<MessageRow>, sqlx::Error> {
    let (sql, key) = page_sql(scope, false);
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, MessageRow>(sql)
            .bind(key)
            .bind(after)
            .bind(limit)
            .bind(now)
            .fetch_all(pool)
            .await
    })
}

/// Replaces a message's text or envelope.
pub async fn edit(
    db: &Db,
    id: i64,
    content: Option<&str>,
    envelope: Option<&str>,
    now: i64,
) -> Result<(), sqlx::Error> {
    match db {
        Db::Sqlite { writer, .. } => {
            // The trigger removed the old text's CJK characters from the
            // search index; the new text's go in with the edit (see
            // `search::cjk`).
            let mut tx = writer.begin().await?;
            sqlx::query(EDIT)
                .bind(content)
                .bind(envelope)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            index_cjk(&mut tx, id, content).await?;
            tx.commit().await
        }
        Db::Postgres(pool) => sqlx::query(EDIT)
            .bind(content)
            .bind(envelope)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()),
    }
}

/// Puts one message's CJK characters in SQLite's index of them, in the
/// caller's transaction (an edit, the search module's start-up catch-up): its row, if any,
/// is replaced whatever FTS5 does with a second row of one id (a message
/// edited while above the high-water mark meets the catch-up again). False when the text has none.
pub async fn index_cjk(
    tx: &mut sqlx::SqliteConnection,
    id: i64,
    content: Option<&str>,
) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM messages_cjk WHERE rowid = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let Some(text) = content.and_then(crate::search::cjk::tokens) else {
        return Ok(false);
    };
    sqlx::query("INSERT INTO messages_cjk (rowid, text) VALUES ($1, $2)")
        .bind(id)
        .bind(text)
        .execute(&mut *tx)
        .await?;
    Ok(true)
}

const EDIT: &str = "UPDATE messages SET content = $1, envelope = $2, edited_at = $3 WHERE id = $4";

/// Deletes a message's content, keeping a tombstone so history has no holes,
/// and marks its file deleted in the same transaction. Returns the file's
/// id and blob key, for the caller to remove the blob.
///
/// A thread reply leaves its thread's summary in the same transaction, and
/// only the delete that tombstoned it does so (the `UPDATE` is conditional
/// and locks the row), so two deletes at once count it off once.
pub async fn delete(db: &Db, id: i64, now: i64) -> Result<Option<(i64, String)>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let tombstoned = sqlx::query(
            "UPDATE messages SET content = NULL, envelope = NULL, deleted_at = $1 \
             WHERE id = $2 AND deleted_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if tombstoned == 0 {
            tx.commit().await?;
            return Ok(None);
        }
        let file: Option<(i64, String)> = sqlx::query_as(
            "UPDATE files SET deleted_at = $1 \
             WHERE id = (SELECT file_id FROM messages WHERE id = $2) AND deleted_at IS NULL \
             RETURNING id, storage_key",
        )
        .bind(now)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE thread_summaries SET reply_count = reply_count - 1, \
             last_reply_id = COALESCE((SELECT MAX(r.id) FROM messages r \
               WHERE r.thread_root_id = thread_summaries.root_id AND r.deleted_at IS NULL), \
               thread_summaries.root_id), \
             last_reply_at = (SELECT MAX(r.created_at) FROM messages r \
               WHERE r.thread_root_id = thread_summaries.root_id AND r.deleted_at IS NULL) \
             WHERE root_id = (SELECT thread_root_id FROM messages WHERE id = $1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM reactions WHERE message_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(file)
    })
}

/// Toggles a reaction; returns whether it is now present.
pub async fn toggle_reaction(
    db: &Db,
    message_id: i64,
    user_id: i64,
    emoji: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let removed = sqlx::query(
            "DELETE FROM reactions WHERE message_id = $1 AND user_id = $2 AND emoji = $3",
        )
        .bind(message_id)
        .bind(user_id)
        .bind(emoji)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed == 0 {
            sqlx::query(
                "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(message_id)
            .bind(user_id)
            .bind(emoji)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(removed == 0)
    })
}

/// A reaction count on a message.
#[derive(Debug, Clone, FromRow)]
pub struct ReactionCount {
    pub emoji: String,
    pub count: i64,
}

/// Reactions on a message, by emoji.
pub async fn reactions(db: &Db, message_id: i64) -> Result<Vec<ReactionCount>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, ReactionCount>(
            "SELECT emoji, COUNT(*) AS count FROM reactions WHERE message_id = $1 \
             GROUP BY emoji ORDER BY emoji",
        )
        .bind(message_id)
        .fetch_all(pool)
        .await
    })
}

/// One emoji's reactions on a message, and how many of them are a given user's (0 or 1).
#[derive(Debug, Clone, FromRow)]
pub struct MessageReaction {
    pub message_id: i64,
    pub emoji: String,
    pub count: i64,
    pub mine: i64,
}

/// Reactions on a channel's messages with ids from `first` to `last`, as
/// `user_id` sees them (a page of history), by message then emoji.
pub async fn reactions_in(
    db: &Db,
    user_id: i64,
    channel_id: i64,
    first: i64,
    last: i64,
) -> Result<Vec<MessageReaction>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, MessageReaction>(
            "SELECT r.message_id, r.emoji, COUNT(*) AS count, \
               SUM(CASE WHEN r.user_id = $1 THEN 1 ELSE 0 END) AS mine \
             FROM reactions r JOIN messages m ON m.id = r.message_id \
             WHERE m.channel_id = $2 AND r.message_id BETWEEN $3 AND $4 \
             GROUP BY r.message_id, r.emoji ORDER BY r.message_id, r.emoji",
        )
        .bind(user_id)
        .bind(channel_id)
        .bind(first)
        .bind(last)
        .fetch_all(pool)
        .await
    })
}

/// Moves a user's read marker forward (never back).
pub async fn mark_read(
    db: &Db,
    user_id: i64,
    channel_id: i64,
    message_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO read_markers (user_id, channel_id, message_id, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, channel_id) DO UPDATE SET \
             message_id = CASE WHEN excluded.message_id > read_markers.message_id \
                               THEN excluded.message_id ELSE read_markers.message_id END, \
             updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(channel_id)
        .bind(message_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Unread counts per channel for a user: others' live messages after the
/// read marker, for every channel of every room the user is in.
#[derive(Debug, Clone, FromRow)]
pub struct Unread {
    pub channel_id: i64,
    pub unread: i64,
}

pub async fn unread_counts(db: &Db, user_id: i64) -> Result<Vec<Unread>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Unread>(
            "SELECT c.id AS channel_id, COUNT(m.id) AS unread \
             FROM room_members rm JOIN channels c ON c.room_id = rm.room_id \
             LEFT JOIN read_markers r ON r.user_id = rm.user_id AND r.channel_id = c.id \
             JOIN messages m ON m.channel_id = c.id AND m.id > COALESCE(r.message_id, 0) \
               AND m.deleted_at IS NULL AND (m.sender_id IS NULL OR m.sender_id <> rm.user_id) \
               AND (m.thread_root_id IS NULL OR m.also_send_to_channel) \
             WHERE rm.user_id = $1 GROUP BY c.id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// The unread count of one channel for a user.
pub async fn unread_in(db: &Db, user_id: i64, channel_id: i64) -> Result<i64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(m.id) FROM messages m \
             LEFT JOIN read_markers r ON r.user_id = $1 AND r.channel_id = m.channel_id \
             WHERE m.channel_id = $2 AND m.id > COALESCE(r.message_id, 0) \
               AND m.deleted_at IS NULL AND (m.sender_id IS NULL OR m.sender_id <> $1) \
               AND (m.thread_root_id IS NULL OR m.also_send_to_channel)",
        )
        .bind(user_id)
        .bind(channel_id)
        .fetch_one(pool)
        .await
    })
}
