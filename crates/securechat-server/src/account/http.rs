//! `POST /api/users/me/export`: "Export my data"; `POST
//! /api/users/me/delete`: "Delete my account".

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{delete, export};
use crate::auth::AuthUser;
use crate::auth::reauth::{PasswordBody, confirm_password};
use crate::error::{Error, ErrorBody};
use crate::http::ApiJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_my_data))
        .routes(routes!(delete_my_account))
}

/// The person's data as a zip: `account.json` (account, profile, rooms),
/// `messages.json` (what they sent: the text of plaintext channels, the
/// ciphertext envelope of encrypted ones), `reactions.json`, `files.json`
/// and `files/` with their uploads. Confirmed with the password, which
/// counts against the account's login throttle.
#[utoipa::path(post, path = "/api/users/me/export", operation_id = "export_my_data", tag = "users",
    request_body = PasswordBody,
    responses(
        (status = 200, content_type = "application/zip", description = "The archive, streamed"),
        (status = 401, body = ErrorBody, description = "Wrong password (`invalid_credentials`)"),
        (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "Other exports are being written; try again shortly"),
    ))]
async fn export_my_data(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response, Error> {
    confirm_password(&state, &user, body.password).await?;
    let (state, user_id) = (state.clone(), user.id);
    crate::archive::download(
        "data export",
        &format!("securechat-export-{}", user.username),
        move |out| async move { export::write(&state.db, &state.files, user_id, out).await },
    )
}

/// Deletes the caller's account for good: they are signed out everywhere,
/// leave every room but their DMs (encrypted channels move to new keys),
/// their uploads, avatar, keys, devices and settings are removed, and what
/// they sent stays, shown as sent by a deleted user. Refused while they own
/// a room or are the last site administrator. Confirmed with the password,
/// which counts against the account's login throttle.
#[utoipa::path(post, path = "/api/users/me/delete", operation_id = "delete_my_account", tag = "users",
    request_body = PasswordBody,
    responses(
        (status = 200, body = crate::http::Success, description = "Deleted; the session cookie is cleared"),
        (status = 401, body = ErrorBody, description = "Wrong password (`invalid_credentials`)"),
        (status = 409, body = ErrorBody, description = "The account owns rooms (`owns_rooms`, naming them) or is the last site administrator (`last_admin`)"),
        (status = 429, body = ErrorBody),
    ))]
async fn delete_my_account(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response, Error> {
    confirm_password(&state, &user, body.password).await?;
    delete::delete_account(&state, user.id, Some(user.id)).await?;
    Ok((
        [(
            header::SET_COOKIE,
            crate::auth::session::clear_cookie(&state.web),
        )],
        axum::Json(crate::http::Success::new()),
    )
        .into_response())
}
