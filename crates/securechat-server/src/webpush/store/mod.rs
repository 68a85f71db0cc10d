//! SQL of Web Push, one file per area: [`subscriptions`], [`settings`]
//! (account and per-channel), [`recipients`] (who of a channel's room may
//! get a push, with their settings) and [`queue`] (pushes waiting to be
//! sent). Here: the VAPID public key every node must share.

use crate::storage::Db;
use crate::with_db;

pub mod queue;
pub mod recipients;
pub mod settings;
pub mod subscriptions;

/// Stores `public_key` as the deployment's VAPID public key unless one is
/// stored already, in one statement, and returns the stored one: the first
/// node to start decides, and every node learns whether its key is that one.
pub async fn claim_vapid_key(db: &Db, public_key: &str, now: i64) -> Result<String, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_scalar(
            "INSERT INTO push_vapid (id, public_key, created_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET id = push_vapid.id RETURNING public_key",
        )
        .bind(public_key)
        .bind(now)
        .fetch_one(pool)
        .await
    })
}
