//! `/api/admin/users…`: finding, creating, disabling and enabling
//! accounts, granting and removing site administration, password-reset
//! links; and `/api/auth/password-reset`, where such a link is used.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use super::mode::RegistrationMode;
use super::store::{self, AdminUserRow, SiteAudit};
use super::{SiteAdmin, registration_mode, token_hash};
use crate::auth::password::Priority;
use crate::auth::{store as users, token, validate};
use crate::error::{Error, ErrorBody, ResultExt};
use crate::http::{ApiJson, ApiPath, ApiQuery, Success};
use crate::rooms::events::RoomEvent;
use crate::rooms::model::Role;
use crate::state::AppState;
use crate::storage::{escape_like, now_ms, rfc3339};

/// How long a password-reset link works.
pub const RESET_TTL: Duration = Duration::from_secs(24 * 3600);

/// The routes of this file.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(disable_user))
        .routes(routes!(delete_user))
        .routes(routes!(enable_user))
        .routes(routes!(promote_user))
        .routes(routes!(demote_user))
        .routes(routes!(create_password_reset))
        .routes(routes!(redeem_password_reset))
}

/// Whether a registration may go ahead under the registration mode in
/// force; returns the hash of the invitation to use with the account.
/// Whether the invitation is still good is decided by the insert itself.
pub async fn admission(state: &AppState, invite: Option<&str>) -> Result<Option<Vec<u8>>, Error> {
    let invite = invite.map(str::trim).filter(|t| !t.is_empty());
    match (registration_mode(state).await?, invite) {
        (RegistrationMode::Closed, _) => {
            return Err(Error::forbidden(
                "registration_closed",
                "Registration is closed on this server; ask an administrator for an account",
            ));
        }
        (RegistrationMode::InviteOnly, None) => {
            return Err(Error::forbidden(
                "invite_required",
                "This server registers people by invitation only; open the invitation link you were sent",
            ));
        }
        _ => {}
    }
    match invite {
        Some(t) if !token::looks_like_token(t) => Err(invalid_invite()),
        Some(t) => Ok(Some(token_hash(t))),
        None => Ok(None),
    }
}

/// The refusal of an unknown, expired, revoked or used-up invitation.
pub fn invalid_invite() -> Error {
    Error::forbidden(
        "invalid_invite",
        "This invitation link is not valid: it expired, was revoked or was used up",
    )
}

/// An account as the Admin page shows it.
#[derive(Serialize, ToSchema)]
pub struct AdminUser {
    pub id: i64,
    pub username: String,
    pub is_admin: bool,
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl From<&AdminUserRow> for AdminUser {
    fn from(u: &AdminUserRow) -> Self {
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
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the username, any letter case (at most 32 characters).
    pub q: Option<String>,
    /// Accounts with an id above this one (for the next page).
    pub after: Option<i64>,
    /// Page size, 1-200 (default 50).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    pub success: bool,
    /// By id.
    pub users: Vec<AdminUser>,
    /// Pass as `after` for the next page; null at the end.
    pub next_after: Option<i64>,
}

/// Every account (disabled ones too), by id, keyset-paginated; `q`
/// filters by name.
#[utoipa::path(get, path = "/api/admin/users", operation_id = "admin_list_users", tag = "admin",
    params(UserQuery),
    responses((status = 200, body = UserPage),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 422, body = ErrorBody, description = "`q` longer than 32 characters (`invalid_query`)")))]
async fn list_users(
    State(state): State<AppState>,
    _admin: SiteAdmin,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> Result<axum::Json<UserPage>, Error> {
    let q = query.q.unwrap_or_default();
    if q.chars().count() > 32 {
        return Err(Error::unprocessable(
            "invalid_query",
            "Search for at most 32 characters",
        ));
    }
    let pattern = format!("%{}%", escape_like(&validate::username_key(q.trim())));
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let rows = store::users_page(&state.db, &pattern, query.after.unwrap_or(0), limit).await?;
    let next_after = (rows.len() == usize::try_from(limit).unwrap_or(0))
        .then(|| rows.last().map(|u| u.id))
        .flatten();
    Ok(axum::Json(UserPage {
        success: true,
        users: rows.iter().map(AdminUser::from).collect(),
        next_after,
    }))
}

/// A new account made by an administrator.
#[derive(Deserialize, ToSchema)]
pub struct NewAccount {
    #[schema(pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    pub username: String,
    /// At least 8 characters, hard to guess, not the username.
    #[schema(min_length = 8, max_length = 1024)]
    pub password: String,
    /// Make the account a site administrator.
    #[serde(default)]
    pub is_admin: bool,
}

#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    pub success: bool,
    pub user: AdminUser,
}

/// Creates an account (whatever the registration mode); it joins the
/// site's default rooms as a registration does.
#[utoipa::path(post, path = "/api/admin/users", operation_id = "admin_create_user", tag = "admin",
    request_body = NewAccount,
    responses((status = 201, body = UserResponse),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 409, body = ErrorBody, description = "Username taken (`username_taken`)"),
        (status = 422, body = ErrorBody, description = "Invalid username or weak password"),
        (status = 503, body = ErrorBody, description = "Too busy checking passwords; see `Retry-After`")))]
async fn create_user(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiJson(body): ApiJson<NewAccount>,
) -> Result<(StatusCode, axum::Json<UserResponse>), Error> {
    validate::username(&body.username)?;
    validate::new_password(&body.password, &body.username, None)?;
    let hash = state
        .hasher
        .hash(Priority::Session, Zeroizing::new(body.password))
        .await?;
    let now = now_ms();
    let (user, joined) = users::insert_user(
        &state.db,
        &body.username,
        &hash,
        body.is_admin,
        now,
        &state.default_rooms,
        None,
    )
    .await
    .on_unique_violation(|| {
        Error::conflict(
            "username_taken",
            "That username, or one that looks like it, is taken",
        )
    })?;
    for (room_id, rotations) in joined {
        state.events.publish(RoomEvent::MemberJoined {
            room_id,
            user_id: user.id,
            role: Role::Member,
            rotations,
        });
    }
    let audit = SiteAudit::new(Some(admin.id), "user_created", now).target(user.id);
    store::record(&state.db, audit).await?;
    tracing::info!(
        user_id = user.id,
        by = admin.id,
        "account created by an administrator"
    );
    let row = AdminUserRow {
        id: user.id,
        username: user.username,
        is_admin: user.is_admin,
        disabled: false,
        created_at: user.created_at,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(UserResponse {
            success: true,
            user: AdminUser::from(&row),
        }),
    ))
}

/// The account after a change, or why the change did not happen.
async fn changed(
    state: &AppState,
    id: i64,
    done: bool,
    holds: impl Fn(&AdminUserRow) -> bool,
) -> Result<axum::Json<UserResponse>, Error> {
    let Some(row) = store::admin_user(&state.db, id).await? else {
        return Err(Error::not_found("user_not_found", "No such user"));
    };
    // Read after the write, for the answer only: the write decided.
    if !done && !holds(&row) {
        return Err(Error::conflict(
            "last_admin",
            "This is the last enabled site administrator; make someone else one first",
        ));
    }
    Ok(axum::Json(UserResponse {
        success: true,
        user: AdminUser::from(&row),
    }))
}

/// Disables an account: it can no longer sign in, and its sessions and
/// sockets end at once. Never the last enabled administrator.
#[utoipa::path(post, path = "/api/admin/users/{id}/disable", operation_id = "admin_disable_user", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserResponse),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The last enabled site administrator (`last_admin`)")))]
async fn disable_user(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<UserResponse>, Error> {
    let audit = SiteAudit::new(Some(admin.id), "user_disabled", now_ms()).target(id);
    let done = store::set_disabled(&state.db, id, true, audit).await?;
    if done {
        state.notify.sessions_ended(id);
        crate::rooms::membership::server_remove(&state.db, id).await?;
        tracing::info!(user_id = id, by = admin.id, "account disabled");
    }
    changed(&state, id, done, |u| u.disabled).await
}

/// Deletes an account as "Delete my account" does (for someone who cannot
/// sign in to do it, such as a single-sign-on account without a password):
/// signed out, removed from every room but their DMs, uploads, avatar,
/// keys and settings gone, what they sent kept as a deleted user's.
#[utoipa::path(delete, path = "/api/admin/users/{id}", operation_id = "admin_delete_user", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = crate::http::Success),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The account owns rooms (`owns_rooms`) or is the last enabled site administrator (`last_admin`)")))]
async fn delete_user(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<crate::http::Success>, Error> {
    crate::account::delete::delete_account(&state, id, Some(admin.id)).await?;
    Ok(axum::Json(crate::http::Success::new()))
}

/// Enables a disabled account.
#[utoipa::path(post, path = "/api/admin/users/{id}/enable", operation_id = "admin_enable_user", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserResponse),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 404, body = ErrorBody)))]
async fn enable_user(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<UserResponse>, Error> {
    let audit = SiteAudit::new(Some(admin.id), "user_enabled", now_ms()).target(id);
    let done = store::set_disabled(&state.db, id, false, audit).await?;
    changed(&state, id, done, |_| true).await
}

/// Makes an account a site administrator.
#[utoipa::path(post, path = "/api/admin/users/{id}/promote", operation_id = "admin_promote_user", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserResponse),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 404, body = ErrorBody)))]
async fn promote_user(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<UserResponse>, Error> {
    let audit = SiteAudit::new(Some(admin.id), "admin_granted", now_ms()).target(id);
    let done = store::set_admin(&state.db, id, true, audit).await?;
    changed(&state, id, done, |_| true).await
}

/// Removes site administration from an account; refused for the last
/// enabled administrator, by the update itself (two administrators
/// demoting each other at once leave one of them).
#[utoipa::path(post, path = "/api/admin/users/{id}/demote", operation_id = "admin_demote_user", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = UserResponse),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The last enabled site administrator (`last_admin`)")))]
async fn demote_user(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<UserResponse>, Error> {
    let audit = SiteAudit::new(Some(admin.id), "admin_revoked", now_ms()).target(id);
    let done = store::set_admin(&state.db, id, false, audit).await?;
    changed(&state, id, done, |u| !u.is_admin).await
}

#[derive(Serialize, ToSchema)]
pub struct ResetLink {
    pub success: bool,
    /// The one-time token; shown once, stored only as a hash.
    pub token: String,
    /// Where to send the person: `/reset-password?token=…`.
    pub path: String,
    /// RFC 3339, UTC: the link stops working then (24 hours).
    pub expires_at: String,
}

/// Makes a one-time password-reset link for an account (replacing any
/// earlier one). The person sets a new password there; their sessions end.
#[utoipa::path(post, path = "/api/admin/users/{id}/password-reset", operation_id = "admin_create_password_reset", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 201, body = ResetLink),
        (status = 403, body = ErrorBody, description = "Not a site administrator (`not_site_admin`)"),
        (status = 404, body = ErrorBody)))]
async fn create_password_reset(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiPath(id): ApiPath<i64>,
) -> Result<(StatusCode, axum::Json<ResetLink>), Error> {
    if store::admin_user(&state.db, id).await?.is_none() {
        return Err(Error::not_found("user_not_found", "No such user"));
    }
    let secret = token::new_token();
    let now = now_ms();
    let expires_at = now + i64::try_from(RESET_TTL.as_millis()).unwrap_or(i64::MAX / 2);
    let audit = SiteAudit::new(Some(admin.id), "password_reset_link", now).target(id);
    store::create_reset(&state.db, id, &token_hash(&secret), expires_at, audit)
        .await
        .map_err(|e| match e {
            // The account was deleted in between.
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                Error::not_found("user_not_found", "No such user")
            }
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ResetLink {
            success: true,
            path: format!("/reset-password?token={}", secret.as_str()),
            token: secret.to_string(),
            expires_at: rfc3339(expires_at),
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordReset {
    /// The token of the reset link.
    #[schema(max_length = 64)]
    pub token: String,
    /// At least 8 characters, hard to guess, not the username.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

/// Sets a new password with a one-time reset link an administrator made;
/// the link then stops working and every session of the account ends.
#[utoipa::path(post, path = "/api/auth/password-reset", operation_id = "redeem_password_reset", tag = "auth",
    request_body = PasswordReset,
    responses((status = 200, body = Success),
        (status = 404, body = ErrorBody, description = "Unknown, used or expired link (`invalid_reset_link`)"),
        (status = 422, body = ErrorBody, description = "Weak password (`weak_password`)"),
        (status = 503, body = ErrorBody, description = "Too busy checking passwords; see `Retry-After`")))]
async fn redeem_password_reset(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<PasswordReset>,
) -> Result<axum::Json<Success>, Error> {
    let invalid = || {
        Error::not_found(
            "invalid_reset_link",
            "This password-reset link is not valid: it expired or was used; ask an administrator for a new one",
        )
    };
    if !token::looks_like_token(&body.token) {
        return Err(invalid());
    }
    let hash = token_hash(&body.token);
    let (_, username) = store::reset_user(&state.db, &hash, now_ms())
        .await?
        .ok_or_else(invalid)?;
    validate::new_password(&body.new_password, &username, None)?;
    let password = state
        .hasher
        .hash(Priority::Anonymous, Zeroizing::new(body.new_password))
        .await?;
    let user_id = store::redeem_reset(&state.db, &hash, &password, now_ms())
        .await?
        .ok_or_else(invalid)?;
    state.notify.sessions_ended(user_id);
    tracing::info!(user_id, "password set with a reset link");
    Ok(axum::Json(Success::new()))
}
