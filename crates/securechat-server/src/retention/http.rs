//! The two settings: a room's retention (`PUT /api/rooms/{id}/retention`,
//! the owner) and a channel's disappearing-message timer
//! (`PUT /api/channels/{id}/disappearing`, admins and the owner; either
//! person of a DM). Each is written with its audit entry and announced as
//! `room_updated` / `channel_updated`, which carry the new value.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath};
use crate::rooms::access::RoomAccess;
use crate::rooms::events::RoomEvent;
use crate::rooms::model::Action;
use crate::rooms::store::{self, Audit};
use crate::state::AppState;
use crate::storage::now_ms;
use crate::timeline::store::Kind;

/// The longest retention: ten years.
pub const MAX_RETENTION_DAYS: i64 = 3650;
/// The shortest disappearing timer: five minutes.
pub const MIN_DISAPPEARING_SECONDS: i64 = 300;
/// The longest disappearing timer: four weeks.
pub const MAX_DISAPPEARING_SECONDS: i64 = 28 * 24 * 3600;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(set_retention))
        .routes(routes!(set_disappearing))
}

#[derive(Deserialize, ToSchema)]
pub struct RetentionBody {
    /// Keep messages this many days (1 to 3650); null (or absent) keeps
    /// them forever.
    #[schema(minimum = 1, maximum = 3650)]
    pub days: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RetentionResponse {
    pub success: bool,
    pub retention_days: Option<i64>,
}

/// Sets how long the room keeps its messages (the owner). Older messages,
/// with their files, reactions, pins and search entries, are deleted by
/// the purge job in the background, starting within a minute.
#[utoipa::path(put, path = "/api/rooms/{id}/retention", operation_id = "set_room_retention",
    tag = "retention", request_body = RetentionBody,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = RetentionResponse),
        (status = 403, body = ErrorBody, description = "Not the owner, or a DM"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_retention(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RetentionBody>,
) -> Result<axum::Json<RetentionResponse>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::SetRetention)?;
    access.require_not_dm()?;
    let days = body.days;
    if days.is_some_and(|d| !(1..=MAX_RETENTION_DAYS).contains(&d)) {
        return Err(Error::unprocessable(
            "invalid_retention",
            format!("days must be null (keep forever) or 1 to {MAX_RETENTION_DAYS}"),
        ));
    }
    let detail = days.map_or_else(|| "keep forever".to_owned(), |d| format!("{d} days"));
    let audit = Audit::new(id, user.id, "retention_changed", now_ms())
        .detail(detail)
        .timeline(None, Kind::RetentionChanged, days.unwrap_or(0).to_string());
    store::set_retention(&state.db, id, days, audit).await?;
    state.events.publish(RoomEvent::RoomUpdated { room_id: id });
    Ok(axum::Json(RetentionResponse {
        success: true,
        retention_days: days,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct DisappearingBody {
    /// Messages sent from now on disappear this many seconds later (300
    /// to 2419200, five minutes to four weeks); null (or absent) turns the
    /// timer off. Messages already sent keep the time they were given.
    #[schema(minimum = 300, maximum = 2419200)]
    pub seconds: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DisappearingResponse {
    pub success: bool,
    pub disappearing_seconds: Option<i64>,
}

/// Sets the channel's disappearing-message timer (admins and the owner;
/// either person of a DM). In an encrypted channel this is the server's
/// copy: members follow the timer of the signed membership log, which the
/// client that changes it appends itself.
#[utoipa::path(put, path = "/api/channels/{id}/disappearing", operation_id = "set_channel_disappearing",
    tag = "retention", request_body = DisappearingBody,
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = DisappearingResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_disappearing(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<DisappearingBody>,
) -> Result<axum::Json<DisappearingResponse>, Error> {
    let (access, channel) = RoomAccess::load_channel(&state.db, &user, id).await?;
    access.require_disappearing()?;
    let seconds = body.seconds;
    if seconds.is_some_and(|s| !(MIN_DISAPPEARING_SECONDS..=MAX_DISAPPEARING_SECONDS).contains(&s))
    {
        return Err(Error::unprocessable(
            "invalid_disappearing",
            format!(
                "seconds must be null (off) or {MIN_DISAPPEARING_SECONDS} to \
                 {MAX_DISAPPEARING_SECONDS} (five minutes to four weeks)"
            ),
        ));
    }
    let detail = seconds.map_or_else(
        || format!("{}: off", channel.name),
        |s| format!("{}: {s} s", channel.name),
    );
    // A line in the channel's timeline, so every member sees the change.
    let audit = Audit::new(channel.room_id, user.id, "disappearing_changed", now_ms())
        .detail(detail)
        .timeline(
            Some(id),
            Kind::DisappearingChanged,
            seconds.unwrap_or(0).to_string(),
        );
    store::set_disappearing(&state.db, id, seconds, audit).await?;
    state.events.publish(RoomEvent::ChannelUpdated {
        room_id: channel.room_id,
        channel_id: id,
    });
    Ok(axum::Json(DisappearingResponse {
        success: true,
        disappearing_seconds: seconds,
    }))
}
