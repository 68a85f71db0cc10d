//! Rooms: list mine, the public directory, create, show, edit, delete,
//! join and leave.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery, Success};
use crate::rooms::access::RoomAccess;
use crate::rooms::events::RoomEvent;
use crate::rooms::membership;
use crate::rooms::model::{Action, Role, RoomKind};
use crate::rooms::store::{self, Audit};
use crate::rooms::validate;
use crate::rooms::view::{ChannelView, Peer, RoomView, RoomWithChannels};
use crate::state::AppState;
use crate::storage::now_ms;
use crate::timeline::store::Kind;

#[derive(Serialize, ToSchema)]
pub struct RoomList {
    pub success: bool,
    pub rooms: Vec<RoomWithChannels>,
}

/// My rooms and DMs, each with its channels (with unread counts) and my role.
#[utoipa::path(get, path = "/api/rooms", operation_id = "list_rooms", tag = "rooms",
    responses((status = 200, body = RoomList), (status = 401, body = ErrorBody)))]
pub async fn list_mine(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<RoomList>, Error> {
    let rooms = store::rooms_of(&state.db, user.id).await?;
    let unread: HashMap<i64, i64> = crate::messages::store::unread_counts(&state.db, user.id)
        .await?
        .into_iter()
        .map(|u| (u.channel_id, u.unread))
        .collect();
    let mut channels: HashMap<i64, Vec<ChannelView>> = HashMap::new();
    for c in store::channels_of_member(&state.db, user.id).await? {
        let mut view = ChannelView::from(&c);
        view.unread = Some(unread.get(&c.id).copied().unwrap_or(0));
        channels.entry(c.room_id).or_default().push(view);
    }
    let rooms = rooms
        .iter()
        .map(|r| RoomWithChannels {
            room: RoomView::listed(r),
            channels: channels.remove(&r.room.id).unwrap_or_default(),
        })
        .collect();
    Ok(axum::Json(RoomList {
        success: true,
        rooms,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DirectoryQuery {
    /// Text the room name contains (case-insensitive).
    pub q: Option<String>,
    /// At most this many rooms (1-100, default 50).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Directory {
    pub success: bool,
    pub rooms: Vec<RoomView>,
}

/// The directory of public rooms, searchable by name.
#[utoipa::path(get, path = "/api/rooms/public", operation_id = "list_public_rooms", tag = "rooms", params(DirectoryQuery),
    responses((status = 200, body = Directory), (status = 401, body = ErrorBody)))]
pub async fn directory(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<DirectoryQuery>,
) -> Result<axum::Json<Directory>, Error> {
    let q = query.q.unwrap_or_default();
    if q.chars().count() > validate::ROOM_NAME_MAX {
        return Err(Error::unprocessable(
            "invalid_query",
            "The search text is too long",
        ));
    }
    let limit = query.limit.unwrap_or(50).clamp(1, 100);
    let pattern = format!(
        "%{}%",
        crate::storage::escape_like(&q.trim().to_lowercase())
    );
    let rooms = store::directory(&state.db, user.id, &pattern, limit).await?;
    Ok(axum::Json(Directory {
        success: true,
        rooms: rooms.iter().map(RoomView::listed).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewRoom {
    /// 1-64 characters.
    pub name: String,
    /// At most 500 characters.
    #[serde(default)]
    pub description: String,
    /// Private rooms are invisible to non-members and joined by invitation.
    #[serde(default)]
    pub is_private: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RoomResponse {
    pub success: bool,
    pub room: RoomView,
    pub channels: Vec<ChannelView>,
}

/// Creates a room with a `general` channel; the creator is its owner.
#[utoipa::path(post, path = "/api/rooms", operation_id = "create_room", tag = "rooms", request_body = NewRoom,
    responses((status = 201, body = RoomResponse), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<NewRoom>,
) -> Result<(StatusCode, axum::Json<RoomResponse>), Error> {
    let name = validate::room_name(&body.name)?;
    let description = validate::text("Description", &body.description, validate::DESCRIPTION_MAX)?;
    let (room, general) = store::create_room(
        &state.db,
        &name,
        &description,
        body.is_private,
        user.id,
        now_ms(),
    )
    .await?;
    state.events.publish(RoomEvent::MemberJoined {
        room_id: room.id,
        user_id: user.id,
        role: Role::Owner,
        rotations: Vec::new(),
    });
    Ok((
        StatusCode::CREATED,
        axum::Json(RoomResponse {
            success: true,
            room: RoomView::new(&room, Some(Role::Owner), 1),
            channels: vec![ChannelView::from(&general)],
        }),
    ))
}

/// Builds the full answer for a room the user can see.
pub async fn room_response(state: &AppState, access: &RoomAccess) -> Result<RoomResponse, Error> {
    let count = store::member_count(&state.db, access.room.id).await?;
    let channels = store::channels_of_room(&state.db, access.room.id).await?;
    let mut room = RoomView::new(&access.room, access.role, count);
    room.members_may_pin = crate::pins::store::members_may_pin(&state.db, access.room.id).await?;
    room.everyone_mention_max_members =
        crate::mentions::store::limit(&state.db, access.room.id).await?;
    if let Some(peer) = peer(state, access).await? {
        room.dm_peer = Some(peer);
    }
    Ok(RoomResponse {
        success: true,
        room,
        channels: channels.iter().map(ChannelView::from).collect(),
    })
}

/// For a DM, the member who is not the asker.
async fn peer(state: &AppState, access: &RoomAccess) -> Result<Option<Peer>, Error> {
    if access.kind() != RoomKind::Dm {
        return Ok(None);
    }
    let members = store::members(&state.db, access.room.id).await?;
    Ok(members
        .into_iter()
        .find(|m| m.user_id != access.user_id)
        .map(|m| Peer {
            id: m.user_id,
            username: m.username,
        }))
}

/// A room with its channels.
#[utoipa::path(get, path = "/api/rooms/{id}", operation_id = "show_room", tag = "rooms",
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = RoomResponse), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<RoomResponse>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    Ok(axum::Json(room_response(&state, &access).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct RoomChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub is_private: Option<bool>,
}

/// Renames, re-describes or changes the visibility of a room (owner).
#[utoipa::path(patch, path = "/api/rooms/{id}", operation_id = "update_room", tag = "rooms", request_body = RoomChanges,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = RoomResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RoomChanges>,
) -> Result<axum::Json<RoomResponse>, Error> {
    let mut access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::EditRoom)?;
    access.require_not_dm()?;
    let mut changed = Vec::new();
    let mut audit = Audit::new(id, user.id, "room_updated", now_ms());
    if let Some(name) = body.name {
        let name = validate::room_name(&name)?;
        if name != access.room.name {
            audit = audit.timeline(None, Kind::RoomRenamed, &name);
        }
        access.room.name = name;
        changed.push("name");
    }
    if let Some(description) = body.description {
        access.room.description =
            validate::text("Description", &description, validate::DESCRIPTION_MAX)?;
        changed.push("description");
    }
    if let Some(is_private) = body.is_private {
        access.room.is_private = is_private;
        changed.push(if is_private {
            "made private"
        } else {
            "made public"
        });
    }
    let audit = audit.detail(changed.join(", "));
    store::update_room(&state.db, &access.room, audit).await?;
    state.events.publish(RoomEvent::RoomUpdated { room_id: id });
    Ok(axum::Json(room_response(&state, &access).await?))
}

/// Deletes a room with its channels and memberships (owner).
#[utoipa::path(delete, path = "/api/rooms/{id}", operation_id = "delete_room", tag = "rooms",
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<Success>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::EditRoom)?;
    let audit = Audit::new(id, user.id, "room_deleted", now_ms()).detail(&access.room.name);
    let (channel_ids, member_ids) = store::delete_room(&state.db, id, audit).await?;
    state.events.publish(RoomEvent::RoomDeleted {
        room_id: id,
        channel_ids,
        member_ids,
    });
    Ok(axum::Json(Success::new()))
}

/// Joins a public room. Already a member: answered as a success.
#[utoipa::path(post, path = "/api/rooms/{id}/join", operation_id = "join_room", tag = "rooms",
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = RoomResponse),
        (status = 403, body = ErrorBody, description = "Private room, or banned"),
        (status = 404, body = ErrorBody)))]
pub async fn join(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<RoomResponse>, Error> {
    let mut access = RoomAccess::load(&state.db, &user, id).await?;
    if access.role.is_none() {
        membership::require_unlogged(&state, id).await?;
        membership::join(&state, &access, None).await?;
        access.role = Some(Role::Member);
    }
    Ok(axum::Json(room_response(&state, &access).await?))
}

/// Leaves a room. The owner must transfer ownership first.
#[utoipa::path(post, path = "/api/rooms/{id}/leave", operation_id = "leave_room", tag = "rooms",
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The owner must transfer ownership first")))]
pub async fn leave(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<Success>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::Leave)?;
    access.require_not_dm()?;
    membership::require_unlogged(&state, id).await?;
    membership::leave(&state, &access, None).await?;
    Ok(axum::Json(Success::new()))
}
