//! The owner's channel-wide mention setting.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{MAX_SETTING, store};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, Success};
use crate::push::{Audience, RoomRef, ServerEvent};
use crate::rooms::access::RoomAccess;
use crate::rooms::model::Action;
use crate::state::AppState;
use crate::storage::now_ms;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(settings))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct MentionSettings {
    /// In a room of more members than this, only the owner and admins may
    /// use `@channel`, `@here`, `@everyone` or `@room`; null: anyone may.
    #[schema(minimum = 1, maximum = 100000)]
    pub everyone_mention_max_members: Option<i64>,
}

/// Tells the room's members that a room setting changed: they read the
/// room again (`GET /api/rooms/{id}`), which carries every setting.
pub fn tell_room(state: &AppState, room_id: i64) {
    state.notify.push(
        ServerEvent::RoomSettingsUpdated(RoomRef { room_id }),
        Audience::Room(room_id),
    );
}

/// Sets who may use channel-wide mentions (the owner).
#[utoipa::path(put, path = "/api/rooms/{id}/mention_settings", operation_id = "set_mention_settings", tag = "rooms",
    request_body = MentionSettings,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn settings(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<MentionSettings>,
) -> Result<axum::Json<Success>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require_not_dm()?;
    access.require(Action::EditRoom)?;
    if let Some(max) = body.everyone_mention_max_members
        && !(1..=MAX_SETTING).contains(&max)
    {
        return Err(Error::unprocessable(
            "invalid_mention_setting",
            format!(
                "everyone_mention_max_members must be from 1 to {MAX_SETTING}, or null to let anyone use @channel"
            ),
        ));
    }
    store::set_limit(&state.db, id, body.everyone_mention_max_members, now_ms()).await?;
    tell_room(&state, id);
    Ok(axum::Json(Success::new()))
}
