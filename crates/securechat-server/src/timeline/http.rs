//! `GET /api/channels/{id}/events`: a channel's system events, keyset
//! paginated by event id the way message history is by message id, so a
//! client pages both back together and catches up on both after a
//! reconnect.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, From};
use super::view::EventView;
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiPath, ApiQuery};
// Pages the size of message history's, so a client pages both back together.
use crate::messages::http::{DEFAULT_PAGE, MAX_PAGE};
use crate::rooms::access::RoomAccess;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events older than this id (scrolling back).
    pub before: Option<i64>,
    /// Events newer than this id (catching up); wins over `before`.
    pub after: Option<i64>,
    /// 1-200, default 50.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct EventsPage {
    pub success: bool,
    /// With `after`: oldest first. Otherwise: newest first.
    pub events: Vec<EventView>,
    /// Whether more events lie beyond this page in the same direction.
    pub has_more: bool,
}

/// A page of a channel's system events: its own (created, renamed, topic,
/// key rotated) and its room's (joined, left, removed, room renamed).
/// Members only; others get 404, as for messages.
#[utoipa::path(get, path = "/api/channels/{id}/events", operation_id = "list_channel_events", tag = "messages",
    params(EventsQuery, ("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = EventsPage), (status = 404, body = ErrorBody)))]
async fn events(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<axum::Json<EventsPage>, Error> {
    RoomAccess::member_channel(&state.db, &user, id).await?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    // One extra row tells whether there is more.
    let from = match query.after {
        Some(after) => From::After(after),
        None => From::Before(query.before.unwrap_or(i64::MAX)),
    };
    let mut rows = store::page(&state.db, id, from, limit + 1).await?;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    Ok(axum::Json(EventsPage {
        success: true,
        events: rows.iter().filter_map(EventView::from_row).collect(),
        has_more,
    }))
}
