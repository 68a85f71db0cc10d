//! `POST /api/rooms/{id}/export`: a room's whole history for its owner.

use axum::extract::State;
use axum::response::Response;

use crate::auth::AuthUser;
use crate::auth::reauth::{PasswordBody, confirm_password};
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath};
use crate::rooms::access::RoomAccess;
use crate::rooms::export;
use crate::rooms::model::Action;
use crate::state::AppState;

/// The room as a zip, for its owner: `room.json` (room, channels,
/// members), `channels/<id>-<name>.json` with each channel's messages (the
/// text of plaintext channels, the ciphertext envelopes of encrypted ones,
/// which only members' clients can read), `index.html` and a page per
/// plaintext channel to browse offline, `files.json` and `files/`.
/// Confirmed with the password, which counts against the account's login
/// throttle.
#[utoipa::path(post, path = "/api/rooms/{id}/export", operation_id = "export_room", tag = "rooms",
    params(("id" = i64, Path, description = "Room id")),
    request_body = PasswordBody,
    responses(
        (status = 200, content_type = "application/zip", description = "The archive, streamed"),
        (status = 401, body = ErrorBody, description = "Wrong password (`invalid_credentials`)"),
        (status = 403, body = ErrorBody, description = "Only the room's owner exports it"),
        (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "Other exports are being written; try again shortly"),
    ))]
pub async fn export_room(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Response, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::ExportHistory)?;
    confirm_password(&state, &user, body.password).await?;
    let room = access.room.clone();
    let file_name = format!("securechat-room-{}-{}", room.id, room.name);
    let state = state.clone();
    crate::archive::download("room export", &file_name, move |out| async move {
        export::write(&state.db, &state.files, room, out).await
    })
}
