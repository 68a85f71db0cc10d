//! The SQL of "Delete my account": one transaction turns the account into
//! a tombstone and forgets everything that was only the person's.
//!
//! The row itself stays, so that the messages they sent, the membership
//! logs that name them and their DMs still point at an account: it is
//! renamed `deleted-<id>` (a prefix registration refuses, so clients show
//! every such name as "deleted user"), disabled, stripped of its
//! administrator flag and given a password hash nobody knows. Its public
//! key history stays too: clients still verify what the person signed
//! before. Their current keys, devices, backups and key shares go, so
//! nobody encrypts to them again.
//!
//! Two invariants live in the `UPDATE` itself: an account that owns a room
//! is not deleted (its owner transfers or deletes the room first), and
//! the site keeps an enabled administrator.

use crate::admin::store::{LOCK_ADMINS, SiteAudit, write_site_audit};
use crate::storage::Db;
use crate::with_db;

/// Tables holding rows that were only the person's, by their user column.
const PERSONAL: &[(&str, &str)] = &[
    ("sessions", "user_id"),
    ("profiles", "user_id"),
    ("totp_credentials", "user_id"),
    ("passkeys", "user_id"),
    ("webauthn_challenges", "user_id"),
    ("oidc_identities", "user_id"),
    ("email_addresses", "user_id"),
    ("email_pending", "user_id"),
    ("push_subscriptions", "user_id"),
    ("push_settings", "user_id"),
    ("channel_notifications", "user_id"),
    ("push_queue", "user_id"),
    ("push_budget", "user_id"),
    ("saved_messages", "user_id"),
    ("thread_follows", "user_id"),
    ("read_markers", "user_id"),
    ("reactions", "user_id"),
    ("user_keys", "user_id"),
    ("key_backups", "user_id"),
    ("device_lists", "user_id"),
    ("device_prekeys", "user_id"),
    ("device_links", "user_id"),
    ("device_shares", "recipient_id"),
    ("channel_keys", "recipient_id"),
    ("key_requests", "requester_id"),
    ("password_resets", "user_id"),
    ("webhooks", "creator_id"),
    ("outgoing_webhooks", "creator_id"),
    ("slash_commands", "creator_id"),
];

/// What the deletion's transaction did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Deleted: the uploads to purge now (id, blob key) and the avatar
    /// renditions' blob keys.
    Deleted {
        files: Vec<(i64, String)>,
        avatars: Vec<String>,
    },
    /// Refused: the account owns these rooms.
    OwnsRooms(Vec<String>),
    /// Refused: the last enabled site administrator.
    LastAdmin,
    /// Nothing to delete (gone already).
    Gone,
}

/// Deletes `user_id`'s account as the module describes, with its site
/// audit entry, or says why not. `unusable_hash` is the hash of a password
/// nobody knows.
pub async fn delete(
    db: &Db,
    user_id: i64,
    unusable_hash: &str,
    audit: SiteAudit,
) -> Result<Outcome, sqlx::Error> {
    let name = format!("deleted-{user_id}");
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(LOCK_ADMINS).execute(&mut *tx).await?;
        let changed = sqlx::query(
            "UPDATE users SET deleted_at = $2, disabled = TRUE, is_admin = FALSE, \
               username = $3, username_key = $3, username_skeleton = NULL, password_hash = $4 \
             WHERE id = $1 AND deleted_at IS NULL \
               AND NOT EXISTS (SELECT 1 FROM room_members m WHERE m.user_id = $1 AND m.role = 'owner') \
               AND (is_admin = FALSE OR EXISTS (SELECT 1 FROM users other WHERE other.id <> $1 \
                    AND other.is_admin = TRUE AND other.disabled = FALSE))",
        )
        .bind(user_id)
        .bind(audit.at)
        .bind(&name)
        .bind(unusable_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            let owned = sqlx::query_scalar::<_, String>(
                "SELECT r.name FROM rooms r JOIN room_members m ON m.room_id = r.id \
                 WHERE m.user_id = $1 AND m.role = 'owner' ORDER BY r.name_key, r.id",
            )
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?;
            let live = sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM users WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(user_id)
            .fetch_one(&mut *tx)
            .await?;
            tx.rollback().await?;
            return Ok(if live == 0 {
                Outcome::Gone
            } else if !owned.is_empty() {
                Outcome::OwnsRooms(owned)
            } else {
                Outcome::LastAdmin
            });
        }
        let files = sqlx::query_as::<_, (i64, String)>(
            "UPDATE files SET deleted_at = $2 WHERE uploader_id = $1 AND deleted_at IS NULL \
             RETURNING id, storage_key",
        )
        .bind(user_id)
        .bind(audit.at)
        .fetch_all(&mut *tx)
        .await?;
        let avatars = sqlx::query_as::<_, (Option<String>, Option<String>)>(
            "SELECT avatar_key, avatar_small_key FROM profiles WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
        let avatars = avatars
            .map(|(large, small)| large.into_iter().chain(small).collect())
            .unwrap_or_default();
        for (table, column) in PERSONAL {
            let sql = format!("DELETE FROM {table} WHERE {column} = $1");
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        write_site_audit!(tx, audit);
        tx.commit().await?;
        Ok(Outcome::Deleted { files, avatars })
    })
}
