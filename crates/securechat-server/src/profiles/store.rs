//! SQL for profiles: the only place the `profiles` table is touched.

use crate::storage::Db;
use crate::with_db;

/// A profile as stored.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ProfileRow {
    pub user_id: i64,
    pub display_name: Option<String>,
    pub status_text: Option<String>,
    pub status_emoji: Option<String>,
    pub status_expires_at: Option<i64>,
    pub availability: String,
    pub avatar_key: Option<String>,
    pub avatar_small_key: Option<String>,
    pub avatar_version: i64,
}

/// The columns of [`ProfileRow`], for `RETURNING`.
macro_rules! columns {
    () => {
        "user_id, display_name, status_text, status_emoji, status_expires_at, availability, \
         avatar_key, avatar_small_key, avatar_version"
    };
}

/// `user_id`'s profile; a person who never set one has the default.
pub async fn get(db: &Db, user_id: i64) -> Result<ProfileRow, sqlx::Error> {
    let row: Option<ProfileRow> = with_db!(db, read, |pool| {
        sqlx::query_as(
            "SELECT user_id, display_name, status_text, status_emoji, status_expires_at, \
             availability, avatar_key, avatar_small_key, avatar_version \
             FROM profiles WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.unwrap_or_else(|| ProfileRow {
        user_id,
        availability: "online".to_owned(),
        ..ProfileRow::default()
    }))
}

/// The profiles of the members of `room_id` who set one.
pub async fn of_room(db: &Db, room_id: i64) -> Result<Vec<ProfileRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as(
            "SELECT p.user_id, p.display_name, p.status_text, p.status_emoji, \
             p.status_expires_at, p.availability, p.avatar_key, p.avatar_small_key, \
             p.avatar_version \
             FROM profiles p JOIN room_members m ON m.user_id = p.user_id \
             WHERE m.room_id = $1",
        )
        .bind(room_id)
        .fetch_all(pool)
        .await
    })
}

/// Which fields a change sets (`None`: left as it is).
#[derive(Debug, Default)]
pub struct Change {
    pub display_name: Option<Option<String>>,
    /// Text, emoji and expiry are one status: set together.
    pub status: Option<(Option<String>, Option<String>, Option<i64>)>,
    pub availability: Option<String>,
}

/// Applies `change` in one upsert: fields it does not set keep their
/// stored value (read by the statement itself, so two changes of different
/// fields never undo each other).
pub async fn update(
    db: &Db,
    user_id: i64,
    change: &Change,
    now: i64,
) -> Result<ProfileRow, sqlx::Error> {
    let (status_text, status_emoji, status_expires_at) = change.status.clone().unwrap_or_default();
    with_db!(db, write, |pool| {
        sqlx::query_as(concat!(
            "INSERT INTO profiles (user_id, display_name, status_text, status_emoji, \
             status_expires_at, availability, updated_at) \
             VALUES ($1, $3, $5, $6, $7, COALESCE($8, 'online'), $9) \
             ON CONFLICT (user_id) DO UPDATE SET \
             display_name = CASE WHEN $2 THEN $3 ELSE profiles.display_name END, \
             status_text = CASE WHEN $4 THEN $5 ELSE profiles.status_text END, \
             status_emoji = CASE WHEN $4 THEN $6 ELSE profiles.status_emoji END, \
             status_expires_at = CASE WHEN $4 THEN $7 ELSE profiles.status_expires_at END, \
             availability = COALESCE($8, profiles.availability), \
             updated_at = $9 \
             RETURNING ",
            columns!()
        ))
        .bind(user_id)
        .bind(change.display_name.is_some())
        .bind(change.display_name.clone().flatten())
        .bind(change.status.is_some())
        .bind(status_text)
        .bind(status_emoji)
        .bind(status_expires_at)
        .bind(change.availability.clone())
        .bind(now)
        .fetch_one(pool)
        .await
    })
}

/// Replaces the avatar's blob keys (`None`: no avatar) if the stored
/// version is still `seen` (compare-and-set, so of two racing changes one
/// wins and the other is retried knowing the keys it replaces). The new
/// row, or `None` when the version moved on meanwhile.
pub async fn set_avatar(
    db: &Db,
    user_id: i64,
    seen: i64,
    keys: Option<(&str, &str)>,
    now: i64,
) -> Result<Option<ProfileRow>, sqlx::Error> {
    let (large, small) = keys.unzip();
    with_db!(db, write, |pool| {
        sqlx::query_as(concat!(
            "INSERT INTO profiles (user_id, avatar_key, avatar_small_key, avatar_version, \
             updated_at) VALUES ($1, $2, $3, $4 + 1, $5) \
             ON CONFLICT (user_id) DO UPDATE SET avatar_key = $2, avatar_small_key = $3, \
             avatar_version = profiles.avatar_version + 1, updated_at = $5 \
             WHERE profiles.avatar_version = $4 \
             RETURNING ",
            columns!()
        ))
        .bind(user_id)
        .bind(large)
        .bind(small)
        .bind(seen)
        .bind(now)
        .fetch_optional(pool)
        .await
    })
}
