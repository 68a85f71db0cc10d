//! Members: list, add, kick, change role, ban, unban, transfer ownership.
//!
//! Thin handlers over [`crate::rooms::membership`], which holds the rules.
//! In a room with a signed membership log these plain endpoints refuse
//! changes (`signed_entry_required`): they go through the log endpoint.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{AuthUser, store as users};
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, Success};
use crate::profiles::view::ProfileView;
use crate::rooms::access::RoomAccess;
use crate::rooms::membership;
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
#[utoipa::path(get, path = "/api/rooms/{id}/members", operation_id = "list_members", tag = "members",
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
    let now = now_ms();
    let mut profiles: std::collections::HashMap<i64, ProfileView> =
        crate::profiles::store::of_room(&state.db, id)
            .await?
            .iter()
            .map(|p| (p.user_id, ProfileView::of(p, now)))
            .collect();
    Ok(axum::Json(MemberList {
        success: true,
        members: members
            .iter()
            .map(|m| MemberView {
                profile: profiles.remove(&m.user_id),
                ..MemberView::from(m)
            })
            .collect(),
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
pub(super) async fn resolve(state: &AppState, target: &Target) -> Result<users::UserRow, Error> {
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
#[utoipa::path(post, path = "/api/rooms/{id}/members", operation_id = "add_member", tag = "members", request_body = Target,
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
    membership::require_unlogged(&state, id).await?;
    let target = resolve(&state, &body).await?;
    let member = membership::add(&state, &access, target, Role::Member, None).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(MemberResponse {
            success: true,
            member,
        }),
    ))
}

/// Kicks a member out of the room (admins; admins only by the owner).
#[utoipa::path(delete, path = "/api/rooms/{id}/members/{user_id}", operation_id = "kick_member", tag = "members",
    params(("id" = i64, Path, description = "Room id"), ("user_id" = i64, Path, description = "Member")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn kick(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, target_id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Success>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::ManageMembers)?;
    membership::require_unlogged(&state, id).await?;
    membership::kick(&state, &access, target_id, None).await?;
    Ok(axum::Json(Success::new()))
}

#[derive(Deserialize, ToSchema)]
pub struct RoleChange {
    /// `admin` or `member`. Ownership moves with `/transfer`.
    pub role: Role,
}

/// Promotes a member to admin or demotes an admin (owner).
#[utoipa::path(put, path = "/api/rooms/{id}/members/{user_id}/role", operation_id = "set_member_role", tag = "members",
    request_body = RoleChange,
    params(("id" = i64, Path, description = "Room id"), ("user_id" = i64, Path, description = "Member")),
    responses((status = 200, body = MemberResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The member left or was removed meanwhile"),
        (status = 422, body = ErrorBody)))]
pub async fn set_role(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, target_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<RoleChange>,
) -> Result<axum::Json<MemberResponse>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::ChangeRoles)?;
    membership::require_unlogged(&state, id).await?;
    let member = membership::set_role(&state, &access, target_id, body.role, None).await?;
    Ok(axum::Json(MemberResponse {
        success: true,
        member,
    }))
}

/// Bans a user: removes them and keeps them out until unbanned (admins).
#[utoipa::path(post, path = "/api/rooms/{id}/bans", operation_id = "ban_member", tag = "members", request_body = Target,
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
    access.require(Action::ManageMembers)?;
    access.require_not_dm()?;
    let target = resolve(&state, &body).await?;
    // Banning someone who is not a member changes no membership, so it
    // needs no signed entry.
    if store::role_of(&state.db, id, target.id).await?.is_some() {
        membership::require_unlogged(&state, id).await?;
    }
    membership::ban(&state, &access, &target, &body.reason, None).await?;
    Ok((StatusCode::CREATED, axum::Json(Success::new())))
}

/// Lifts a ban (admins).
#[utoipa::path(delete, path = "/api/rooms/{id}/bans/{user_id}", operation_id = "unban_user", tag = "members",
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
#[utoipa::path(post, path = "/api/rooms/{id}/transfer", operation_id = "transfer_ownership", tag = "members", request_body = Transfer,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The member left or was removed, or ownership moved, meanwhile")))]
pub async fn transfer(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<Transfer>,
) -> Result<axum::Json<Success>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::TransferOwnership)?;
    membership::require_unlogged(&state, id).await?;
    membership::transfer(&state, &access, body.user_id, None).await?;
    Ok(axum::Json(Success::new()))
}
