//! Pins: who may pin (admins and the owner; members too when the room
//! allows it), the channel's list, and the room setting. Every change is
//! pushed as `pins_updated` to the room's members.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, Pinned};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, Success};
use crate::messages::view::MessageView;
use crate::push::{Audience, PinsUpdated, ServerEvent};
use crate::rooms::access::RoomAccess;
use crate::rooms::model::Action;
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};

/// The most pins a channel holds: a panel, not a second timeline.
pub const MAX_PINS: i64 = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(pin, unpin))
        .routes(routes!(settings))
}

/// A channel the caller reads, and whether they may pin in it.
async fn pin_access(
    state: &AppState,
    user: &AuthUser,
    channel_id: i64,
) -> Result<(RoomAccess, bool, bool), Error> {
    let (access, _) = RoomAccess::member_channel(&state.db, user, channel_id).await?;
    let members_may_pin = store::members_may_pin(&state.db, access.room.id).await?;
    let may_pin = members_may_pin || access.require(Action::ManagePins).is_ok();
    Ok((access, members_may_pin, may_pin))
}

/// Refuses a caller who may read but not pin: the permission table's 403.
async fn require_pin(
    state: &AppState,
    user: &AuthUser,
    channel_id: i64,
) -> Result<RoomAccess, Error> {
    let (access, _, may_pin) = pin_access(state, user, channel_id).await?;
    if !may_pin {
        access.require(Action::ManagePins)?;
    }
    Ok(access)
}

#[derive(Serialize, ToSchema)]
pub struct PinView {
    pub message: MessageView,
    pub pinned_by: Option<i64>,
    pub pinned_by_username: Option<String>,
    pub pinned_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct PinList {
    pub success: bool,
    /// Most recently pinned first; deleted messages are left out.
    pub pins: Vec<PinView>,
    /// The room lets members pin (admins and the owner always may).
    pub members_may_pin: bool,
    /// The caller may pin and unpin here.
    pub may_pin: bool,
    /// The most pins a channel holds.
    pub max_pins: i64,
}

/// The channel's pinned messages. Non-members get 404.
#[utoipa::path(get, path = "/api/channels/{id}/pins", operation_id = "list_pins", tag = "pins",
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = PinList), (status = 404, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<PinList>, Error> {
    let (_, members_may_pin, may_pin) = pin_access(&state, &user, id).await?;
    let pins = store::pins(&state.db, id, now_ms())
        .await?
        .into_iter()
        .map(|p| PinView {
            message: MessageView::from(&p.message),
            pinned_by: p.pinned_by,
            pinned_by_username: p.pinned_by_username,
            pinned_at: rfc3339(p.pinned_at),
        })
        .collect();
    Ok(axum::Json(PinList {
        success: true,
        pins,
        members_may_pin,
        may_pin,
        max_pins: MAX_PINS,
    }))
}

fn tell_room(state: &AppState, access: &RoomAccess, event: PinsUpdated) {
    state.notify.push(
        ServerEvent::PinsUpdated(event),
        Audience::Room(access.room.id),
    );
}

/// Pins a message of the channel (admins and the owner; members when the
/// room allows it). Pinning a pinned message changes nothing.
#[utoipa::path(put, path = "/api/channels/{id}/pins/{message_id}", operation_id = "pin_message", tag = "pins",
    params(("id" = i64, Path, description = "Channel id"), ("message_id" = i64, Path, description = "Message id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn pin(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, message_id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Success>, Error> {
    let access = require_pin(&state, &user, id).await?;
    match store::pin(&state.db, id, message_id, user.id, now_ms(), MAX_PINS).await? {
        Pinned::New => tell_room(
            &state,
            &access,
            PinsUpdated {
                room_id: access.room.id,
                channel_id: id,
                message_id,
                pinned: true,
                user_id: user.id,
            },
        ),
        Pinned::Already => {}
        Pinned::NoMessage => return Err(message_not_found()),
        Pinned::Full => {
            return Err(Error::conflict(
                "too_many_pins",
                format!("A channel holds at most {MAX_PINS} pins; unpin one first"),
            ));
        }
    }
    Ok(axum::Json(Success::new()))
}

fn message_not_found() -> Error {
    Error::not_found("message_not_found", "No such message in this channel")
}

/// Unpins a message (whoever may pin). Unpinning what is not pinned is 404.
#[utoipa::path(delete, path = "/api/channels/{id}/pins/{message_id}", operation_id = "unpin_message", tag = "pins",
    params(("id" = i64, Path, description = "Channel id"), ("message_id" = i64, Path, description = "Message id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn unpin(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, message_id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Success>, Error> {
    let access = require_pin(&state, &user, id).await?;
    if !store::unpin(&state.db, id, message_id).await? {
        return Err(Error::not_found(
            "pin_not_found",
            "That message is not pinned in this channel",
        ));
    }
    tell_room(
        &state,
        &access,
        PinsUpdated {
            room_id: access.room.id,
            channel_id: id,
            message_id,
            pinned: false,
            user_id: user.id,
        },
    );
    Ok(axum::Json(Success::new()))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct PinSettings {
    /// Members (not only admins and the owner) may pin and unpin.
    pub members_may_pin: bool,
}

/// Lets members pin, or stops them (admins and the owner).
#[utoipa::path(put, path = "/api/rooms/{id}/pin_settings", operation_id = "set_pin_settings", tag = "pins",
    request_body = PinSettings,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn settings(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PinSettings>,
) -> Result<axum::Json<Success>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::ManagePins)?;
    store::set_members_may_pin(&state.db, id, body.members_may_pin, now_ms()).await?;
    crate::mentions::http::tell_room(&state, id);
    Ok(axum::Json(Success::new()))
}
