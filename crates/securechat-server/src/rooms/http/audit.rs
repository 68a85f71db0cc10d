//! The room audit log (room admins and site admins).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiPath, ApiQuery};
use crate::rooms::access::RoomAccess;
use crate::rooms::store;
use crate::rooms::view::AuditView;
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Entries older than this id (for the next page).
    pub before: Option<i64>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    pub success: bool,
    /// Newest first.
    pub entries: Vec<AuditView>,
    /// Pass as `before` for the next page; null at the end.
    pub next_before: Option<i64>,
}

/// Who changed what in the room, newest first, keyset-paginated.
#[utoipa::path(get, path = "/api/rooms/{id}/audit", operation_id = "list_audit_log", tag = "rooms", params(AuditQuery,
    ("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = AuditPage), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<axum::Json<AuditPage>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require_audit()?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let rows = store::audit_page(&state.db, id, query.before.unwrap_or(i64::MAX), limit).await?;
    let next_before = if rows.len() == usize::try_from(limit).unwrap_or(0) {
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(axum::Json(AuditPage {
        success: true,
        entries: rows.iter().map(AuditView::from).collect(),
        next_before,
    }))
}
