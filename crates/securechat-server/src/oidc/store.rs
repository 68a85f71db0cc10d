//! The SQL of single sign-on: provider identities (`oidc_identities`)
//! and the accounts they sign in to.

use crate::auth::store::UserRow;
use crate::auth::validate;
use crate::keys::store::PendingRotation;
use crate::storage::Db;
use crate::with_db;

/// The account an identity signs in to, if it is known.
pub async fn identity_user(
    db: &Db,
    issuer: &str,
    subject: &str,
) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT user_id FROM oidc_identities WHERE issuer = $1 AND subject = $2")
            .bind(issuer)
            .bind(subject)
            .fetch_optional(pool)
            .await
    })
}

/// The one account whose verified email address is `email` (compared
/// without regard to case), or `None` when there is none or more than one.
pub async fn verified_email_owner(db: &Db, email: &str) -> Result<Option<i64>, sqlx::Error> {
    let owners: Vec<i64> = with_db!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT user_id FROM email_addresses \
             WHERE lower(address) = lower($1) AND verified_at IS NOT NULL \
             ORDER BY user_id LIMIT 2",
        )
        .bind(email)
        .fetch_all(pool)
        .await
    })?;
    Ok(match owners.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

/// Links the identity to `user_id`, unless it is linked already (perhaps
/// by a sign-in racing this one): the account it signs in to now.
pub async fn link(
    db: &Db,
    issuer: &str,
    subject: &str,
    user_id: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    with_db!(db, write, |pool| {
        sqlx::query(
            "INSERT INTO oidc_identities (issuer, subject, user_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (issuer, subject) DO NOTHING",
        )
        .bind(issuer)
        .bind(subject)
        .bind(user_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(identity_user(db, issuer, subject).await?.unwrap_or(user_id))
}

/// A new account for the identity, in one transaction with its link and
/// its joining the default rooms. A unique violation means the username
/// (or a look-alike) is taken, or the identity was linked meanwhile.
pub async fn create_account(
    db: &Db,
    username: &str,
    password_hash: &str,
    issuer: &str,
    subject: &str,
    now: i64,
    default_rooms: &[i64],
) -> Result<(UserRow, Vec<(i64, Vec<PendingRotation>)>), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let user = sqlx::query_as::<_, UserRow>(
            "INSERT INTO users (username, username_key, username_skeleton, password_hash, \
             is_admin, disabled, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, FALSE, FALSE, $5, $5) \
             RETURNING id, username, password_hash, is_admin, disabled, created_at",
        )
        .bind(username)
        .bind(validate::username_key(username))
        .bind(validate::username_skeleton(username))
        .bind(password_hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO oidc_identities (issuer, subject, user_id, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(issuer)
        .bind(subject)
        .bind(user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let joined = crate::join_default_rooms!(tx, user.id, default_rooms, now);
        tx.commit().await?;
        Ok((user, joined))
    })
}
