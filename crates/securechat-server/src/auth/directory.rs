//! Finding people: `/api/users?q=` and `/api/users/{id}`.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AuthUser;
use super::store;
use crate::http::{ApiPath, ApiQuery, Error, ErrorBody};
use crate::state::AppState;
use crate::storage::rfc3339;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(show))
}

/// Another user, as anyone signed in may see them.
#[derive(Serialize, ToSchema)]
pub struct PublicUser {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_at: String,
}

impl From<&store::UserRow> for PublicUser {
    fn from(u: &store::UserRow) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            is_admin: u.is_admin,
            disabled: u.disabled,
            created_at: rfc3339(u.created_at),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct UserQuery {
    /// Text the username contains (case-insensitive).
    pub q: Option<String>,
    /// 1-50, default 20.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub success: bool,
    pub users: Vec<PublicUser>,
}

/// Finds active users by name.
#[utoipa::path(get, path = "/api/users", tag = "users", params(UserQuery),
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    _user: AuthUser,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<axum::Json<UserList>, Error> {
    let q = query.q.unwrap_or_default().trim().to_ascii_lowercase();
    if q.len() > 64 {
        return Err(Error::unprocessable(
            "invalid_query",
            "The search text is too long",
        ));
    }
    let escaped = crate::storage::escape_like(&q);
    let limit = query.limit.unwrap_or(20).clamp(1, 50);
    let users = store::search_users(&state.db, &format!("%{escaped}%"), limit).await?;
    Ok(axum::Json(UserList {
        success: true,
        users: users.iter().map(PublicUser::from).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    pub success: bool,
    pub user: PublicUser,
}

/// One user by id.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserResponse), (status = 404, body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    _user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<UserResponse>, Error> {
    let user = store::user_by_id(&state.db, id)
        .await?
        .ok_or_else(|| Error::not_found("user_not_found", "No such user"))?;
    Ok(axum::Json(UserResponse {
        success: true,
        user: PublicUser::from(&user),
    }))
}
