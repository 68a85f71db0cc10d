//! Members: joining, leaving, removal, roles (one owner, always: the
//! conditions are in the writes), and who shares a room with whom.

use super::*; // the shared rows, macros and imports of `store`

/// A user's role in a room, if a member.
pub async fn role_of(db: &Db, room_id: i64, user_id: i64) -> Result<Option<Role>, sqlx::Error> {
    let role: Option<String> = with_db!(db, read, |pool| {
        sqlx::query_scalar("SELECT role FROM room_members WHERE room_id = $1 AND user_id = $2")
            .bind(room_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    Ok(role.as_deref().and_then(Role::parse))
}

/// The rooms `user_id` belongs to and the people they share one with.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Circle {
    /// Room ids, ascending.
    pub rooms: Vec<i64>,
    /// Everyone else in any of those rooms, ascending, each once.
    pub peers: Vec<i64>,
}

/// [`Circle`] of `user_id` in one query (what a new socket needs: the rooms
/// to join and whose presence to report). One row per room, its members as
/// one comma-separated text (`string_agg`, on both engines): a row per
/// member would cost a hand-over from sqlx's SQLite worker thread each.
pub async fn circle_of(db: &Db, user_id: i64) -> Result<Circle, sqlx::Error> {
    let rooms: Vec<(i64, String)> = with_db!(db, read, |pool| {
        sqlx::query_as(
            "SELECT a.room_id, string_agg(CAST(b.user_id AS TEXT), ',') FROM room_members a \
             JOIN room_members b ON b.room_id = a.room_id \
             WHERE a.user_id = $1 GROUP BY a.room_id ORDER BY a.room_id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })?;
    let mut circle = Circle::default();
    for (room_id, members) in rooms {
        circle.rooms.push(room_id);
        for member in members.split(',') {
            let member: i64 = member
                .parse()
                .map_err(|e| sqlx::Error::Decode(format!("member id {member:?}: {e}").into()))?;
            if member != user_id {
                circle.peers.push(member);
            }
        }
    }
    circle.peers.sort_unstable();
    circle.peers.dedup();
    Ok(circle)
}

/// Adds a member and starts the rotations it needs. Already being one is a
/// unique violation.
pub async fn add_member(
    db: &Db,
    room_id: i64,
    user_id: i64,
    role: Role,
    audit: Audit,
) -> Result<Vec<PendingRotation>, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO room_members (room_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(room_id)
        .bind(user_id)
        .bind(role.as_str())
        .bind(audit.at)
        .execute(&mut *tx)
        .await?;
        write_audit!(tx, audit);
        let rotations = keys::begin_rotations(&mut *tx, room_id).await?;
        tx.commit().await?;
        Ok(rotations)
    })
}

/// Whom a removal may take out of a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removable {
    /// Any member but the owner: kicks, bans and leaving. Checked in the
    /// `DELETE` itself, so an ownership transfer that commits first (the
    /// target just became the owner) makes the removal fail rather than
    /// leave the room without an owner.
    NotTheOwner,
    /// Anyone, the owner included: the server removing a disabled account
    /// (the one change that may leave a room ownerless).
    Anyone,
}

/// What a removal did.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    /// Removed; the rotations it started.
    Removed(Vec<PendingRotation>),
    /// They were not a member (nothing changed).
    NotMember,
    /// They are the owner, whom [`Removable::NotTheOwner`] keeps (nothing
    /// changed).
    Owner,
}

/// Removes a member and starts the rotations it needs, unless `who` keeps
/// them (nothing changes then).
pub async fn remove_member(
    db: &Db,
    room_id: i64,
    user_id: i64,
    who: Removable,
    audit: Audit,
) -> Result<Removal, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        if let Some(kept) = delete_member!(tx, room_id, user_id, who) {
            return Ok(kept);
        }
        write_audit!(tx, audit);
        let rotations = keys::begin_rotations(&mut *tx, room_id).await?;
        tx.commit().await?;
        Ok(Removal::Removed(rotations))
    })
}

/// What a role change must find before it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Current {
    /// The member holds this role now (the old owner of a transfer).
    Is(Role),
    /// The member is not the owner (anyone whose role the owner changes).
    NotOwner,
}

/// Changes members' roles in one transaction with its audit entry, each
/// only if the member is still there with the role `Current` says: one
/// change for a promotion or demotion; two for an ownership transfer.
/// Returns `false`, changing nothing, if any of them no longer applies (a
/// concurrent kick, leave or transfer came first). The members stay the
/// same, so no key rotates.
pub async fn set_roles(
    db: &Db,
    room_id: i64,
    roles: &[(i64, Role, Current)],
    audit: Audit,
) -> Result<bool, sqlx::Error> {
    with_db!(db, write, |pool| {
        let mut tx = pool.begin().await?;
        for (user, role, current) in roles {
            let (sql, expected) = match current {
                Current::Is(r) => (
                    "UPDATE room_members SET role = $1 \
                     WHERE room_id = $2 AND user_id = $3 AND role = $4",
                    r.as_str(),
                ),
                Current::NotOwner => (
                    "UPDATE room_members SET role = $1 \
                     WHERE room_id = $2 AND user_id = $3 AND role <> $4",
                    Role::Owner.as_str(),
                ),
            };
            let changed = sqlx::query(sql)
                .bind(role.as_str())
                .bind(room_id)
                .bind(user)
                .bind(expected)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Ok(false);
            }
        }
        write_audit!(tx, audit);
        tx.commit().await?;
        Ok(true)
    })
}

/// Members of a room, owner first, then admins, then by name.
pub async fn members(db: &Db, room_id: i64) -> Result<Vec<MemberRow>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_as::<_, MemberRow>(
            "SELECT m.user_id, u.username, u.is_bot, m.role, m.joined_at \
             FROM room_members m JOIN users u ON u.id = m.user_id WHERE m.room_id = $1 \
             ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.username_key",
        )
        .bind(room_id)
        .fetch_all(pool)
        .await
    })
}

/// Everyone who shares at least one room with `user_id` (not the user).
pub async fn co_members(db: &Db, user_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    with_db!(db, read, |pool| {
        sqlx::query_scalar(
            "SELECT DISTINCT b.user_id FROM room_members a \
             JOIN room_members b ON b.room_id = a.room_id \
             WHERE a.user_id = $1 AND b.user_id <> $1",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// Makes the account `$user_id`, inserted in the open transaction `$tx`, a
/// member of each of the site's default rooms (`$room_ids`, from
/// `DEFAULT_ROOMS`) in that same transaction, with each join's audit entry
/// and the rotations it starts: an account is never left half-joined. Only
/// public rooms without a membership log are joined (a log needs an entry
/// the member signs); the condition is part of the insert. Evaluates to the
/// rooms joined with their rotations, or returns the `sqlx::Error`.
#[macro_export]
macro_rules! join_default_rooms {
    ($tx:expr, $user_id:expr, $room_ids:expr, $at:expr) => {{
        let mut joined: Vec<(i64, Vec<$crate::keys::store::PendingRotation>)> = Vec::new();
        for &room_id in $room_ids {
            let added = sqlx::query(
                "INSERT INTO room_members (room_id, user_id, role, joined_at) \
                 SELECT r.id, $2, 'member', $3 FROM rooms r \
                 WHERE r.id = $1 AND r.kind = 'room' AND NOT r.is_private \
                 AND NOT EXISTS (SELECT 1 FROM membership_log l WHERE l.room_id = r.id)",
            )
            .bind(room_id)
            .bind($user_id)
            .bind($at)
            .execute(&mut *$tx)
            .await?
            .rows_affected();
            if added == 1 {
                sqlx::query(
                    "INSERT INTO room_audit (room_id, actor_id, action, target_user_id, detail, created_at) \
                     VALUES ($1, $2, 'member_joined', $2, 'default room', $3)",
                )
                .bind(room_id)
                .bind($user_id)
                .bind($at)
                .execute(&mut *$tx)
                .await?;
                sqlx::query($crate::timeline::store::INSERT)
                    .bind(room_id)
                    .bind(None::<i64>)
                    .bind($crate::timeline::store::Kind::Joined.as_str())
                    .bind($user_id)
                    .bind($user_id)
                    .bind("")
                    .bind($at)
                    .execute(&mut *$tx)
                    .await?;
                let rotations = $crate::keys::store::begin_rotations(&mut *$tx, room_id).await?;
                joined.push((room_id, rotations));
            }
        }
        joined
    }};
}

/// The ids of the rooms `DEFAULT_ROOMS` names, for [`join_default_rooms!`]:
/// each name is looked up as a public room; a name that is no public room
/// is left out with a warning (once, at start-up).
pub async fn default_rooms(db: &Db, names: &[String]) -> Result<Vec<i64>, sqlx::Error> {
    let mut ids = Vec::new();
    for name in names {
        match super::room_named(db, name).await? {
            Some(room) if !room.is_private => ids.push(room.id),
            Some(_) => tracing::warn!(
                room = %name,
                "DEFAULT_ROOMS names a private room; new accounts do not join it"
            ),
            None => tracing::warn!(
                room = %name,
                "DEFAULT_ROOMS names no existing room; ignored"
            ),
        }
    }
    ids.dedup();
    Ok(ids)
}
