//! `GET /api/channels/{id}/messages`: history, keyset-paginated.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store;
use super::view::{MessageView, with_reactions};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiPath, ApiQuery};
use crate::rooms::access::{RoomAccess, channel_not_found};
use crate::rooms::model::Action;
use crate::state::AppState;

/// Default and largest page size.
pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(history))
}

#[derive(Deserialize, IntoParams)]
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
#[utoipa::path(get, path = "/api/channels/{id}/messages", tag = "messages",
    params(HistoryQuery, ("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = HistoryPage), (status = 404, body = ErrorBody)))]
async fn history(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<axum::Json<HistoryPage>, Error> {
    let (access, _) = RoomAccess::load_channel(&state.db, &user, id).await?;
    // Site admins see metadata, never messages: only members read.
    access
        .require(Action::ReadAndPost)
        .map_err(|_| channel_not_found())?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    // One extra row tells whether there is more.
    let mut rows = match query.after {
        Some(after) => store::page_after(&state.db, id, after, limit + 1).await?,
        None => {
            let before = query.before.unwrap_or(i64::MAX);
            store::page_before(&state.db, id, before, limit + 1).await?
        }
    };
    let has_more = rows.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(axum::Json(HistoryPage {
        success: true,
        messages: with_reactions(&state.db, user.id, id, &rows).await?,
        has_more,
    }))
}
