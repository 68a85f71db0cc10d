//! SQL of email: each person's address and its verification ([here]),
//! and the messages waiting for a digest ([`pending`]).

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

pub mod pending;

/// A person's address, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct Address {
    pub address: String,
    pub verified_at: Option<i64>,
    pub code_expires_at: Option<i64>,
}

pub async fn get(db: &Db, user_id: i64) -> Result<Option<Address>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Address>(
            "SELECT address, verified_at, code_expires_at FROM email_addresses WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

/// A new code for an address.
pub struct NewCode<'a> {
    pub user_id: i64,
    pub address: &'a str,
    /// The code's keyed hash.
    pub code_hash: &'a [u8],
    pub now: i64,
    pub expires_at: i64,
    /// A new code only this long after the previous one.
    pub spacing_ms: i64,
}

/// Sets the person's address, unverified, with a new code, and drops what
/// was waiting for the previous one; false, changing nothing, if their
/// previous code was sent less than `spacing_ms` ago (checked in the write).
pub async fn start(db: &Db, new: &NewCode<'_>) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let stored = sqlx::query(
            "INSERT INTO email_addresses (user_id, address, code_hash, code_expires_at, \
             code_attempts, code_sent_at, created_at) VALUES ($1, $2, $3, $4, 0, $5, $5) \
             ON CONFLICT (user_id) DO UPDATE SET address = excluded.address, verified_at = NULL, \
             code_hash = excluded.code_hash, code_expires_at = excluded.code_expires_at, \
             code_attempts = 0, code_sent_at = excluded.code_sent_at, last_digest_at = NULL \
             WHERE email_addresses.code_sent_at IS NULL OR email_addresses.code_sent_at <= $6",
        )
        .bind(new.user_id)
        .bind(new.address)
        .bind(new.code_hash)
        .bind(new.expires_at)
        .bind(new.now)
        .bind(new.now - new.spacing_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if stored {
            sqlx::query("DELETE FROM email_pending WHERE user_id = $1")
                .bind(new.user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(stored)
    })
}

/// What became of a code entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checked {
    Verified {
        verified_at: i64,
    },
    /// No code is waiting (none asked for, already used, or given up).
    NoCode,
    Expired,
    Wrong {
        attempts_left: i64,
    },
    /// The wrong guesses used up the code.
    TooMany,
}

/// Checks a code's hash against the stored one. Every check counts
/// against `max_attempts`, counted in the write before the comparison, so
/// parallel guesses cannot pass the bound; the last wrong one drops the code.
pub async fn check(
    db: &Db,
    user_id: i64,
    code_hash: &[u8],
    now: i64,
    max_attempts: i64,
) -> Result<Checked, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let row: Option<(Vec<u8>, i64, i64)> = sqlx::query_as(
            "UPDATE email_addresses SET code_attempts = code_attempts + 1 \
             WHERE user_id = $1 AND code_hash IS NOT NULL \
             RETURNING code_hash, code_expires_at, code_attempts",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((stored, expires_at, attempts)) = row else {
            return Ok(Checked::NoCode);
        };
        let outcome = if attempts > max_attempts {
            Checked::TooMany
        } else if expires_at <= now {
            Checked::Expired
        } else if stored != code_hash {
            if attempts == max_attempts {
                Checked::TooMany
            } else {
                Checked::Wrong {
                    attempts_left: max_attempts - attempts,
                }
            }
        } else {
            Checked::Verified { verified_at: now }
        };
        match outcome {
            Checked::Verified { verified_at } => {
                sqlx::query(
                    "UPDATE email_addresses SET verified_at = $2, code_hash = NULL, \
                     code_expires_at = NULL, code_attempts = 0 WHERE user_id = $1",
                )
                .bind(user_id)
                .bind(verified_at)
                .execute(&mut *tx)
                .await?;
            }
            Checked::TooMany | Checked::Expired => {
                sqlx::query(
                    "UPDATE email_addresses SET code_hash = NULL, code_expires_at = NULL \
                     WHERE user_id = $1",
                )
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
            }
            Checked::Wrong { .. } | Checked::NoCode => {}
        }
        tx.commit().await?;
        Ok(outcome)
    })
}

/// Removes the person's address and what was waiting for it. With
/// `verified_at`, only if the address is still the one verified then (an
/// unsubscribe link names it); false if nothing was removed.
pub async fn remove(db: &Db, user_id: i64, verified_at: Option<i64>) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let removed = sqlx::query(
            "DELETE FROM email_addresses WHERE user_id = $1 \
             AND ($2 IS NULL OR verified_at = $2)",
        )
        .bind(user_id)
        .bind(verified_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if removed {
            sqlx::query("DELETE FROM email_pending WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(removed)
    })
}

/// Drops the person's pending code and its spacing (the mail with it could
/// not be sent, so they may ask again at once).
pub async fn forget_code(db: &Db, user_id: i64) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE email_addresses SET code_hash = NULL, code_expires_at = NULL, \
             code_sent_at = NULL WHERE user_id = $1",
        )
        .bind(user_id)
        .execute(pool)
        .await
        .map(|_| ())
    })
}
