//! The SQL of the channel-wide mention setting.

use crate::storage::Db;
use crate::with_db;

/// The room's setting (`None`: anyone may) and its member count, in one
/// statement.
pub async fn limit_and_size(db: &Db, room_id: i64) -> Result<(Option<i64>, i64), sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, (Option<i64>, i64)>(
            "SELECT (SELECT s.everyone_mention_max_members FROM mention_settings s \
                     WHERE s.room_id = $1), \
                    (SELECT COUNT(*) FROM room_members m WHERE m.room_id = $1)",
        )
        .bind(room_id)
        .fetch_one(pool)
        .await
    })
}

/// The room's setting alone (`None`: anyone may).
pub async fn limit(db: &Db, room_id: i64) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let row: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT everyone_mention_max_members FROM mention_settings WHERE room_id = $1",
        )
        .bind(room_id)
        .fetch_optional(pool)
        .await?;
        Ok(row.flatten())
    })
}

pub async fn set_limit(
    db: &Db,
    room_id: i64,
    max: Option<i64>,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO mention_settings (room_id, everyone_mention_max_members, updated_at) \
             VALUES ($1, $2, $3) ON CONFLICT (room_id) DO UPDATE SET \
             everyone_mention_max_members = excluded.everyone_mention_max_members, \
             updated_at = excluded.updated_at",
        )
        .bind(room_id)
        .bind(max)
        .bind(now)
        .execute(pool)
        .await?;
        Ok(())
    })
}
