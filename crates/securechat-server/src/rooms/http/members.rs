//! Members: list, add, kick, change role, ban, unban, transfer ownership.
//!
//! The rules beyond the permission table: nobody removes the owner (the
//! owner transfers first); an admin cannot remove or ban another admin;
//! only the owner changes roles, and "owner" is given only by transfer.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{AuthUser, store as users};
use crate::http::{ApiJson, ApiPath, Error, ErrorBody, ResultExt, Success};
use crate::rooms::access::RoomAccess;
use crate::rooms::events::{Departure, RoomEvent};
use crate::rooms::model::{Action, Role};
use crate::rooms::store::{self, Audit};
use crate::rooms::view::{BanView, MemberView};
use crate::state::AppState;
use crate::storage::now_ms;

#[derive(Serialize, ToSchema)]
pub struct MemberList {
    pub success: bool,
    pub members: Vec<MemberView>,
    /// Present for those who manage members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bans: Option<Vec<BanView>>,
}

/// The members of a room, with roles (and bans, for admins).
#[utoipa::path(get, path = "/api/rooms/{id}/members", tag = "members",
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = MemberList), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<MemberList>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    let members = store::members(&state.db, id).await?;
    let bans = if access.require(Action::ManageMembers).is_ok() {
        Some(
            store::bans(&state.db, id)
                .await?
                .iter()
                .map(BanView::from)
                .collect(),
        )
    } else {
        None
    };
    Ok(axum::Json(MemberList {
        success: true,
        members: members.iter().map(MemberView::from).collect(),
        bans,
    }))
}

/// Someone to act on: by id or by username.
#[derive(Deserialize, ToSchema)]
pub struct Target {
    pub user_id: Option<i64>,
    pub username: Option<String>,
    /// For bans: why (shown to admins).
    #[serde(default)]
    pub reason: String,
}

/// Finds the enabled user named by `target`; 404 otherwise.
async fn resolve(state: &AppState, target: &Target) -> Result<users::UserRow, Error> {
    let row = match (target.user_id, &target.username) {
        (Some(id), _) => users::user_by_id(&state.db, id).await?,
        (None, Some(name)) if name.len() <= 64 => {
            users::user_by_key(&state.db, &crate::auth::validate::username_key(name)).await?
        }
        (None, Some(_)) => None,
        (None, None) => {
            return Err(Error::unprocessable(
                "missing_user",
                "Name the user with user_id or username",
            ));
        }
    };
    row.filter(|u| !u.disabled)
        .ok_or_else(|| Error::not_found("user_not_found", "No such user"))
}

#[derive(Serialize, ToSchema)]
pub struct MemberResponse {
    pub success: bool,
    pub member: MemberView,
}

/// Adds (invites) a user to the room as a member (admins).
#[utoipa::path(post, path = "/api/rooms/{id}/members", tag = "members", request_body = Target,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 201, body = MemberResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Already a member, or banned")))]
pub async fn add(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Target>,
) -> Result<(StatusCode, axum::Json<MemberResponse>), Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::ManageMembers)?;
    access.require_not_dm()?;
    let target = resolve(&state, &body).await?;
    if store::is_banned(&state.db, id, target.id).await? {
        return Err(Error::conflict(
            "user_banned",
            "That user is banned from this room; unban them first",
        ));
    }
    let now = now_ms();
    let audit = Audit::new(id, user.id, "member_added", now).target(target.id);
    store::add_member(&state.db, id, target.id, Role::Member, audit)
        .await
        .on_unique_violation(|| {
            Error::conflict("already_member", "That user is already a member")
        })?;
    state.events.publish(RoomEvent::MemberJoined {
        room_id: id,
        user_id: target.id,
        role: Role::Member,
    });
    Ok((
        StatusCode::CREATED,
        axum::Json(MemberResponse {
            success: true,
            member: MemberView {
                user_id: target.id,
                username: target.username,
                role: Role::Member,
                joined_at: crate::storage::rfc3339(now),
            },
        }),
    ))
}

/// Checks that `actor` (with `actor_role`) may remove `target` from the room.
async fn check_removal(
    state: &AppState,
    room_id: i64,
    actor: &AuthUser,
    actor_role: Role,
    target_id: i64,
) -> Result<Option<Role>, Error> {
    if target_id == actor.id {
        return Err(Error::bad_request(
            "cannot_target_self",
            "To leave the room, use POST /api/rooms/{id}/leave",
        ));
    }
    let target_role = store::role_of(&state.db, room_id, target_id).await?;
    match target_role {
        Some(Role::Owner) => Err(Error::forbidden(
            "cannot_remove_owner",
            "The owner cannot be removed; ownership must be transferred first",
        )),
        Some(Role::Admin) if actor_role != Role::Owner => Err(Error::forbidden(
            "cannot_remove_admin",
            "Only the owner can remove an admin",
        )),
        other => Ok(other),
    }
}

/// Kicks a member out of the room (admins; admins only by the owner).
#[utoipa::path(delete, path = "/api/rooms/{id}/members/{user_id}", tag = "members",
    params(("id" = i64, Path, description = "Room id"), ("user_id" = i64, Path, description = "Member")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn kick(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, target_id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Success>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    let role = access.require(Action::ManageMembers)?;
    access.require_not_dm()?;
    if check_removal(&state, id, &user, role, target_id)
        .await?
        .is_none()
    {
        return Err(not_member());
    }
    let audit = Audit::new(id, user.id, "member_kicked", now_ms()).target(target_id);
    if store::remove_member(&state.db, id, target_id, audit).await? {
        state.events.publish(RoomEvent::MemberLeft {
            room_id: id,
            user_id: target_id,
            how: Departure::Kicked,
        });
    }
    Ok(axum::Json(Success::new()))
}

fn not_member() -> Error {
    Error::not_found("member_not_found", "That user is not a member of this room")
}

#[derive(Deserialize, ToSchema)]
pub struct RoleChange {
    /// `admin` or `member`. Ownership moves with `/transfer`.
    pub role: Role,
}

/// Promotes a member to admin or demotes an admin (owner).
#[utoipa::path(put, path = "/api/rooms/{id}/members/{user_id}/role", tag = "members",
    request_body = RoleChange,
    params(("id" = i64, Path, description = "Room id"), ("user_id" = i64, Path, description = "Member")),
    responses((status = 200, body = MemberResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, target_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<RoleChange>,
) -> Result<axum::Json<MemberResponse>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::ChangeRoles)?;
    if body.role == Role::Owner {
        return Err(Error::unprocessable(
            "use_transfer",
            "Ownership is handed over with POST /api/rooms/{id}/transfer",
        ));
    }
    if target_id == user.id {
        return Err(Error::unprocessable(
            "use_transfer",
            "The owner keeps the owner role until transferring it",
        ));
    }
    let target = store::members(&state.db, id)
        .await?
        .into_iter()
        .find(|m| m.user_id == target_id)
        .ok_or_else(not_member)?;
    let audit = Audit::new(id, user.id, "role_changed", now_ms())
        .target(target_id)
        .detail(format!("{} -> {}", target.role, body.role.as_str()));
    store::set_roles(&state.db, id, &[(target_id, body.role)], audit).await?;
    state.events.publish(RoomEvent::RoleChanged {
        room_id: id,
        user_id: target_id,
        role: body.role,
    });
    let mut member = MemberView::from(&target);
    member.role = body.role;
    Ok(axum::Json(MemberResponse {
        success: true,
        member,
    }))
}

/// Bans a user: removes them and keeps them out until unbanned (admins).
#[utoipa::path(post, path = "/api/rooms/{id}/bans", tag = "members", request_body = Target,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 201, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn ban(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Target>,
) -> Result<(StatusCode, axum::Json<Success>), Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    let role = access.require(Action::ManageMembers)?;
    access.require_not_dm()?;
    let reason = crate::rooms::validate::text("Reason", &body.reason, 500)?;
    let target = resolve(&state, &body).await?;
    check_removal(&state, id, &user, role, target.id).await?;
    let audit = Audit::new(id, user.id, "member_banned", now_ms())
        .target(target.id)
        .detail(&reason);
    if store::ban(&state.db, id, target.id, &reason, audit).await? {
        state.events.publish(RoomEvent::MemberLeft {
            room_id: id,
            user_id: target.id,
            how: Departure::Banned,
        });
    }
    Ok((StatusCode::CREATED, axum::Json(Success::new())))
}

/// Lifts a ban (admins).
#[utoipa::path(delete, path = "/api/rooms/{id}/bans/{user_id}", tag = "members",
    params(("id" = i64, Path, description = "Room id"), ("user_id" = i64, Path, description = "Banned user")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn unban(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, target_id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Success>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::ManageMembers)?;
    let audit = Audit::new(id, user.id, "member_unbanned", now_ms()).target(target_id);
    if !store::unban(&state.db, id, target_id, audit).await? {
        return Err(Error::not_found(
            "ban_not_found",
            "That user is not banned here",
        ));
    }
    Ok(axum::Json(Success::new()))
}

#[derive(Deserialize, ToSchema)]
pub struct Transfer {
    /// The member who becomes owner; the current owner becomes an admin.
    pub user_id: i64,
}

/// Hands ownership to another member (owner).
#[utoipa::path(post, path = "/api/rooms/{id}/transfer", tag = "members", request_body = Transfer,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn transfer(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Transfer>,
) -> Result<axum::Json<Success>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::TransferOwnership)?;
    if body.user_id == user.id {
        return Err(Error::bad_request(
            "cannot_target_self",
            "You are already the owner",
        ));
    }
    if store::role_of(&state.db, id, body.user_id).await?.is_none() {
        return Err(not_member());
    }
    let audit = Audit::new(id, user.id, "ownership_transferred", now_ms()).target(body.user_id);
    store::set_roles(
        &state.db,
        id,
        &[(user.id, Role::Admin), (body.user_id, Role::Owner)],
        audit,
    )
    .await?;
    for (user_id, role) in [(body.user_id, Role::Owner), (user.id, Role::Admin)] {
        state.events.publish(RoomEvent::RoleChanged {
            room_id: id,
            user_id,
            role,
        });
    }
    Ok(axum::Json(Success::new()))
}
