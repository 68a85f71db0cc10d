//! SQL for push subscriptions.

use crate::storage::Db;
use crate::with_db;

/// A subscription as a client registers it (keys in base64url).
pub struct NewSubscription<'a> {
    pub user_id: i64,
    pub endpoint: &'a str,
    pub p256dh: &'a str,
    pub auth: &'a str,
    pub now: i64,
}

/// Registers a subscription, or updates the one with this endpoint (whoever
/// owned it: a browser that signs in as someone else moves it, and the
/// pushes still queued for its previous owner are dropped with the move).
/// `None`, changing nothing, if the caller already has `cap` others: the
/// count is a condition of the insert itself, taken with the caller's row
/// locked, so parallel requests of one person cannot pass it together.
pub async fn upsert(
    db: &Db,
    new: &NewSubscription<'_>,
    cap: i64,
) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET username = username WHERE id = $1")
            .bind(new.user_id)
            .execute(&mut *tx)
            .await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at, updated_at) \
             SELECT $1, $2, $3, $4, $5, $5 \
             WHERE (SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $1 AND endpoint <> $2) < $6 \
             ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, \
             p256dh = excluded.p256dh, auth = excluded.auth, updated_at = excluded.updated_at \
             RETURNING id",
        )
        .bind(new.user_id)
        .bind(new.endpoint)
        .bind(new.p256dh)
        .bind(new.auth)
        .bind(new.now)
        .bind(cap)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            sqlx::query("DELETE FROM push_queue WHERE subscription_id = $1 AND user_id <> $2")
                .bind(id)
                .bind(new.user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    })
}

/// Removes the caller's subscription with this endpoint; false if they
/// have none (someone else's is left alone).
pub async fn delete_own(db: &Db, user_id: i64, endpoint: &str) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2")
            .bind(endpoint)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() > 0)
    })
}
