//! SQL for users and sessions. The only place these tables are touched.

use serde::Serialize;

use super::validate;
use crate::keys::store::PendingRotation;
use crate::storage::{Db, rfc3339};
use crate::with_db;

/// A user as stored, including the password hash. Never serialized.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
}

/// A user as the API shows them to themselves.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    /// Site administrator (manages accounts; sees room metadata only).
    pub is_admin: bool,
    /// A bot account (signed in with a bot token).
    pub is_bot: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl From<&UserRow> for User {
    fn from(row: &UserRow) -> Self {
        Self {
            id: row.id,
            username: row.username.clone(),
            is_admin: row.is_admin,
            is_bot: false,
            created_at: rfc3339(row.created_at),
        }
    }
}

/// `SELECT <user columns> FROM users <tail>` as one static string.
macro_rules! select_users {
    ($tail:literal) => {
        concat!(
            "SELECT id, username, password_hash, is_admin, disabled, created_at FROM users ",
            $tail
        )
    };
}

/// Inserts a user. A taken username (in any case), or one that looks like
/// a taken one (the same skeleton), is a unique violation. In the same
/// transaction the account joins `default_rooms` (the site's
/// `DEFAULT_ROOMS`), so it exists with all of them or not at all; returns
/// the rooms joined with the key rotations each join started.
///
/// With `invite` (an invitation's token hash), the invitation is used in
/// the same transaction: an unknown, revoked, expired or used-up one
/// creates nothing and answers `RowNotFound`, and a name taken afterwards
/// gives its use back (the transaction rolls back).
pub async fn insert_user(
    db: &Db,
    username: &str,
    password_hash: &str,
    is_admin: bool,
    now: i64,
    default_rooms: &[i64],
    invite: Option<&[u8]>,
) -> Result<(UserRow, Vec<(i64, Vec<PendingRotation>)>), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        if let Some(invite) = invite {
            let used = sqlx::query(crate::admin::store::REDEEM_INVITE)
                .bind(invite)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if used == 0 {
                return Err(sqlx::Error::RowNotFound);
            }
        }
        let user = sqlx::query_as::<_, UserRow>(
            "INSERT INTO users (username, username_key, username_skeleton, password_hash, \
             is_admin, disabled, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $5, FALSE, $6, $6) \
             RETURNING id, username, password_hash, is_admin, disabled, created_at",
        )
        .bind(username)
        .bind(validate::username_key(username))
        .bind(validate::username_skeleton(username))
        .bind(password_hash)
        .bind(is_admin)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let joined = crate::join_default_rooms!(tx, user.id, default_rooms, now);
        tx.commit().await?;
        Ok((user, joined))
    })
}

/// Why a new username was refused as a unique violation.
pub enum NameClash {
    /// The same name, in some letter case.
    Taken,
    /// A different name that looks the same (this one).
    LooksLike(String),
}

/// Tells which rule a refused username broke (read after the refused
/// insert, for the message only: the insert itself enforced the rule).
pub async fn name_clash(db: &Db, username: &str) -> Result<NameClash, sqlx::Error> {
    if user_by_key(db, &validate::username_key(username))
        .await?
        .is_some()
    {
        return Ok(NameClash::Taken);
    }
    let twin: Option<(String,)> = with_db!(db, read, |pool| {
        sqlx::query_as("SELECT username FROM users WHERE username_skeleton = $1")
            .bind(validate::username_skeleton(username))
            .fetch_optional(pool)
            .await
    })?;
    Ok(twin.map_or(NameClash::Taken, |(name,)| NameClash::LooksLike(name)))
}

/// Fills the skeleton of accounts made before usernames had one. Two old
/// accounts that look alike keep working; the later one is left without a
/// skeleton (and logged), since neither can be renamed here.
pub async fn fill_username_skeletons(db: &Db) -> Result<(), sqlx::Error> {
    let missing: Vec<(i64, String)> = with_db!(db, read, |pool| {
        sqlx::query_as("SELECT id, username FROM users WHERE username_skeleton IS NULL AND deleted_at IS NULL ORDER BY id")
            .fetch_all(pool)
            .await
    })?;
    for (id, username) in missing {
        let skeleton = validate::username_skeleton(&username);
        let filled = with_db!(db, write, |pool| {
            sqlx::query("UPDATE users SET username_skeleton = $1 WHERE id = $2")
                .bind(&skeleton)
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
        });
        match filled {
            Ok(()) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                tracing::warn!(
                    user_id = id,
                    "this account's name looks like an older account's; both keep working"
                );
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Looks a user up by the lower-cased username.
pub async fn user_by_key(db: &Db, username_key: &str) -> Result<Option<UserRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, UserRow>(select_users!("WHERE username_key = $1"))
            .bind(username_key)
            .fetch_optional(pool)
            .await
    })
}

/// Looks a user up by id.
pub async fn user_by_id(db: &Db, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, UserRow>(select_users!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(pool)
            .await
    })
}

/// All users, oldest first.
pub async fn list_users(db: &Db) -> Result<Vec<UserRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, UserRow>(select_users!("ORDER BY id"))
            .fetch_all(pool)
            .await
    })
}

/// Replaces a password hash and ends every session of the user except
/// `keep` (the one that asked for the change, if any).
pub async fn set_password(
    db: &Db,
    user_id: i64,
    password_hash: &str,
    now: i64,
    keep: Option<&[u8]>,
) -> Result<bool, sqlx::Error> {
    let keep = keep.map(<[u8]>::to_vec).unwrap_or_default();
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
        )
        .bind(password_hash)
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(&keep)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(updated > 0)
    })
}

/// Stores a new session.
pub async fn insert_session(
    db: &Db,
    token_hash: &[u8],
    user_id: i64,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) \
             VALUES ($1, $2, $3, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// The live session behind a token hash: its enabled user and when the
/// session was last marked as seen.
#[derive(Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// TOTP is on for the account.
    pub two_factor: bool,
}

/// Finds the enabled user of an unexpired session.
pub async fn session_user(
    db: &Db,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<SessionRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, SessionRow>(
            "SELECT u.id, u.username, u.is_admin, u.created_at, s.last_seen_at, \
                    EXISTS (SELECT 1 FROM totp_credentials t \
                            WHERE t.user_id = u.id AND t.enabled_at IS NOT NULL) AS two_factor \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled = FALSE",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
    })
}

/// Records activity on a session.
pub async fn touch_session(db: &Db, token_hash: &[u8], now: i64) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(now)
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Ends one session.
pub async fn delete_session(db: &Db, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

/// Ends every session of a user.
pub async fn delete_user_sessions(db: &Db, user_id: i64) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Deletes expired sessions; run periodically.
pub async fn purge_expired_sessions(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Enabled users whose name contains `pattern` (a lower-cased, escaped LIKE
/// pattern), by name.
pub async fn search_users(db: &Db, pattern: &str, limit: i64) -> Result<Vec<UserRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, UserRow>(select_users!(
            "WHERE disabled = FALSE AND username_key LIKE $1 ESCAPE '\\' ORDER BY username_key LIMIT $2"
        ))
        .bind(pattern)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Active users `viewer` may find: themselves and those sharing a room with
/// them, when their name matches `pattern`, and the one whose name is
/// exactly `exact`.
pub async fn search_users_for(
    db: &Db,
    viewer: i64,
    pattern: &str,
    exact: &str,
    limit: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, UserRow>(select_users!(
            "WHERE disabled = FALSE AND (username_key = $2 OR (username_key LIKE $1 ESCAPE '\\' \
             AND (users.id = $3 OR EXISTS (SELECT 1 FROM room_members mine JOIN room_members theirs \
             ON theirs.room_id = mine.room_id WHERE mine.user_id = $3 AND theirs.user_id = users.id)))) \
             ORDER BY username_key LIMIT $4"
        ))
        .bind(pattern)
        .bind(exact)
        .bind(viewer)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Whether two users are members of a common room.
pub async fn share_a_room(db: &Db, a: i64, b: i64) -> Result<bool, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM room_members mine JOIN room_members theirs \
             ON theirs.room_id = mine.room_id WHERE mine.user_id = $1 AND theirs.user_id = $2",
        )
        .bind(a)
        .bind(b)
        .fetch_one(pool)
        .await
        .map(|n| n > 0)
    })
}
