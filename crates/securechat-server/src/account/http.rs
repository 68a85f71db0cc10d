//! `POST /api/users/me/export`: "Export my data"; `POST
//! /api/users/me/delete`: "Delete my account".

use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::Semaphore;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{delete, export};
use crate::auth::AuthUser;
use crate::auth::reauth::Reauth;
use crate::error::{Error, ErrorBody};
use crate::http::ApiJson;
use crate::state::AppState;

/// Exports written at once by this node: each reads the database page by
/// page and the file store file by file, for as long as the download lasts.
static EXPORTS: Semaphore = Semaphore::const_new(2);
/// Bytes the archive may run ahead of the download.
const PIPE: usize = 256 * 1024;
/// The longest an export may take, a slow download included.
const MAX_TIME: Duration = Duration::from_secs(3600);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_my_data))
        .routes(routes!(delete_my_account))
}

/// The account's current password, confirming an export or a deletion.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The account's current password.
    #[schema(max_length = 1024)]
    pub password: String,
}

/// Checks the caller's password, counted against the account's login
/// throttle.
async fn confirm(state: &AppState, user: &AuthUser, password: String) -> Result<(), Error> {
    if password.len() > crate::auth::validate::PASSWORD_MAX {
        return Err(Error::unauthorized(
            "invalid_credentials",
            "The current password is wrong",
        ));
    }
    Reauth::start(state, &user.username)
        .await?
        .password(state, user.id, password)
        .await?
        .passed(state)
        .await
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
    confirm(&state, &user, body.password).await?;
    let permit = EXPORTS.try_acquire().map_err(|_| Error::Unavailable {
        retry_after: 30,
        message: "Other exports are being written; try again in a minute".into(),
    })?;
    let (reader, writer) = tokio::io::duplex(PIPE);
    let user_id = user.id;
    tokio::spawn(async move {
        let _permit = permit;
        let written = tokio::time::timeout(
            MAX_TIME,
            export::write(&state.db, &state.files, user_id, writer),
        )
        .await;
        match written {
            Ok(Ok(())) => tracing::info!(user_id, "data export written"),
            // The reader sees the stream end early: the download fails.
            Ok(Err(e)) => tracing::warn!(user_id, error = %e, "data export failed"),
            Err(_) => tracing::warn!(user_id, "data export took too long; cut off"),
        }
    });
    let name = format!(
        "securechat-export-{}.zip",
        user.username
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            })
            .collect::<String>()
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
    )
        .into_response())
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
    confirm(&state, &user, body.password).await?;
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
