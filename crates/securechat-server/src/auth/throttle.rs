//! Login throttling: repeated failures for one username, or from one client
//! address, lock further attempts for a while and are answered with 429 and
//! `Retry-After`.
//!
//! Counters live in the database, not in memory, so they survive restarts
//! and hold across every node that shares the database. Keys are keyed
//! hashes ([`Keys::throttle_key`]), so the table stores no usernames or
//! addresses. The lock grows exponentially with further failures: a
//! guessing attacker gets a handful of tries per quarter hour, while a
//! person who mistyped waits seconds.

use std::time::Duration;

use crate::auth::token::Keys;
use crate::http::Error;
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
}

/// Lock length after `failures` failures under `policy`, in milliseconds.
fn lock_ms(policy: Policy, failures: i64) -> i64 {
    let over = failures.saturating_sub(policy.threshold).clamp(0, 16);
    let ms = i64::try_from(BASE_LOCK.as_millis()).unwrap_or(30_000) << over;
    ms.min(i64::try_from(WINDOW.as_millis()).unwrap_or(900_000))
}

/// Refuses with 429 while any of `scopes` is locked.
pub async fn check(db: &Db, scopes: &[&Scope], now: i64) -> Result<(), Error> {
    for scope in scopes {
        let locked_until: Option<i64> = with_db!(db, read, |pool| {
            sqlx::query_scalar("SELECT locked_until FROM login_throttle WHERE scope_key = $1")
                .bind(&scope.key)
                .fetch_optional(pool)
                .await
        })?;
        if let Some(until) = locked_until.filter(|&until| until > now) {
            let retry_after = u64::try_from((until - now + 999) / 1000).unwrap_or(1);
            return Err(Error::TooManyRequests {
                retry_after,
                message: format!(
                    "Too many failed login attempts; try again in {retry_after} seconds"
                )
                .into(),
            });
        }
    }
    Ok(())
}

/// Counts a failure against `scope`, locking it once over the threshold.
pub async fn record_failure(db: &Db, scope: &Scope, now: i64) -> Result<(), sqlx::Error> {
    let window_start = now - i64::try_from(WINDOW.as_millis()).unwrap_or(900_000);
    let failures: i64 = with_db!(db, write, |pool| {
        sqlx::query_scalar(
            "INSERT INTO login_throttle (scope_key, failures, window_start, locked_until) \
             VALUES ($1, 1, $2, 0) \
             ON CONFLICT (scope_key) DO UPDATE SET \
               failures = CASE WHEN login_throttle.window_start <= $3 THEN 1 \
                               ELSE login_throttle.failures + 1 END, \
               window_start = CASE WHEN login_throttle.window_start <= $3 THEN $2 \
                                   ELSE login_throttle.window_start END \
             RETURNING failures",
        )
        .bind(&scope.key)
        .bind(now)
        .bind(window_start)
        .fetch_one(pool)
        .await
    })?;
    if failures >= scope.policy.threshold {
        let until = now + lock_ms(scope.policy, failures);
        with_db!(db, write, |pool| {
            sqlx::query("UPDATE login_throttle SET locked_until = $1 WHERE scope_key = $2")
                .bind(until)
                .bind(&scope.key)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
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
    let window_start = now - i64::try_from(WINDOW.as_millis()).unwrap_or(900_000);
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM login_throttle WHERE window_start <= $1 AND locked_until <= $2")
            .bind(window_start)
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
