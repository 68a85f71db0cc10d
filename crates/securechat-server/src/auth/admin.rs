//! Account administration, as used by `securechat user …` and `init-db`.
//! Errors are for an operator at a terminal: they say what to do.

use anyhow::{Context, bail};

use super::password::hash_blocking;
use super::store::{self, UserRow};
use super::validate;
use crate::admin::store::{self as site, SiteAudit};
use crate::storage::{Db, now_ms};

/// Creates an account, a member of the site's default rooms
/// (`default_rooms`, in the same transaction). Fails if the name is taken
/// in any letter case, or looks like a taken one, or the password is easy
/// to guess.
pub async fn add_user(
    db: &Db,
    username: &str,
    password: &str,
    is_admin: bool,
    default_rooms: &[i64],
) -> anyhow::Result<UserRow> {
    check(validate::new_password(password, username, None))?;
    insert(db, username, password, is_admin, default_rooms).await
}

/// Creates a demo account, whose password is well known anyway: only its
/// shape is checked. Demo data is refused in production.
pub async fn add_demo_user(
    db: &Db,
    username: &str,
    password: &str,
    is_admin: bool,
) -> anyhow::Result<UserRow> {
    check(validate::password_shape(password))?;
    insert(db, username, password, is_admin, &[]).await
}

async fn insert(
    db: &Db,
    username: &str,
    password: &str,
    is_admin: bool,
    default_rooms: &[i64],
) -> anyhow::Result<UserRow> {
    check(validate::username(username))?;
    let hash = hash_password(password).await?;
    match store::insert_user(db, username, &hash, is_admin, now_ms(), default_rooms, None).await {
        Ok((user, _)) => Ok(user),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            match store::name_clash(db, username).await? {
                store::NameClash::Taken => {
                    bail!("a user named {username:?} already exists (names are case-insensitive)")
                }
                store::NameClash::LooksLike(twin) => {
                    bail!(
                        "{username:?} looks too much like the existing user {twin:?}; choose another name"
                    )
                }
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Looks up a user by name, failing with a clear message when absent.
pub async fn find(db: &Db, username: &str) -> anyhow::Result<UserRow> {
    store::user_by_key(db, &validate::username_key(username))
        .await?
        .with_context(|| format!("no user named {username:?}; see `securechat user list`"))
}

/// Disables (ending every session at once) or re-enables an account.
/// Returns the disabled user's id.
/// Refused, by the update itself, for the last enabled administrator.
pub async fn set_disabled(db: &Db, username: &str, disabled: bool) -> anyhow::Result<i64> {
    let user = find(db, username).await?;
    let action = if disabled {
        "user_disabled"
    } else {
        "user_enabled"
    };
    let audit = SiteAudit::new(None, action, now_ms()).target(user.id);
    let changed = site::set_disabled(db, user.id, disabled, audit).await?;
    if !changed && disabled && !user.disabled {
        bail!("{username} is the last enabled site administrator; make someone else one first");
    }
    Ok(user.id)
}

/// Grants or revokes site administration; revoking is refused, by the
/// update itself, for the last enabled administrator.
pub async fn set_admin(db: &Db, username: &str, is_admin: bool) -> anyhow::Result<()> {
    let user = find(db, username).await?;
    let action = if is_admin {
        "admin_granted"
    } else {
        "admin_revoked"
    };
    let audit = SiteAudit::new(None, action, now_ms()).target(user.id);
    let changed = site::set_admin(db, user.id, is_admin, audit).await?;
    if !changed && !is_admin && user.is_admin {
        bail!("{username} is the last enabled site administrator; make someone else one first");
    }
    Ok(())
}

/// Makes an invitation link lasting `hours` for `uses` accounts; returns
/// its path (`/register?invite=…`).
pub async fn create_invite(db: &Db, hours: i64, uses: i64) -> anyhow::Result<String> {
    if !(1..=2160).contains(&hours) || !(1..=1000).contains(&uses) {
        bail!("an invitation lasts 1 to 2160 hours and admits 1 to 1000 people");
    }
    let secret = super::token::new_token();
    let now = now_ms();
    let audit = SiteAudit::new(None, "invitation_created", now);
    site::create_invite(
        db,
        &crate::admin::token_hash(&secret),
        now + hours * 3_600_000,
        uses,
        audit,
    )
    .await?;
    Ok(format!("/register?invite={}", secret.as_str()))
}

/// Sets a new password and ends every session of the user.
pub async fn set_password(db: &Db, username: &str, password: &str) -> anyhow::Result<()> {
    let user = find(db, username).await?;
    check(validate::new_password(password, &user.username, None))?;
    let hash = hash_password(password).await?;
    store::set_password(db, user.id, &hash, now_ms(), None).await?;
    Ok(())
}

/// Turns two-factor sign-in off for someone locked out of it (lost
/// authenticator and recovery codes). Returns whether it was on or set up.
pub async fn reset_two_factor(db: &Db, username: &str) -> anyhow::Result<bool> {
    let user = find(db, username).await?;
    Ok(crate::twofactor::store::remove(db, user.id).await?)
}

async fn hash_password(password: &str) -> anyhow::Result<String> {
    let password = zeroize::Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .context("password hashing task failed")?
}

fn check(result: Result<(), crate::error::Error>) -> anyhow::Result<()> {
    result.map_err(|e| anyhow::anyhow!("{e}"))
}
