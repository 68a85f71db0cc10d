//! Membership changes, shared by the plain endpoints (rooms without a
//! membership log, as in the seed) and the signed-entry endpoint (rooms with
//! one). Each function checks the server's rules, writes the change with its
//! audit entry (and log entry, if any, and the key rotations a change of
//! members needs) in one transaction, and publishes the room event after
//! the commit.
//!
//! The rules beyond the permission table: nobody removes the owner (the
//! owner transfers first); an admin cannot remove or ban another admin;
//! only the owner changes roles, and "owner" is given only by transfer.
//! "One owner" is enforced in the writes themselves (a removal never
//! deletes the owner's row, a transfer applies only while the old owner
//! still is one and the new one still a member), so concurrent changes
//! cannot leave a room without an owner or with two.

use crate::auth::store::UserRow;
use crate::error::{Error, ResultExt};
use crate::rooms::access::RoomAccess;
use crate::rooms::events::{Departure, RoomEvent};
use crate::rooms::log::{self, LogAppend};
use crate::rooms::model::{Action, Role};
use crate::rooms::store::{self, Audit, Current, Removable, Removal};
use crate::rooms::view::MemberView;
use crate::state::AppState;
use crate::storage::now_ms;

/// Refuses a plain change in a room whose membership is signed.
pub async fn require_unlogged(state: &AppState, room_id: i64) -> Result<(), Error> {
    if log::is_logged(&state.db, room_id).await? {
        return Err(Error::conflict(
            "signed_entry_required",
            "This room's membership is signed: submit the change as a signed entry \
             to POST /api/rooms/{id}/membership_log",
        ));
    }
    Ok(())
}

/// Maps a failed write: a second append of the same log seq is a conflict.
fn write_error(e: sqlx::Error) -> Error {
    if log::is_seq_conflict(&e) {
        log::conflict()
    } else {
        e.into()
    }
}

pub fn not_member() -> Error {
    Error::not_found("member_not_found", "That user is not a member of this room")
}

fn cannot_remove_owner() -> Error {
    Error::forbidden(
        "cannot_remove_owner",
        "The owner cannot be removed; ownership must be transferred first",
    )
}

/// A role change that no longer applied when it was written: the member
/// left or was removed, or ownership moved, since the request was checked.
fn changed_meanwhile() -> Error {
    Error::conflict(
        "membership_changed",
        "The room's members or roles changed meanwhile; reload and try again",
    )
}

/// Adds `target` with `role` (admins add members; the owner may add admins).
pub async fn add(
    state: &AppState,
    access: &RoomAccess,
    target: UserRow,
    role: Role,
    entry: Option<LogAppend>,
) -> Result<MemberView, Error> {
    access.require_grant(role)?;
    let room_id = access.room.id;
    // A bot joins only rooms its tokens reach: its membership never
    // outgrows its scope.
    let (is_bot, reached) = crate::bots::store::bot_reach(&state.db, target.id, room_id).await?;
    if is_bot && !reached {
        return Err(Error::forbidden(
            "bot_out_of_scope",
            "That bot's token does not reach this room; create a bot for it instead",
        ));
    }
    if store::is_banned(&state.db, room_id, target.id).await? {
        return Err(Error::conflict(
            "user_banned",
            "That user is banned from this room; unban them first",
        ));
    }
    let now = now_ms();
    let audit = Audit::new(room_id, access.user_id, "member_added", now)
        .target(target.id)
        .log(entry);
    let rotations = match store::add_member(&state.db, room_id, target.id, role, audit).await {
        Err(e) if log::is_seq_conflict(&e) => return Err(log::conflict()),
        other => other.on_unique_violation(|| {
            Error::conflict("already_member", "That user is already a member")
        })?,
    };
    state.events.publish(RoomEvent::MemberJoined {
        room_id,
        user_id: target.id,
        role,
        rotations,
    });
    Ok(MemberView {
        user_id: target.id,
        is_bot,
        username: target.username,
        role,
        joined_at: crate::storage::rfc3339(now),
        profile: None,
    })
}

/// Checks that the actor (with `actor_role`) may remove `target_id`.
async fn check_removal(
    state: &AppState,
    access: &RoomAccess,
    actor_role: Role,
    target_id: i64,
) -> Result<Option<Role>, Error> {
    if target_id == access.user_id {
        return Err(Error::bad_request(
            "cannot_target_self",
            "To leave the room, use POST /api/rooms/{id}/leave",
        ));
    }
    let target_role = store::role_of(&state.db, access.room.id, target_id).await?;
    match target_role {
        Some(Role::Owner) => Err(cannot_remove_owner()),
        Some(Role::Admin) if actor_role != Role::Owner => Err(Error::forbidden(
            "cannot_remove_admin",
            "Only the owner can remove an admin",
        )),
        other => Ok(other),
    }
}

/// Kicks a member out (admins; admins only by the owner).
pub async fn kick(
    state: &AppState,
    access: &RoomAccess,
    target_id: i64,
    entry: Option<LogAppend>,
) -> Result<(), Error> {
    let role = access.require(Action::ManageMembers)?;
    access.require_not_dm()?;
    if check_removal(state, access, role, target_id)
        .await?
        .is_none()
    {
        return Err(not_member());
    }
    let room_id = access.room.id;
    let audit = Audit::new(room_id, access.user_id, "member_kicked", now_ms())
        .target(target_id)
        .log(entry);
    match store::remove_member(&state.db, room_id, target_id, Removable::NotTheOwner, audit)
        .await
        .map_err(write_error)?
    {
        Removal::Removed(rotations) => {
            state.events.publish(RoomEvent::MemberLeft {
                room_id,
                user_id: target_id,
                how: Departure::Kicked,
                rotations,
            });
            Ok(())
        }
        Removal::NotMember => Err(not_member()),
        Removal::Owner => Err(cannot_remove_owner()),
    }
}

/// Bans `target` with `reason`: removes them and keeps them out.
pub async fn ban(
    state: &AppState,
    access: &RoomAccess,
    target: &UserRow,
    reason: &str,
    entry: Option<LogAppend>,
) -> Result<(), Error> {
    let role = access.require(Action::ManageMembers)?;
    access.require_not_dm()?;
    let reason = crate::rooms::validate::text("Reason", reason, 500)?;
    let is_member = check_removal(state, access, role, target.id)
        .await?
        .is_some();
    if entry.is_some() && !is_member {
        return Err(not_member());
    }
    let room_id = access.room.id;
    let audit = Audit::new(room_id, access.user_id, "member_banned", now_ms())
        .target(target.id)
        .detail(&reason)
        .log(entry);
    match store::ban(&state.db, room_id, target.id, &reason, audit)
        .await
        .map_err(write_error)?
    {
        Removal::Removed(rotations) => {
            state.events.publish(RoomEvent::MemberLeft {
                room_id,
                user_id: target.id,
                how: Departure::Banned,
                rotations,
            });
            Ok(())
        }
        Removal::NotMember => Ok(()),
        Removal::Owner => Err(cannot_remove_owner()),
    }
}

/// Promotes a member to admin or demotes an admin (owner).
pub async fn set_role(
    state: &AppState,
    access: &RoomAccess,
    target_id: i64,
    role: Role,
    entry: Option<LogAppend>,
) -> Result<MemberView, Error> {
    access.require(Action::ChangeRoles)?;
    if role == Role::Owner {
        return Err(Error::unprocessable(
            "use_transfer",
            "Ownership is handed over with POST /api/rooms/{id}/transfer",
        ));
    }
    if target_id == access.user_id {
        return Err(Error::unprocessable(
            "use_transfer",
            "The owner keeps the owner role until transferring it",
        ));
    }
    let room_id = access.room.id;
    let target = store::members(&state.db, room_id)
        .await?
        .into_iter()
        .find(|m| m.user_id == target_id)
        .ok_or_else(not_member)?;
    let audit = Audit::new(room_id, access.user_id, "role_changed", now_ms())
        .target(target_id)
        .detail(format!("{} -> {}", target.role, role.as_str()))
        .log(entry);
    let applied = store::set_roles(
        &state.db,
        room_id,
        &[(target_id, role, Current::NotOwner)],
        audit,
    )
    .await
    .map_err(write_error)?;
    if !applied {
        return Err(changed_meanwhile());
    }
    state.events.publish(RoomEvent::RoleChanged {
        room_id,
        user_id: target_id,
        role,
    });
    let mut member = MemberView::from(&target);
    member.role = role;
    Ok(member)
}

/// Hands ownership to another member; the old owner becomes an admin.
pub async fn transfer(
    state: &AppState,
    access: &RoomAccess,
    target_id: i64,
    entry: Option<LogAppend>,
) -> Result<(), Error> {
    access.require(Action::TransferOwnership)?;
    if target_id == access.user_id {
        return Err(Error::bad_request(
            "cannot_target_self",
            "You are already the owner",
        ));
    }
    let room_id = access.room.id;
    if store::role_of(&state.db, room_id, target_id)
        .await?
        .is_none()
    {
        return Err(not_member());
    }
    let audit = Audit::new(room_id, access.user_id, "ownership_transferred", now_ms())
        .target(target_id)
        .log(entry);
    // The old owner must still be the owner and the new one still a member
    // when this is written: a kick or leave of the target, or another
    // transfer, that commits first makes this one change nothing.
    let applied = store::set_roles(
        &state.db,
        room_id,
        &[
            (access.user_id, Role::Admin, Current::Is(Role::Owner)),
            (target_id, Role::Owner, Current::NotOwner),
        ],
        audit,
    )
    .await
    .map_err(write_error)?;
    if !applied {
        return Err(changed_meanwhile());
    }
    for (user_id, role) in [(target_id, Role::Owner), (access.user_id, Role::Admin)] {
        state.events.publish(RoomEvent::RoleChanged {
            room_id,
            user_id,
            role,
        });
    }
    Ok(())
}

/// Joins a public room. Already being a member is a success (`false`).
pub async fn join(
    state: &AppState,
    access: &RoomAccess,
    entry: Option<LogAppend>,
) -> Result<bool, Error> {
    if access.role.is_some() {
        return Ok(false);
    }
    if access.room.is_private {
        return Err(Error::forbidden(
            "invite_only",
            "This room is private; ask one of its admins to add you",
        ));
    }
    let room_id = access.room.id;
    if store::is_banned(&state.db, room_id, access.user_id).await? {
        return Err(Error::forbidden("banned", "You are banned from this room"));
    }
    let audit = Audit::new(room_id, access.user_id, "member_joined", now_ms())
        .target(access.user_id)
        .log(entry);
    // A concurrent join of the same user is a unique violation: fine.
    match store::add_member(&state.db, room_id, access.user_id, Role::Member, audit).await {
        Ok(rotations) => {
            state.events.publish(RoomEvent::MemberJoined {
                room_id,
                user_id: access.user_id,
                role: Role::Member,
                rotations,
            });
            Ok(true)
        }
        Err(e) if log::is_seq_conflict(&e) => Err(log::conflict()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// Leaves a room. The owner must transfer ownership first.
pub async fn leave(
    state: &AppState,
    access: &RoomAccess,
    entry: Option<LogAppend>,
) -> Result<(), Error> {
    let role = access.require(Action::Leave)?;
    access.require_not_dm()?;
    if role == Role::Owner {
        return Err(Error::conflict(
            "owner_must_transfer",
            "The owner cannot leave; transfer ownership to another member first",
        ));
    }
    let room_id = access.room.id;
    let audit = Audit::new(room_id, access.user_id, "member_left", now_ms())
        .target(access.user_id)
        .log(entry);
    match store::remove_member(
        &state.db,
        room_id,
        access.user_id,
        Removable::NotTheOwner,
        audit,
    )
    .await
    .map_err(write_error)?
    {
        Removal::Removed(rotations) => {
            state.events.publish(RoomEvent::MemberLeft {
                room_id,
                user_id: access.user_id,
                how: Departure::Left,
                rotations,
            });
            Ok(())
        }
        Removal::NotMember => Ok(()),
        // Ownership was handed to me meanwhile.
        Removal::Owner => Err(Error::conflict(
            "owner_must_transfer",
            "The owner cannot leave; transfer ownership to another member first",
        )),
    }
}

/// Removes a disabled account from every room with a membership log, on
/// the server's own authority: each removal is an unsigned `server_remove`
/// entry, which clients accept as a removal and never as a reason to share
/// a key. Encrypted channels of those rooms start a rotation in the
/// removal's transaction, done by the next member who sends (nothing is
/// announced: the command that disables is not the server serving
/// sockets). Rooms without a log keep the membership, as the seed. Returns
/// the number of rooms left.
pub async fn server_remove(db: &crate::storage::Db, user_id: i64) -> anyhow::Result<usize> {
    let rooms = log::logged_rooms_of(db, user_id).await?;
    for &room_id in &rooms {
        remove_by_server(db, room_id, user_id, "account disabled", Removable::Anyone).await?;
    }
    Ok(rooms.len())
}

/// Removes a deleted account from every room but its DMs (which keep it,
/// shown as a deleted user, so the other person keeps the conversation):
/// rooms with a membership log by a `server_remove` entry, the others by
/// a plain removal, each starting the key rotations it needs. The owner is
/// never removed (an account that owns a room is not deleted; one made
/// owner meanwhile stays). Publishes each departure.
pub async fn remove_deleted(state: &AppState, user_id: i64) -> anyhow::Result<usize> {
    let logged = log::logged_rooms_of(&state.db, user_id).await?;
    let rooms = store::rooms_of(&state.db, user_id).await?;
    let mut left = 0;
    for room in rooms.iter().filter(|r| r.room.kind != "dm") {
        let room_id = room.room.id;
        let removal = if logged.contains(&room_id) {
            remove_by_server(
                &state.db,
                room_id,
                user_id,
                "account deleted",
                Removable::NotTheOwner,
            )
            .await?
        } else {
            let mut audit = Audit::new(room_id, 0, "member_left", now_ms())
                .target(user_id)
                .detail("account deleted");
            audit.actor_id = None;
            store::remove_member(&state.db, room_id, user_id, Removable::NotTheOwner, audit).await?
        };
        if let Removal::Removed(rotations) = removal {
            left += 1;
            state.events.publish(RoomEvent::MemberLeft {
                room_id,
                user_id,
                how: Departure::Left,
                rotations,
            });
        }
    }
    Ok(left)
}

/// One removal on the server's authority from a room with a membership
/// log: an unsigned `server_remove` entry with its audit entry.
async fn remove_by_server(
    db: &crate::storage::Db,
    room_id: i64,
    user_id: i64,
    why: &str,
    who: Removable,
) -> anyhow::Result<Removal> {
    let Some(mut loaded) = log::load(db, room_id, &[]).await.map_err(|e| {
        anyhow::anyhow!("the membership log of room {room_id} could not be loaded: {e}")
    })?
    else {
        return Ok(Removal::NotMember);
    };
    let now = now_ms();
    let seconds = u64::try_from(now / 1000).unwrap_or(0);
    let entry = loaded.log.append_server_removal(user_id, seconds)?;
    let mut audit = Audit::new(room_id, 0, "member_removed_by_server", now)
        .target(user_id)
        .detail(why)
        .log(Some(LogAppend::new(&entry)));
    audit.actor_id = None;
    Ok(store::remove_member(db, room_id, user_id, who, audit).await?)
}
