//! `GET /api/channels/{id}/messages`: history, keyset-paginated.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::history::{self, From};
use super::store::Scope;
use super::view::MessageView;
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiPath, ApiQuery};
use crate::rooms::access::RoomAccess;
use crate::state::AppState;

/// Default and largest page size.
pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(history))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Messages older than this id (scrolling back).
    pub before: Option<i64>,
    /// Messages newer than this id (catching up); wins over `before`.
    pub after: Option<i64>,
    /// 1-200, default 50.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct HistoryPage {
    pub success: bool,
    /// With `after`: oldest first. Otherwise: newest first.
    pub messages: Vec<MessageView>,
    /// Whether more messages lie beyond this page in the same direction.
    pub has_more: bool,
}

/// A page of a channel's messages. Non-members get 404.
#[utoipa::path(get, path = "/api/channels/{id}/messages", operation_id = "list_messages", tag = "messages",
    params(HistoryQuery, ("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = HistoryPage), (status = 404, body = ErrorBody)))]
async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<axum::Json<HistoryPage>, Error> {
    // Site admins see metadata, never messages: only members read.
    RoomAccess::member_channel(&state.db, &user, id).await?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let from = match query.after {
        Some(after) => From::After(after),
        None => From::Before(query.before.unwrap_or(i64::MAX)),
    };
    let page = history::page(&state.db, user.id, id, Scope::Channel(id), from, limit).await?;
    Ok(axum::Json(HistoryPage {
        success: true,
        messages: page.messages,
        has_more: page.has_more,
    }))
}
