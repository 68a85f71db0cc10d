//! The importer's SQL. Every row an item creates is written with its
//! `import_map` row in one transaction, so a re-run finds it done.

use std::collections::HashMap;

use crate::storage::Db;
use crate::with_db;

/// `import_map` kinds.
pub const ROOM: &str = "room";
pub const CHANNEL: &str = "channel";
pub const PERSON: &str = "person";
pub const MESSAGE: &str = "message";

const MAPPED: &str =
    "SELECT local_id FROM import_map WHERE source = $1 AND kind = $2 AND source_id = $3";
const MAP: &str =
    "INSERT INTO import_map (source, kind, source_id, local_id) VALUES ($1, $2, $3, $4)";

/// An item of a source, named by its key there.
#[derive(Clone, Copy)]
pub struct Key<'a> {
    pub source: &'a str,
    pub key: &'a str,
}

/// What an item of `source` became here, if it was imported.
pub async fn mapped(
    db: &Db,
    source: &str,
    kind: &str,
    key: &str,
) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_scalar(MAPPED)
            .bind(source)
            .bind(kind)
            .bind(key)
            .fetch_optional(pool)
            .await
    })
}

/// Records that an item is an existing row (a matched account).
pub async fn map(
    db: &Db,
    source: &str,
    kind: &str,
    key: &str,
    local: i64,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(MAP)
            .bind(source)
            .bind(kind)
            .bind(key)
            .bind(local)
            .execute(pool)
            .await
            .map(drop)
    })
}

/// A disabled account with a password no one knows, and its mapping. A
/// taken name (or a look-alike) fails with a unique violation.
pub async fn insert_placeholder(
    db: &Db,
    source: &str,
    key: &str,
    username: &str,
    password_hash: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    use crate::auth::validate;
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, username_key, username_skeleton, password_hash, \
             is_admin, disabled, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, FALSE, TRUE, $5, $5) RETURNING id",
        )
        .bind(username)
        .bind(validate::username_key(username))
        .bind(validate::username_skeleton(username))
        .bind(password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(MAP)
            .bind(source)
            .bind(PERSON)
            .bind(key)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    })
}

/// A room owned by `owner`, with its mapping.
pub async fn insert_room(
    db: &Db,
    at: Key<'_>,
    name: &str,
    description: &str,
    private: bool,
    owner: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO rooms (kind, name, name_key, description, is_private, created_by, created_at) \
             VALUES ('room', $1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(name)
        .bind(name.to_lowercase())
        .bind(description)
        .bind(private)
        .bind(owner)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
        )
        .bind(id)
        .bind(owner)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO room_audit (room_id, actor_id, action, detail, created_at) \
             VALUES ($1, $2, 'room_created', $3, $4)",
        )
        .bind(id)
        .bind(owner)
        .bind(name)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(MAP)
            .bind(at.source)
            .bind(ROOM)
            .bind(at.key)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    })
}

/// A plaintext channel of a room, with its mapping. A name taken in the
/// room fails with a unique violation.
pub async fn insert_channel(
    db: &Db,
    at: Key<'_>,
    room_id: i64,
    name: &str,
    topic: &str,
    owner: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO channels (room_id, name, name_key, topic, is_encrypted, created_by, created_at) \
             VALUES ($1, $2, $3, $4, FALSE, $5, $6) RETURNING id",
        )
        .bind(room_id)
        .bind(name)
        .bind(name.to_lowercase())
        .bind(topic)
        .bind(owner)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(MAP)
            .bind(at.source)
            .bind(CHANNEL)
            .bind(at.key)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(id)
    })
}

/// The room a channel is in.
pub async fn channel_room(db: &Db, channel_id: i64) -> Result<i64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_scalar("SELECT room_id FROM channels WHERE id = $1")
            .bind(channel_id)
            .fetch_one(pool)
            .await
    })
}

/// Makes someone a member of a room unless they are.
pub async fn join(db: &Db, room_id: i64, user_id: i64, now: i64) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO room_members (room_id, user_id, role, joined_at) \
             VALUES ($1, $2, 'member', $3) ON CONFLICT DO NOTHING",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(now)
        .execute(pool)
        .await
        .map(drop)
    })
}

/// A message resolved to local ids, ready to write.
pub struct NewMessage {
    pub key: String,
    pub channel_id: i64,
    pub sender_id: i64,
    pub content: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    /// The root's source key; looked up in the batch, then in `import_map`.
    pub thread_root: Option<String>,
    pub reactions: Vec<(i64, String, i64)>,
}

/// What a batch did.
#[derive(Default)]
pub struct Written {
    pub messages: u64,
    pub replies: u64,
    pub reactions: u64,
    pub already: u64,
    /// Replies whose root was not imported, written as top-level messages.
    pub orphans: u64,
}

/// The thread statements of a reply (`$1` root, `$2` channel, `$3` reply
/// id, `$4` its time, `$5` its sender), each dialect's greatest-of.
const SQLITE_SUMMARY: &str = "INSERT INTO thread_summaries (root_id, channel_id, reply_count, \
     last_reply_id, last_reply_at) VALUES ($1, $2, 1, $3, $4) \
     ON CONFLICT (root_id) DO UPDATE SET reply_count = thread_summaries.reply_count + 1, \
     last_reply_id = MAX(thread_summaries.last_reply_id, excluded.last_reply_id), \
     last_reply_at = MAX(COALESCE(thread_summaries.last_reply_at, 0), excluded.last_reply_at)";
const POSTGRES_SUMMARY: &str = "INSERT INTO thread_summaries (root_id, channel_id, reply_count, \
     last_reply_id, last_reply_at) VALUES ($1, $2, 1, $3, $4) \
     ON CONFLICT (root_id) DO UPDATE SET reply_count = thread_summaries.reply_count + 1, \
     last_reply_id = GREATEST(thread_summaries.last_reply_id, excluded.last_reply_id), \
     last_reply_at = GREATEST(thread_summaries.last_reply_at, excluded.last_reply_at)";
/// The replier follows; an earlier reply of theirs stays their first.
const FOLLOW_REPLIER: &str = "INSERT INTO thread_follows (user_id, root_id, following, \
     first_reply_id, last_read_id, updated_at) VALUES ($5, $1, TRUE, $3, $3, $4) \
     ON CONFLICT (user_id, root_id) DO UPDATE SET following = TRUE, \
     first_reply_id = COALESCE(thread_follows.first_reply_id, excluded.first_reply_id), \
     last_read_id = excluded.last_read_id, updated_at = excluded.updated_at";
/// The root's author follows.
const FOLLOW_AUTHOR: &str = "INSERT INTO thread_follows (user_id, root_id, following, \
     first_reply_id, last_read_id, updated_at) \
     SELECT sender_id, id, TRUE, NULL, 0, created_at FROM messages \
     WHERE id = $1 AND sender_id IS NOT NULL ON CONFLICT (user_id, root_id) DO NOTHING";

/// Writes a batch of messages, their reactions, thread summaries and
/// mappings in one transaction, leaving out those already imported.
pub async fn write_batch(
    db: &Db,
    source: &str,
    batch: &[NewMessage],
) -> Result<Written, sqlx::Error> {
    let summary_sql = match db {
        Db::Sqlite { .. } => SQLITE_SUMMARY,
        Db::Postgres(_) => POSTGRES_SUMMARY,
    };
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let mut done = Written::default();
        let mut in_batch: HashMap<&str, i64> = HashMap::new();
        let mut newest: HashMap<i64, i64> = HashMap::new();
        for m in batch {
            let seen: Option<i64> = sqlx::query_scalar(MAPPED)
                .bind(source)
                .bind(MESSAGE)
                .bind(&m.key)
                .fetch_optional(&mut *tx)
                .await?;
            if seen.is_some() {
                done.already += 1;
                continue;
            }
            let root = match &m.thread_root {
                None => None,
                Some(key) => match in_batch.get(key.as_str()) {
                    Some(id) => Some(*id),
                    None => {
                        sqlx::query_scalar::<_, i64>(MAPPED)
                            .bind(source)
                            .bind(MESSAGE)
                            .bind(key)
                            .fetch_optional(&mut *tx)
                            .await?
                    }
                },
            };
            if m.thread_root.is_some() && root.is_none() {
                done.orphans += 1;
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO messages (channel_id, sender_id, content, client_msg_id, created_at, \
                 edited_at, thread_root_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(m.channel_id)
            .bind(m.sender_id)
            .bind(&m.content)
            .bind(client_msg_id(source, &m.key))
            .bind(m.created_at)
            .bind(m.edited_at)
            .bind(root)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(MAP)
                .bind(source)
                .bind(MESSAGE)
                .bind(&m.key)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if let Some(root) = root {
                for sql in [summary_sql, FOLLOW_REPLIER, FOLLOW_AUTHOR] {
                    sqlx::query(sql)
                        .bind(root)
                        .bind(m.channel_id)
                        .bind(id)
                        .bind(m.created_at)
                        .bind(m.sender_id)
                        .execute(&mut *tx)
                        .await?;
                }
                done.replies += 1;
            } else {
                in_batch.insert(m.key.as_str(), id);
            }
            for (user, emoji, at) in &m.reactions {
                done.reactions += sqlx::query(
                    "INSERT INTO reactions (message_id, user_id, emoji, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(user)
                .bind(emoji)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            let last = newest.entry(m.channel_id).or_insert(m.created_at);
            *last = (*last).max(m.created_at);
            done.messages += 1;
        }
        for (channel, at) in newest {
            sqlx::query(
                "UPDATE channels SET last_message_at = $1 \
                 WHERE id = $2 AND (last_message_at IS NULL OR last_message_at < $1)",
            )
            .bind(at)
            .bind(channel)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(done)
    })
}

/// The `client_msg_id` of an imported message: derived from its source
/// key (visible ASCII, at most 64 characters, unique per sender).
fn client_msg_id(source: &str, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{source}\n{key}").as_bytes());
    let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
    format!("import-{hex}")
}
