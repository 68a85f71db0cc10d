//! SQL for TOTP credentials and recovery codes. Every rule that matters
//! under concurrency is a condition of the write: a time step is taken by
//! `UPDATE … WHERE last_step < step`, a recovery code by deleting its row,
//! a pending secret is replaced only while it is not enabled.

use crate::storage::Db;
use crate::with_db;

/// Replaces the recovery codes of `$user_id` inside the transaction `$tx`
/// (on either engine, hence a macro).
macro_rules! store_codes {
    ($tx:ident, $user_id:expr, $hashes:expr) => {
        sqlx::query("DELETE FROM totp_recovery_codes WHERE user_id = $1")
            .bind($user_id)
            .execute(&mut *$tx)
            .await?;
        for hash in $hashes {
            sqlx::query("INSERT INTO totp_recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind($user_id)
                .bind(hash)
                .execute(&mut *$tx)
                .await?;
        }
    };
}

/// A person's credential: sealed secret, and whether it is enabled.
#[derive(Debug, sqlx::FromRow)]
pub struct Credential {
    pub secret_sealed: Vec<u8>,
    pub enabled_at: Option<i64>,
}

/// The credential of `user_id`, enabled or only set up.
pub async fn credential(db: &Db, user_id: i64) -> Result<Option<Credential>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Credential>(
            "SELECT secret_sealed, enabled_at FROM totp_credentials WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// Whether TOTP is on for `user_id`, and how many recovery codes are left.
pub async fn status(db: &Db, user_id: i64) -> Result<(bool, i64), sqlx::Error> {
    let row: Option<(Option<i64>, i64)> = with_db!(db, read, |pool| {
        sqlx::query_as(
            "SELECT c.enabled_at, \
                    (SELECT COUNT(*) FROM totp_recovery_codes r WHERE r.user_id = c.user_id) \
             FROM totp_credentials c WHERE c.user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })?;
    Ok(match row {
        Some((Some(_), left)) => (true, left),
        _ => (false, 0),
    })
}

/// Stores a new secret, not yet enabled, replacing an earlier pending one.
/// Returns `false` (and changes nothing) when TOTP is already on.
pub async fn set_pending(
    db: &Db,
    user_id: i64,
    secret_sealed: &[u8],
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO totp_credentials (user_id, secret_sealed, enabled_at, last_step, created_at) \
             VALUES ($1, $2, NULL, -1, $3) \
             ON CONFLICT (user_id) DO UPDATE SET \
               secret_sealed = excluded.secret_sealed, last_step = -1, created_at = excluded.created_at \
             WHERE totp_credentials.enabled_at IS NULL",
        )
        .bind(user_id)
        .bind(secret_sealed)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Turns the pending credential on with the code of `step`, storing the
/// recovery codes' hashes, in one transaction. Returns `false` when there
/// is no pending credential (none set up, or already enabled).
pub async fn enable(
    db: &Db,
    user_id: i64,
    step: i64,
    code_hashes: &[Vec<u8>],
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let enabled = sqlx::query(
            "UPDATE totp_credentials SET enabled_at = $1, last_step = $2 \
             WHERE user_id = $3 AND enabled_at IS NULL AND last_step < $2",
        )
        .bind(now)
        .bind(step)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !enabled {
            return Ok(false);
        }
        store_codes!(tx, user_id, code_hashes);
        tx.commit().await?;
        Ok(true)
    })
}

/// Takes the time step `step` for an enabled credential: `true` for the
/// one request that moves `last_step` forward, `false` for a replay (this
/// step or an older one was already accepted), even one running at the
/// same moment.
pub async fn accept_step(db: &Db, user_id: i64, step: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE totp_credentials SET last_step = $1 \
             WHERE user_id = $2 AND enabled_at IS NOT NULL AND last_step < $1",
        )
        .bind(step)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Uses up a recovery code: `true` when it existed (and now no longer does).
pub async fn use_recovery_code(db: &Db, user_id: i64, hash: &[u8]) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM totp_recovery_codes WHERE user_id = $1 AND code_hash = $2")
            .bind(user_id)
            .bind(hash)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// Replaces every recovery code of an enabled credential.
pub async fn replace_recovery_codes(
    db: &Db,
    user_id: i64,
    code_hashes: &[Vec<u8>],
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        store_codes!(tx, user_id, code_hashes);
        tx.commit().await
    })
}

/// Removes the credential and its recovery codes. Returns whether there
/// was one.
pub async fn remove(db: &Db, user_id: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM totp_credentials WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}
