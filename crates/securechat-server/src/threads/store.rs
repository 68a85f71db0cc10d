//! SQL for threads: participants, summaries, follows, read markers and the
//! list of followed threads.
//!
//! Replies, summary rows and the automatic follows are written by the
//! group commit (`messages/writer.rs`) in the transaction that stores the
//! replies, and a deleted reply leaves its summary in the delete's own
//! transaction (`messages/store.rs`): nothing here reads a count to write
//! it back. A follow and a read marker are one upsert each.

use sqlx::FromRow;

use crate::messages::store::{MessageRow, select_messages};
use crate::storage::Db;
use crate::with_db;

/// Participants shown on a root.
pub const MAX_PARTICIPANTS: i64 = 5;

/// The live replies of a thread newer than a person's read marker, not
/// their own; `f` is their `thread_follows` row `tf` (not `f`: the message columns join `files f`).
macro_rules! unread_sql {
    () => {
        "(SELECT COUNT(*) FROM messages u WHERE u.thread_root_id = tf.root_id \
         AND u.id > tf.last_read_id AND u.deleted_at IS NULL \
         AND (u.sender_id IS NULL OR u.sender_id <> tf.user_id))"
    };
}

/// Up to [`MAX_PARTICIPANTS`] repliers of each of `roots`, in the order of
/// their first reply: `(root_id, user_id)` pairs.
pub async fn participants(db: &Db, roots: &[i64]) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    macro_rules! ranked {
        ($roots:literal) => {
            concat!(
                "SELECT root_id, user_id FROM (SELECT root_id, user_id, ROW_NUMBER() OVER \
                 (PARTITION BY root_id ORDER BY first_reply_id) AS n FROM thread_follows \
                 WHERE first_reply_id IS NOT NULL AND root_id IN ",
                $roots,
                ") p WHERE n <= $2 ORDER BY root_id, n"
            )
        };
    }
    match db {
        Db::Sqlite { reader, .. } => {
            let roots = serde_json::to_string(roots).map_err(|e| sqlx::Error::Encode(e.into()))?;
            sqlx::query_as(ranked!("(SELECT value FROM json_each($1))"))
                .bind(roots)
                .bind(MAX_PARTICIPANTS)
                .fetch_all(reader)
                .await
        }
        Db::Postgres(pool) => {
            sqlx::query_as(ranked!("(SELECT * FROM UNNEST($1::bigint[]))"))
                .bind(roots)
                .bind(MAX_PARTICIPANTS)
                .fetch_all(pool)
                .await
        }
    }
}

/// A thread's summary with where it lives (read after a change, to push).
#[derive(Debug, Clone, FromRow)]
pub struct SummaryRow {
    pub room_id: i64,
    pub channel_id: i64,
    pub reply_count: i64,
    pub last_reply_at: Option<i64>,
}

/// The summary of the thread of `root_id`, if it has had replies.
pub async fn summary(db: &Db, root_id: i64) -> Result<Option<SummaryRow>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, SummaryRow>(
            "SELECT c.room_id, s.channel_id, s.reply_count, s.last_reply_at \
             FROM thread_summaries s JOIN channels c ON c.id = s.channel_id \
             WHERE s.root_id = $1",
        )
        .bind(root_id)
        .fetch_optional(pool)
        .await
    })
}

/// A follower's unread count in one thread.
#[derive(Debug, Clone, FromRow)]
pub struct FollowerUnread {
    pub user_id: i64,
    pub unread: i64,
}

/// The unread counts of everyone following the thread of `root_id` who is
/// still a member of its room (a removed member is told nothing).
pub async fn follower_unreads(db: &Db, root_id: i64) -> Result<Vec<FollowerUnread>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, FollowerUnread>(concat!(
            "SELECT tf.user_id, ",
            unread_sql!(),
            " AS unread FROM thread_follows tf JOIN messages r ON r.id = tf.root_id \
             JOIN channels c ON c.id = r.channel_id \
             JOIN room_members rm ON rm.room_id = c.room_id AND rm.user_id = tf.user_id \
             WHERE tf.root_id = $1 AND tf.following"
        ))
        .bind(root_id)
        .fetch_all(pool)
        .await
    })
}

/// One person's state in one thread.
#[derive(Debug, Clone, FromRow)]
pub struct MyThread {
    pub following: bool,
    pub unread: i64,
}

/// Follows or unfollows the thread of `root_id` for `user_id`.
pub async fn set_following(
    db: &Db,
    user_id: i64,
    root_id: i64,
    following: bool,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO thread_follows (user_id, root_id, following, first_reply_id, \
             last_read_id, updated_at) VALUES ($1, $2, $3, NULL, 0, $4) \
             ON CONFLICT (user_id, root_id) DO UPDATE SET following = excluded.following, \
             updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(root_id)
        .bind(following)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Moves `user_id`'s read marker in the thread of `root_id` forward to
/// `message_id` (never back). Reading does not make one follow.
pub async fn mark_read(
    db: &Db,
    user_id: i64,
    root_id: i64,
    message_id: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO thread_follows (user_id, root_id, following, first_reply_id, \
             last_read_id, updated_at) VALUES ($1, $2, FALSE, NULL, $3, $4) \
             ON CONFLICT (user_id, root_id) DO UPDATE SET \
             last_read_id = CASE WHEN excluded.last_read_id > thread_follows.last_read_id \
                                 THEN excluded.last_read_id ELSE thread_follows.last_read_id END, \
             updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(root_id)
        .bind(message_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// `user_id`'s state in the thread of `root_id` (not following, nothing
/// unread, without a row).
pub async fn mine(db: &Db, user_id: i64, root_id: i64) -> Result<MyThread, sqlx::Error> {
    let found = with_db!(db, write, |pool| {
        sqlx::query_as::<_, MyThread>(concat!(
            "SELECT tf.following, ",
            unread_sql!(),
            " AS unread FROM thread_follows tf WHERE tf.user_id = $1 AND tf.root_id = $2"
        ))
        .bind(user_id)
        .bind(root_id)
        .fetch_optional(pool)
        .await
    })?;
    Ok(found.unwrap_or(MyThread {
        following: false,
        unread: 0,
    }))
}

/// A followed thread: its root, room and the follower's unread count.
#[derive(Debug, FromRow)]
pub struct FollowedRow {
    pub room_id: i64,
    /// The page cursor: the newest live reply's id (the root's without one).
    pub last_reply_id: i64,
    pub unread: i64,
    #[sqlx(flatten)]
    pub root: MessageRow,
}

/// Threads `user_id` follows in rooms they are a member of now, most
/// recently replied first, below the cursor `before`; with `unread_only`,
/// only those with unread replies.
pub async fn followed_page(
    db: &Db,
    user_id: i64,
    before: i64,
    unread_only: bool,
    limit: i64,
) -> Result<Vec<FollowedRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, FollowedRow>(select_messages!(
            concat!(
                "c.room_id, ts.last_reply_id AS last_reply_id, ",
                unread_sql!(),
                " AS unread, "
            ),
            concat!(
                "JOIN thread_follows tf ON tf.root_id = m.id AND tf.user_id = $1 AND tf.following \
                 JOIN channels c ON c.id = m.channel_id \
                 JOIN room_members rm ON rm.room_id = c.room_id AND rm.user_id = $1 \
                 WHERE ts.last_reply_id < $2 AND ($3 = FALSE OR ",
                unread_sql!(),
                " > 0) ORDER BY ts.last_reply_id DESC LIMIT $4"
            )
        ))
        .bind(user_id)
        .bind(before)
        .bind(unread_only)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}
