//! Login throttling: repeated failures for one username, or from one client
//! address, lock further attempts for a while and are answered with 429 and
//! `Retry-After`.
//!
//! A lock must not become a way to keep someone out of their own account
//! (OWASP's device cookies): a browser that signed in to the account before
//! presents a device cookie, and its attempts are counted against that
//! device alone, not against the account or the address. An attacker
//! without the cookie still gets a handful of guesses per quarter hour.
//!
//! Counters live in the database, not in memory, so they survive restarts
//! and hold across every node that shares the database. Keys are keyed
//! hashes ([`Keys::throttle_key`]), so the table stores no usernames or
//! addresses. The lock grows exponentially with further failures: a
//! guessing attacker gets a handful of tries per quarter hour, while a
//! person who mistyped waits seconds.
//!
//! An attempt is counted when it starts ([`reserve`], one atomic upsert per
//! scope), not when its password check fails: parallel guesses cannot all
//! pass a check made before any of their failures is recorded. A failure
//! keeps its reservation (and may lock the scope, [`fail`]); a success gives
//! it back ([`succeed`]).

use std::time::Duration;

use crate::auth::token::Keys;
use crate::error::Error;
use crate::storage::Db;
use crate::with_db;

/// How many failures a scope may have within [`WINDOW`] before it locks.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub threshold: i64,
}

/// Per username: five tries.
pub const PER_USER: Policy = Policy { threshold: 5 };
/// Per client address: more, since a whole office may share one.
pub const PER_ADDRESS: Policy = Policy { threshold: 20 };

/// Failures older than this are forgotten.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// First lock length; doubles with each further failure.
const BASE_LOCK: Duration = Duration::from_secs(30);

/// A throttling scope: a username or a client address.
pub struct Scope {
    key: Vec<u8>,
    policy: Policy,
}

impl Scope {
    pub fn user(keys: &Keys, username_key: &str) -> Self {
        Self {
            key: keys.throttle_key(&format!("user:{username_key}")),
            policy: PER_USER,
        }
    }

    pub fn address(keys: &Keys, address: &str) -> Self {
        Self {
            key: keys.throttle_key(&format!("ip:{address}")),
            policy: PER_ADDRESS,
        }
    }

    /// Sign-ins from a browser that signed in to the account before (a
    /// valid device cookie): its own count, so neither a locked account nor
    /// a locked address keeps its owner out.
    pub fn device(keys: &Keys, device_id: &str) -> Self {
        Self {
            key: keys.throttle_key(&format!("device:{device_id}")),
            policy: PER_USER,
        }
    }

    /// Registrations from a client address: every one counts (none is
    /// given back), `limit` per [`WINDOW`].
    pub fn registrations(keys: &Keys, address: &str, limit: u32) -> Self {
        Self {
            key: keys.throttle_key(&format!("register:{address}")),
            policy: Policy {
                threshold: i64::from(limit),
            },
        }
    }
}

/// Lock length after `failures` failures under `policy`, in milliseconds.
fn lock_ms(policy: Policy, failures: i64) -> i64 {
    let over = failures.saturating_sub(policy.threshold).clamp(0, 16);
    let ms = i64::try_from(BASE_LOCK.as_millis()).unwrap_or(30_000) << over;
    ms.min(i64::try_from(WINDOW.as_millis()).unwrap_or(900_000))
}

fn too_many(until: i64, now: i64) -> Error {
    let retry_after = u64::try_from((until - now + 999) / 1000)
        .unwrap_or(1)
        .max(1);
    Error::TooManyRequests {
        retry_after,
        message: format!("Too many attempts from here; try again in {retry_after} seconds").into(),
    }
}

fn window_start(now: i64) -> i64 {
    now - i64::try_from(WINDOW.as_millis()).unwrap_or(900_000)
}

/// Counts one attempt against each of `scopes` before the password is
/// checked. Refuses with 429 (and counts nothing more) while a scope is
/// locked, or when this attempt would be past its threshold: then as many
/// attempts as the threshold allows are already under way or failed. Returns
/// each scope's attempt count, this attempt included, for [`fail`].
pub async fn reserve(db: &Db, scopes: &[&Scope], now: i64) -> Result<Vec<i64>, Error> {
    let mut counts = Vec::with_capacity(scopes.len());
    for scope in scopes {
        // The update only happens while the scope is not locked; a locked
        // scope returns no row.
        let attempts: Option<i64> = with_db!(db, write, |pool| {
            sqlx::query_scalar(
                "INSERT INTO login_throttle (scope_key, failures, window_start, locked_until) \
                 VALUES ($1, 1, $2, 0) \
                 ON CONFLICT (scope_key) DO UPDATE SET \
                   failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 \
                                   ELSE login_throttle.failures + 1 END, \
                   window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 \
                                       ELSE login_throttle.window_start END \
                 WHERE login_throttle.locked_until <= $2 \
                 RETURNING failures",
            )
            .bind(&scope.key)
            .bind(now)
            .bind(window_start(now))
            .fetch_optional(pool)
            .await
        })?;
        let Some(attempts) = attempts else {
            let until: Option<i64> = with_db!(db, read, |pool| {
                sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE scope_key = $1")
                    .bind(&scope.key)
                    .fetch_optional(pool)
                    .await
            })?;
            return Err(too_many(until.unwrap_or(now + 1000), now));
        };
        if attempts > scope.policy.threshold {
            // As many guesses as allowed are already in flight or failed.
            let until = now + lock_ms(scope.policy, attempts);
            return Err(too_many(until, now));
        }
        counts.push(attempts);
    }
    Ok(counts)
}

/// The attempts reserved with `counts` failed: scopes at their threshold
/// lock, for longer the more they failed.
pub async fn fail(db: &Db, scopes: &[&Scope], counts: &[i64], now: i64) -> Result<(), sqlx::Error> {
    for (scope, &attempts) in scopes.iter().zip(counts) {
        if attempts >= scope.policy.threshold {
            let until = now + lock_ms(scope.policy, attempts);
            with_db!(db, write, |pool| {
                sqlx::query(
                    "UPDATE login_throttle SET locked_until = $1 \
                     WHERE scope_key = $2 AND locked_until < $1",
                )
                .bind(until)
                .bind(&scope.key)
                .execute(pool)
                .await
                .map(|_| ())
            })?;
        }
    }
    Ok(())
}

/// The attempt reserved against `scope` succeeded: its count goes back down
/// (a successful sign-in is not a guess).
pub async fn succeed(db: &Db, scope: &Scope) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "UPDATE login_throttle SET failures = failures - 1 \
             WHERE scope_key = $1 AND failures > 0",
        )
        .bind(&scope.key)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// [`succeed`] for each of `scopes`: none of them counts this attempt.
pub async fn succeed_all(db: &Db, scopes: &[&Scope]) -> Result<(), sqlx::Error> {
    for scope in scopes {
        succeed(db, scope).await?;
    }
    Ok(())
}

/// Forgets the failures of `scope` (after a successful login).
pub async fn clear(db: &Db, scope: &Scope) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM login_throttle WHERE scope_key = $1")
            .bind(&scope.key)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Deletes counters that no longer matter; run periodically.
pub async fn purge(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1 AND locked_until <= $2")
            .bind(window_start(now))
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_grows_and_is_capped() {
        assert_eq!(lock_ms(PER_USER, 5), 30_000);
        assert_eq!(lock_ms(PER_USER, 6), 60_000);
        assert_eq!(lock_ms(PER_USER, 7), 120_000);
        assert_eq!(lock_ms(PER_USER, 100), 900_000);
    }
}
