//! SQL for who may hear about a new message: the members of the channel's
//! room (not the sender, not disabled accounts) who have at least one push
//! subscription or (when the server sends email) a verified email address,
//! with the settings that decide it. Push and email digests share the
//! decision, so they share this query.

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// A member with a subscription, and their settings (`None`: never set).
#[derive(Debug, Clone, FromRow)]
pub struct Recipient {
    pub user_id: i64,
    pub username: String,
    pub dnd_start: Option<i64>,
    pub dnd_end: Option<i64>,
    pub utc_offset: Option<i64>,
    pub no_content: Option<bool>,
    pub level: Option<String>,
    pub mute_until: Option<i64>,
    /// They have a push subscription.
    pub has_push: bool,
    /// They have a verified email address (`email::store`).
    pub has_email: bool,
    /// They follow the thread asked about (`threads`; false without one).
    pub follows_thread: bool,
}

/// The members of `room_id` other than `sender_id` who have a push
/// subscription, or a verified email address if `email`, with their
/// account settings, their setting for `channel_id` and whether they
/// follow the thread of `thread_root_id`: one query.
pub async fn of_channel(
    db: &Db,
    room_id: i64,
    channel_id: i64,
    sender_id: i64,
    email: bool,
    thread_root_id: Option<i64>,
) -> Result<Vec<Recipient>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Recipient>(
            "SELECT * FROM (SELECT m.user_id, u.username, ps.dnd_start, ps.dnd_end, \
             ps.utc_offset, ps.no_content, cn.level, cn.mute_until, \
             EXISTS (SELECT 1 FROM push_subscriptions s WHERE s.user_id = m.user_id) AS has_push, \
             ($4 AND EXISTS (SELECT 1 FROM email_addresses e WHERE e.user_id = m.user_id \
                             AND e.verified_at IS NOT NULL)) AS has_email, \
             EXISTS (SELECT 1 FROM thread_follows f WHERE f.user_id = m.user_id \
                     AND f.root_id = $5 AND f.following) AS follows_thread \
             FROM room_members m JOIN users u ON u.id = m.user_id \
             LEFT JOIN push_settings ps ON ps.user_id = m.user_id \
             LEFT JOIN channel_notifications cn ON cn.user_id = m.user_id AND cn.channel_id = $2 \
             WHERE m.room_id = $1 AND m.user_id <> $3 AND NOT u.disabled) AS members \
             WHERE has_push OR has_email",
        )
        .bind(room_id)
        .bind(channel_id)
        .bind(sender_id)
        .bind(email)
        .bind(thread_root_id)
        .fetch_all(pool)
        .await
    })
}
