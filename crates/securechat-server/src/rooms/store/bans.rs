//! Bans: a ban removes the membership and records itself in one
//! transaction; the owner is never banned.

use super::*; // the shared rows, macros and imports of `store`

/// Whether a user is banned from a room.
pub async fn is_banned(db: &Db, room_id: i64, user_id: i64) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT user_id FROM room_bans WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(found.is_some())
}

/// Bans a user: removes their membership and records the ban. The owner
/// is never banned ([`Removal::Owner`], nothing changes); otherwise the ban
/// is recorded whether or not they were a member, and a removal starts the
/// rotations it needs.
pub async fn ban(
    db: &Db,
    room_id: i64,
    user_id: i64,
    reason: &str,
    audit: Audit,
) -> Result<Removal, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let kept = delete_member!(tx, room_id, user_id, Removable::NotTheOwner);
        if matches!(kept, Some(Removal::Owner)) {
            return Ok(Removal::Owner);
        }
        sqlx::query(
            "INSERT INTO room_bans (room_id, user_id, banned_by, reason, created_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (room_id, user_id) DO UPDATE SET reason = excluded.reason",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(audit.actor_id)
        .bind(reason)
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        write_audit!(tx, audit);
        let outcome = match kept {
            None => Removal::Removed(keys::begin_rotations(&mut *tx, room_id).await?),
            Some(other) => other,
        };
        tx.commit().await?;
        Ok(outcome)
    })
}

/// Lifts a ban. Returns whether there was one.
pub async fn unban(db: &Db, room_id: i64, user_id: i64, audit: Audit) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        let removed = sqlx::query("DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed > 0 {
            write_audit!(tx, audit);
        }
        tx.commit().await?;
        Ok(removed > 0)
    })
}

/// Bans of a room, newest first.
pub async fn bans(db: &Db, room_id: i64) -> Result<Vec<BanRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, BanRow>(
            "SELECT b.user_id, u.username, b.banned_by, b.reason, b.created_at \
             FROM room_bans b JOIN users u ON u.id = b.user_id WHERE b.room_id = $1 \
             ORDER BY b.created_at DESC",
        )
        .bind(room_id)
        .fetch_all(pool)
        .await
    })
}
