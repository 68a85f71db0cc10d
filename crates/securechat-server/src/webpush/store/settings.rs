//! SQL for notification settings: a person's (do-not-disturb hours, no
//! content in pushes) and a person's per channel (level, mute).

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// A person's account-wide settings, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct AccountSettings {
    /// Do-not-disturb hours, minutes after local midnight; both or neither.
    pub dnd_start: Option<i64>,
    pub dnd_end: Option<i64>,
    /// The person's offset from UTC, in minutes, which the hours are in.
    pub utc_offset: i64,
    /// Pushes of plaintext channels leave out the text.
    pub no_content: bool,
}

/// The person's settings (defaults when never set).
pub async fn account(db: &Db, user_id: i64) -> Result<AccountSettings, sqlx::Error> {
    let found = with_db!(db, read, |pool| {
        sqlx::query_as::<_, AccountSettings>(
            "SELECT dnd_start, dnd_end, utc_offset, no_content FROM push_settings WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })?;
    Ok(found.unwrap_or_default())
}

pub async fn put_account(
    db: &Db,
    user_id: i64,
    settings: &AccountSettings,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO push_settings (user_id, dnd_start, dnd_end, utc_offset, no_content, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (user_id) DO UPDATE SET dnd_start = excluded.dnd_start, \
             dnd_end = excluded.dnd_end, utc_offset = excluded.utc_offset, \
             no_content = excluded.no_content, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(settings.dnd_start)
        .bind(settings.dnd_end)
        .bind(settings.utc_offset)
        .bind(settings.no_content)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// A person's setting for one channel, as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow)]
pub struct ChannelSettings {
    /// `all`, `mentions` or `none`; `None`: the default.
    pub level: Option<String>,
    /// Muted until this time (UTC milliseconds).
    pub mute_until: Option<i64>,
}

/// The person's setting for the channel (the default when never set).
pub async fn channel(
    db: &Db,
    user_id: i64,
    channel_id: i64,
) -> Result<ChannelSettings, sqlx::Error> {
    let found = with_db!(db, read, |pool| {
        sqlx::query_as::<_, ChannelSettings>(
            "SELECT level, mute_until FROM channel_notifications WHERE user_id = $1 AND channel_id = $2",
        )
        .bind(user_id)
        .bind(channel_id)
        .fetch_optional(pool)
        .await
    })?;
    Ok(found.unwrap_or_default())
}

/// Stores the person's setting for the channel (a default one removes the
/// row). False if the channel no longer exists.
pub async fn put_channel(
    db: &Db,
    user_id: i64,
    channel_id: i64,
    settings: &ChannelSettings,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        if *settings == ChannelSettings::default() {
            return sqlx::query(
                "DELETE FROM channel_notifications WHERE user_id = $1 AND channel_id = $2",
            )
            .bind(user_id)
            .bind(channel_id)
            .execute(pool)
            .await
            .map(|_| true);
        }
        sqlx::query(
            "INSERT INTO channel_notifications (user_id, channel_id, level, mute_until, updated_at) \
             SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM channels WHERE id = $2) \
             ON CONFLICT (user_id, channel_id) DO UPDATE SET level = excluded.level, \
             mute_until = excluded.mute_until, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(channel_id)
        .bind(settings.level.as_deref())
        .bind(settings.mute_until)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() > 0)
    })
}
