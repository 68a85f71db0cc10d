//! SQL of the admin console: site settings, invitations, password-reset
//! links, the site audit log, and the admin views of users and rooms.
//!
//! Two invariants live in the writes themselves: an invitation is never
//! used more than `max_uses` times (the increment's `WHERE`), and the site
//! always keeps an enabled administrator (the demotion's or disabling's
//! `WHERE`, run after the `admin_guard` row is updated so such changes
//! happen one after another on PostgreSQL too).

use sqlx::FromRow;

use crate::storage::Db;
use crate::with_db;

/// The setting that overrides `REGISTRATION_MODE`.
pub const REGISTRATION_MODE: &str = "registration_mode";

/// Uses one invitation (`$1` its token hash, `$2` now): no row changes when
/// it is unknown, revoked, expired or used up. Run in the transaction of
/// the account it admits (`auth::store::insert_user`).
pub const REDEEM_INVITE: &str = "UPDATE invitations SET uses = uses + 1 \
     WHERE token_hash = $1 AND revoked = FALSE AND expires_at > $2 AND uses < max_uses";

/// Serialises changes to who is an enabled administrator: updating this
/// row first makes a concurrent change wait for this one's commit, and a
/// statement run after it sees that commit.
pub(crate) const LOCK_ADMINS: &str =
    "UPDATE site_settings SET updated_at = updated_at WHERE name = 'admin_guard'";

/// Writes a site audit entry in the transaction `$tx`.
macro_rules! write_site_audit {
    ($tx:expr, $entry:expr) => {
        sqlx::query(
            "INSERT INTO site_audit (actor_id, action, target_user_id, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind($entry.actor_id)
        .bind($entry.action)
        .bind($entry.target_user_id)
        .bind(&$entry.detail)
        .bind($entry.at)
        .execute(&mut *$tx)
        .await?
    };
}
pub(crate) use write_site_audit;

/// A site audit entry to write with a change.
#[derive(Debug, Clone)]
pub struct SiteAudit {
    pub actor_id: Option<i64>,
    pub action: &'static str,
    pub target_user_id: Option<i64>,
    pub detail: String,
    pub at: i64,
}

impl SiteAudit {
    pub fn new(actor_id: Option<i64>, action: &'static str, at: i64) -> Self {
        Self {
            actor_id,
            action,
            target_user_id: None,
            detail: String::new(),
            at,
        }
    }

    pub fn target(mut self, user_id: i64) -> Self {
        self.target_user_id = Some(user_id);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// A stored setting's value, if one is stored.
pub async fn setting(db: &Db, name: &str) -> Result<Option<String>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT value FROM site_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await
    })
}

/// Stores a setting (`None`: removes it, so the default holds again).
pub async fn set_setting(
    db: &Db,
    name: &str,
    value: Option<&str>,
    audit: SiteAudit,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        match value {
            Some(value) => {
                sqlx::query(
                    "INSERT INTO site_settings (name, value, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value, \
                     updated_at = excluded.updated_at",
                )
                .bind(name)
                .bind(value)
                .bind(audit.at)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM site_settings WHERE name = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        write_site_audit!(tx, audit);
        tx.commit().await?;
        Ok(())
    })
}

/// An account as the Admin page lists it.
#[derive(Debug, Clone, FromRow)]
pub struct AdminUserRow {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: i64,
}

/// Accounts whose name contains `pattern` (a lower-cased, escaped LIKE
/// pattern), by id after `after`.
pub async fn users_page(
    db: &Db,
    pattern: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<AdminUserRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, AdminUserRow>(
            "SELECT id, username, is_admin, disabled, created_at FROM users \
             WHERE id > $1 AND username_key LIKE $2 ESCAPE '\\' ORDER BY id LIMIT $3",
        )
        .bind(after)
        .bind(pattern)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// One account as the Admin page shows it.
pub async fn admin_user(db: &Db, id: i64) -> Result<Option<AdminUserRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, AdminUserRow>(
            "SELECT id, username, is_admin, disabled, created_at FROM users WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
    })
}

/// Grants (`true`) or removes site administration. Removing it is refused
/// by the update itself when no other enabled administrator would remain.
/// Returns whether the account changed.
pub async fn set_admin(
    db: &Db,
    user_id: i64,
    is_admin: bool,
    audit: SiteAudit,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(LOCK_ADMINS).execute(&mut *tx).await?;
        let changed = if is_admin {
            sqlx::query("UPDATE users SET is_admin = TRUE WHERE id = $1 AND is_admin = FALSE")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        } else {
            sqlx::query(
                "UPDATE users SET is_admin = FALSE WHERE id = $1 AND is_admin = TRUE \
                 AND EXISTS (SELECT 1 FROM users other WHERE other.id <> $1 \
                             AND other.is_admin = TRUE AND other.disabled = FALSE)",
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
        };
        if changed > 0 {
            write_site_audit!(tx, audit);
        }
        tx.commit().await?;
        Ok(changed > 0)
    })
}

/// Disables an account, ending its sessions in the same transaction, or
/// enables it. Disabling is refused by the update itself when it would
/// leave no enabled administrator. Returns whether the account changed.
pub async fn set_disabled(
    db: &Db,
    user_id: i64,
    disabled: bool,
    audit: SiteAudit,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(LOCK_ADMINS).execute(&mut *tx).await?;
        let changed = if disabled {
            let changed = sqlx::query(
                "UPDATE users SET disabled = TRUE WHERE id = $1 AND disabled = FALSE \
                 AND (is_admin = FALSE OR EXISTS (SELECT 1 FROM users other WHERE other.id <> $1 \
                      AND other.is_admin = TRUE AND other.disabled = FALSE))",
            )
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed > 0 {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
            }
            changed
        } else {
            sqlx::query("UPDATE users SET disabled = FALSE WHERE id = $1 AND disabled = TRUE")
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        };
        if changed > 0 {
            write_site_audit!(tx, audit);
        }
        tx.commit().await?;
        Ok(changed > 0)
    })
}

/// Stores a password-reset link for `user_id`, replacing any earlier one
/// (only the newest link works).
pub async fn create_reset(
    db: &Db,
    user_id: i64,
    token_hash: &[u8],
    expires_at: i64,
    audit: SiteAudit,
) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM password_resets WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(audit.actor_id)
        .bind(audit.at)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        write_site_audit!(tx, audit);
        tx.commit().await?;
        Ok(())
    })
}

/// The account a live reset link is for, and its name (to check the new
/// password against), without using the link.
pub async fn reset_user(
    db: &Db,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as(
            "SELECT u.id, u.username FROM password_resets r JOIN users u ON u.id = r.user_id \
             WHERE r.token_hash = $1 AND r.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(pool)
        .await
    })
}

/// Uses a reset link: deletes it and, only if it was live, sets the
/// password and ends every session of its account, in one transaction.
/// Returns the account, or `None` for an unknown, used or expired link.
pub async fn redeem_reset(
    db: &Db,
    token_hash: &[u8],
    password_hash: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let user: Option<i64> = sqlx::query_scalar(
            "DELETE FROM password_resets WHERE token_hash = $1 AND expires_at > $2 \
             RETURNING user_id",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(user_id) = user {
            sqlx::query(
                "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
            )
            .bind(password_hash)
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(user)
    })
}

/// An invitation link as stored (its token only as a hash).
#[derive(Debug, Clone, FromRow)]
pub struct InviteRow {
    pub id: i64,
    pub creator_username: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: i64,
    pub uses: i64,
    pub revoked: bool,
}

/// Stores a new invitation; returns its id.
pub async fn create_invite(
    db: &Db,
    token_hash: &[u8],
    expires_at: i64,
    max_uses: i64,
    audit: SiteAudit,
) -> Result<i64, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO invitations (token_hash, created_by, created_at, expires_at, max_uses) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(token_hash)
        .bind(audit.actor_id)
        .bind(audit.at)
        .bind(expires_at)
        .bind(max_uses)
        .fetch_one(&mut *tx)
        .await?;
        let audit = audit.detail(format!("invitation {id}"));
        write_site_audit!(tx, audit);
        tx.commit().await?;
        Ok(id)
    })
}

/// Invitations, newest first, before id `before`.
pub async fn invites_page(db: &Db, before: i64, limit: i64) -> Result<Vec<InviteRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, InviteRow>(
            "SELECT i.id, u.username AS creator_username, i.created_at, \
               i.expires_at, i.max_uses, i.uses, i.revoked \
             FROM invitations i LEFT JOIN users u ON u.id = i.created_by \
             WHERE i.id < $1 ORDER BY i.id DESC LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Revokes an invitation; returns whether it exists.
pub async fn revoke_invite(db: &Db, id: i64, audit: SiteAudit) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let found = sqlx::query("UPDATE invitations SET revoked = TRUE WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        if found {
            write_site_audit!(tx, audit);
        }
        tx.commit().await?;
        Ok(found)
    })
}

/// A room as the Admin page lists it: its owner and size.
#[derive(Debug, Clone, FromRow)]
pub struct AdminRoomRow {
    pub id: i64,
    pub name: String,
    pub is_private: bool,
    pub created_at: i64,
    pub owner_id: Option<i64>,
    pub owner_username: Option<String>,
    pub members: i64,
}

/// Rooms (not DMs) by id after `after`.
pub async fn rooms_page(db: &Db, after: i64, limit: i64) -> Result<Vec<AdminRoomRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, AdminRoomRow>(
            "SELECT r.id, r.name, r.is_private, r.created_at, o.user_id AS owner_id, \
               u.username AS owner_username, \
               (SELECT COUNT(*) FROM room_members m WHERE m.room_id = r.id) AS members \
             FROM rooms r \
             LEFT JOIN room_members o ON o.room_id = r.id AND o.role = 'owner' \
             LEFT JOIN users u ON u.id = o.user_id \
             WHERE r.kind = 'room' AND r.id > $1 ORDER BY r.id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// An entry of the audit log across rooms, or of site administration
/// (`room_id` and `room_name` null).
#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub room_id: Option<i64>,
    pub room_name: Option<String>,
    pub actor_id: Option<i64>,
    pub actor_username: Option<String>,
    pub action: String,
    pub target_user_id: Option<i64>,
    pub target_username: Option<String>,
    pub detail: String,
    pub created_at: i64,
}

/// Every room's audit entries, newest first, before id `before`.
pub async fn room_audit_page(
    db: &Db,
    before: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, AuditRow>(
            "SELECT a.id, a.room_id, r.name AS room_name, a.actor_id, \
               ua.username AS actor_username, a.action, a.target_user_id, \
               ut.username AS target_username, a.detail, a.created_at \
             FROM room_audit a \
             LEFT JOIN rooms r ON r.id = a.room_id \
             LEFT JOIN users ua ON ua.id = a.actor_id \
             LEFT JOIN users ut ON ut.id = a.target_user_id \
             WHERE a.id < $1 ORDER BY a.id DESC LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Site administration entries, newest first, before id `before`.
pub async fn site_audit_page(
    db: &Db,
    before: i64,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, AuditRow>(
            "SELECT a.id, CAST(NULL AS BIGINT) AS room_id, CAST(NULL AS TEXT) AS room_name, \
               a.actor_id, ua.username AS actor_username, a.action, a.target_user_id, \
               ut.username AS target_username, a.detail, a.created_at \
             FROM site_audit a \
             LEFT JOIN users ua ON ua.id = a.actor_id \
             LEFT JOIN users ut ON ut.id = a.target_user_id \
             WHERE a.id < $1 ORDER BY a.id DESC LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Records a site administration entry on its own (for changes whose
/// transaction belongs to another module, such as deleting a room).
pub async fn record(db: &Db, audit: SiteAudit) -> Result<(), sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        write_site_audit!(tx, audit);
        tx.commit().await?;
        Ok(())
    })
}

/// Counts for the status section: accounts, disabled accounts, rooms.
#[derive(Debug, Clone, FromRow)]
pub struct Counts {
    pub users: i64,
    pub disabled_users: i64,
    pub admins: i64,
    pub rooms: i64,
}

pub async fn counts(db: &Db) -> Result<Counts, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, Counts>(
            "SELECT (SELECT COUNT(*) FROM users) AS users, \
               (SELECT COUNT(*) FROM users WHERE disabled = TRUE) AS disabled_users, \
               (SELECT COUNT(*) FROM users WHERE is_admin = TRUE AND disabled = FALSE) AS admins, \
               (SELECT COUNT(*) FROM rooms WHERE kind = 'room') AS rooms",
        )
        .fetch_one(pool)
        .await
    })
}
