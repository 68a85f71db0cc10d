//! Finding people: `/api/users?q=` and `/api/users/{id}`.
//!
//! The directory is not a list of every account: a signed-in person finds
//! the people they share a room with by part of their name, and anyone
//! else only by their exact name (enough to start a DM or add them, not to
//! enumerate the site). Whether an account is an admin or disabled is for
//! site admins only, who see everyone.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AuthUser;
use super::store;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiPath, ApiQuery};
use crate::state::AppState;
use crate::storage::rfc3339;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(show))
}

/// Another user. `is_admin` and `disabled` are shown to site admins only.
#[derive(Serialize, ToSchema)]
pub struct PublicUser {
    pub id: i64,
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    pub created_at: String,
}

impl PublicUser {
    /// `u` as `viewer` may see them.
    fn seen_by(u: &store::UserRow, viewer: &AuthUser) -> Self {
        let admin = viewer.is_admin;
        Self {
            id: u.id,
            username: u.username.clone(),
            is_admin: admin.then_some(u.is_admin),
            disabled: admin.then_some(u.disabled),
            created_at: rfc3339(u.created_at),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Text the username contains (case-insensitive), at most 64 characters.
    #[param(max_length = 64)]
    pub q: Option<String>,
    /// 1-50, default 20.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserList {
    pub success: bool,
    pub users: Vec<PublicUser>,
}

/// Finds active users by name: for site admins, anyone whose name contains
/// `q`; for others, the people they share a room with whose name contains
/// `q`, and whoever's name is exactly `q`.
#[utoipa::path(get, path = "/api/users", operation_id = "search_users", tag = "users", params(UserQuery),
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`q` is longer than 64 characters (`invalid_query`)")))]
async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<axum::Json<UserList>, Error> {
    let q = query.q.unwrap_or_default().trim().to_ascii_lowercase();
    if q.chars().count() > 64 {
        return Err(Error::unprocessable(
            "invalid_query",
            "The search text is too long",
        ));
    }
    let escaped = crate::storage::escape_like(&q);
    let limit = query.limit.unwrap_or(20).clamp(1, 50);
    let pattern = format!("%{escaped}%");
    let users = if user.is_admin {
        store::search_users(&state.db, &pattern, limit).await?
    } else {
        store::search_users_for(&state.db, user.id, &pattern, &q, limit).await?
    };
    Ok(axum::Json(UserList {
        success: true,
        users: users
            .iter()
            .map(|u| PublicUser::seen_by(u, &user))
            .collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    pub success: bool,
    pub user: PublicUser,
}

/// One user by id: yourself, someone you share a room with, or anyone for
/// a site admin (404 otherwise, as for an id that does not exist).
#[utoipa::path(get, path = "/api/users/{id}", operation_id = "show_user", tag = "users",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserResponse), (status = 404, body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    viewer: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<UserResponse>, Error> {
    let visible =
        viewer.is_admin || viewer.id == id || store::share_a_room(&state.db, viewer.id, id).await?;
    let user = store::user_by_id(&state.db, id)
        .await?
        .filter(|_| visible)
        .ok_or_else(|| Error::not_found("user_not_found", "No such user"))?;
    Ok(axum::Json(UserResponse {
        success: true,
        user: PublicUser::seen_by(&user, &viewer),
    }))
}
