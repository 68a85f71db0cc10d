//! SQL for passkeys and WebAuthn challenges. The rules that matter under
//! concurrency are conditions of the writes: a challenge is taken by
//! deleting its row, an owner's challenges beyond the newest few go in
//! the transaction that adds one, a passkey is added only below the
//! account's limit, and an assertion is recorded only when its counter
//! moves forward.

use crate::storage::Db;
use crate::with_db;

/// A stored passkey, as sign-in needs it.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredPasskey {
    pub id: i64,
    pub user_id: i64,
    pub user_handle: Vec<u8>,
    /// webauthn-rs's `Passkey`, JSON.
    pub passkey: String,
}

/// A passkey as its owner's list shows it.
#[derive(Debug, sqlx::FromRow)]
pub struct Listed {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A new passkey.
pub struct NewPasskey<'a> {
    pub user_id: i64,
    pub credential_id: &'a [u8],
    pub user_handle: &'a [u8],
    pub name: &'a str,
    pub passkey: &'a str,
    pub sign_count: i64,
    pub now: i64,
}

/// Adds a passkey while the account has fewer than `max`. `Ok(None)` at
/// the limit; a credential already registered (to anyone) is a unique
/// violation.
pub async fn insert(db: &Db, new: &NewPasskey<'_>, max: i64) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_scalar(
            "INSERT INTO passkeys \
               (user_id, credential_id, user_handle, name, passkey, sign_count, created_at) \
             SELECT $1, $2, $3, $4, $5, $6, $7 \
             WHERE (SELECT COUNT(*) FROM passkeys WHERE user_id = $1) < $8 \
             RETURNING id",
        )
        .bind(new.user_id)
        .bind(new.credential_id)
        .bind(new.user_handle)
        .bind(new.name)
        .bind(new.passkey)
        .bind(new.sign_count)
        .bind(new.now)
        .bind(max)
        .fetch_optional(pool)
        .await
    })
}

/// The passkeys of `user_id`, oldest first (at most the per-account
/// limit, so one page).
pub async fn list(db: &Db, user_id: i64) -> Result<Vec<Listed>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Listed>(
            "SELECT id, name, created_at, last_used_at FROM passkeys \
             WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// Every passkey of `user_id`, for a second-factor challenge.
pub async fn of_user(db: &Db, user_id: i64) -> Result<Vec<StoredPasskey>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, StoredPasskey>(
            "SELECT id, user_id, user_handle, passkey FROM passkeys \
             WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// The passkey with this credential id, whoever owns it.
pub async fn by_credential(
    db: &Db,
    credential_id: &[u8],
) -> Result<Option<StoredPasskey>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, StoredPasskey>(
            "SELECT id, user_id, user_handle, passkey FROM passkeys WHERE credential_id = $1",
        )
        .bind(credential_id)
        .fetch_optional(pool)
        .await
    })
}

/// The WebAuthn user handle `user_id`'s passkeys carry, if they have one.
pub async fn user_handle(db: &Db, user_id: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT user_handle FROM passkeys WHERE user_id = $1 ORDER BY id LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// Records a verified assertion: the updated passkey and its counter, when
/// the counter moved forward (or the authenticator keeps none: both 0).
/// `false` when the passkey is gone or another assertion with this counter
/// or a later one was recorded first.
pub async fn record_use(
    db: &Db,
    id: i64,
    passkey: &str,
    sign_count: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE passkeys SET passkey = $1, sign_count = $2, last_used_at = $3 \
             WHERE id = $4 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))",
        )
        .bind(passkey)
        .bind(sign_count)
        .bind(now)
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Deletes one of `user_id`'s passkeys; `false` when there is no such one.
pub async fn delete(db: &Db, user_id: i64, id: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// A challenge to keep.
pub struct NewChallenge<'a> {
    pub id: &'a str,
    pub owner: &'a str,
    pub purpose: &'a str,
    pub user_id: Option<i64>,
    pub state: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Stores a challenge; in the same transaction the owner's expired ones
/// and all but its newest `keep` go.
pub async fn put_challenge(db: &Db, new: &NewChallenge<'_>, keep: i64) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO webauthn_challenges \
               (id, owner, purpose, user_id, state, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(new.id)
        .bind(new.owner)
        .bind(new.purpose)
        .bind(new.user_id)
        .bind(new.state)
        .bind(new.now)
        .bind(new.expires_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM webauthn_challenges WHERE owner = $1 AND (expires_at <= $2 OR id NOT IN \
               (SELECT id FROM webauthn_challenges WHERE owner = $1 \
                ORDER BY created_at DESC, id DESC LIMIT $3))",
        )
        .bind(new.owner)
        .bind(new.now)
        .bind(keep)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })
}

/// A taken challenge: whom it was for and its state.
#[derive(Debug, sqlx::FromRow)]
pub struct TakenChallenge {
    pub user_id: Option<i64>,
    pub state: String,
    pub expires_at: i64,
}

/// Takes the challenge `id` made for `purpose`: it is deleted, so of two
/// answers to it at most one gets it.
pub async fn take_challenge(
    db: &Db,
    id: &str,
    purpose: &str,
) -> Result<Option<TakenChallenge>, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query_as::<_, TakenChallenge>(
            "DELETE FROM webauthn_challenges WHERE id = $1 AND purpose = $2 \
             RETURNING user_id, state, expires_at",
        )
        .bind(id)
        .bind(purpose)
        .fetch_optional(pool)
        .await
    })
}

/// Deletes expired challenges; run periodically.
pub async fn purge_challenges(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM webauthn_challenges WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
