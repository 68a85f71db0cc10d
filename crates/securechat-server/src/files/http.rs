//! `POST /api/channels/{id}/files` (upload), `GET /api/files/{id}`
//! (download), `GET /api/channels/{id}/files` (a channel's files).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::blob::PutError;
use super::naming::{self, content_disposition, raster_image_type};
use super::store::{self, FileRow, NewFile};
use super::view::FileView;
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiPath, ApiQuery};
use crate::messages::service;
use crate::messages::view::MessageView;
use crate::push::{Audience, ServerEvent};
use crate::rooms::access::RoomAccess;
use crate::rooms::model::Action;
use crate::state::AppState;
use crate::storage::now_ms;

/// The first two bytes of the crypto crate's encrypted-file format.
const ENCRYPTED_FILE_MAGIC: [u8; 2] = [0x08, 0x01];
const MIB: u64 = 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload, list))
        .routes(routes!(download))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name (plaintext channels only; in an encrypted channel
    /// the name travels inside the encrypted message).
    pub name: Option<String>,
    /// Text of the message that carries the file (plaintext channels).
    pub caption: Option<String>,
    /// Idempotency key of that message, as for `send_message`.
    pub client_msg_id: Option<String>,
    /// Post the file as a reply in this message's thread (plaintext
    /// channels; as for `send_message`).
    pub thread_root_id: Option<i64>,
    /// With `thread_root_id`: show the reply in the channel too.
    #[serde(default)]
    pub also_send_to_channel: bool,
}

/// The file's bytes, as they are (ciphertext in an encrypted channel).
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileBytes(#[expect(dead_code, reason = "only its schema is used")] Vec<u8>);

#[derive(Serialize, ToSchema)]
pub struct Uploaded {
    pub success: bool,
    pub file: FileView,
    /// The message posted with the file (plaintext channels). In an
    /// encrypted channel the client posts its encrypted message itself,
    /// naming `file.id` as `file_id`.
    pub message: Option<MessageView>,
}

fn too_large(limit: u64, quota_left: Option<u64>) -> Error {
    let message = match quota_left {
        Some(left) => format!(
            "This file does not fit in your storage quota: {:.1} MB left. Delete files you \
             posted to free space",
            left as f64 / MIB as f64
        ),
        None => format!("Files are limited to {} MB", limit / MIB),
    };
    Error::PayloadTooLarge {
        message: message.into(),
    }
}

/// Uploads one file to a channel, streaming the request body (any type)
/// to the file store; more than `MAX_UPLOAD_MB` or the user's remaining
/// quota is refused as soon as it is passed.
#[utoipa::path(post, path = "/api/channels/{id}/files", operation_id = "upload_file", tag = "files",
    params(("id" = i64, Path, description = "Channel id"), UploadQuery),
    request_body(content = FileBytes, content_type = "application/octet-stream"),
    responses((status = 201, body = Uploaded), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "Too large, or over quota"),
        (status = 422, body = ErrorBody)))]
async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(channel_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, axum::Json<Uploaded>), Error> {
    let (access, channel) = RoomAccess::member_channel(&state.db, &user, channel_id).await?;
    access.require(Action::AddResources)?;
    let name = match (channel.is_encrypted, query.name.as_deref()) {
        (true, Some(_)) => {
            return Err(Error::unprocessable(
                "name_in_encrypted_channel",
                "In an encrypted channel the file's name travels inside the encrypted \
                 message; upload without a name",
            ));
        }
        (true, None) => String::new(),
        (false, Some(name)) => naming::sanitize_name(name),
        (false, None) => {
            return Err(Error::unprocessable(
                "missing_name",
                "Give the file's name as ?name=",
            ));
        }
    };
    // Everything the request says is checked before a byte is stored.
    if let Some(caption) = &query.caption {
        service::check_text(caption)?;
    }
    if let Some(id) = &query.client_msg_id {
        service::check_client_msg_id(id)?;
    }
    let config = &state.files.config;
    let used = u64::try_from(store::used_by(&state.db, user.id).await?).unwrap_or(0);
    let quota_left = config.quota.saturating_sub(used);
    let (limit, by_quota) = if quota_left < config.max_upload {
        (quota_left, true)
    } else {
        (config.max_upload, false)
    };
    let refuse = || too_large(config.max_upload, by_quota.then_some(quota_left));
    let declared = crate::http::declared_length(&headers);
    if declared.is_some_and(|n| n > limit) || limit == 0 {
        return Err(refuse());
    }

    let key = super::new_storage_key()?;
    let stored = match state
        .files
        .blobs
        .put(&key, body.into_data_stream(), limit)
        .await
    {
        Ok(stored) => stored,
        Err(PutError::TooLarge { .. }) => return Err(refuse()),
        Err(PutError::Body(reason)) => {
            return Err(Error::bad_request(
                "upload_interrupted",
                format!("The upload did not arrive whole ({reason}); send it again"),
            ));
        }
        Err(PutError::Store(e)) => return Err(Error::Internal(e.into())),
    };
    if channel.is_encrypted && !stored.head.starts_with(&ENCRYPTED_FILE_MAGIC) {
        super::cleanup::delete_blob(&state.files.blobs, &key).await;
        return Err(Error::unprocessable(
            "not_encrypted",
            "This channel is end-to-end encrypted: upload the file encrypted by the client \
             (the Securechat encrypted-file format), never its plaintext",
        ));
    }
    let content_type = match (channel.is_encrypted, raster_image_type(&stored.head)) {
        (false, Some(image)) => image,
        _ => "application/octet-stream",
    };
    let sha256 = naming::hex(&stored.sha256);
    let new = NewFile {
        channel_id,
        uploader_id: user.id,
        storage_key: &key,
        name: &name,
        content_type,
        size: i64::try_from(stored.size).unwrap_or(i64::MAX),
        sha256: &sha256,
        is_encrypted: channel.is_encrypted,
        now: now_ms(),
    };
    let file_id = match store::insert(&state.db, &new, config.quota).await {
        Ok(Some(id)) => id,
        Ok(None) => {
            // Parallel uploads used the quota up meanwhile.
            super::cleanup::delete_blob(&state.files.blobs, &key).await;
            let used = u64::try_from(store::used_by(&state.db, user.id).await?).unwrap_or(0);
            return Err(too_large(
                config.max_upload,
                Some(config.quota.saturating_sub(used)),
            ));
        }
        Err(e) => {
            super::cleanup::delete_blob(&state.files.blobs, &key).await;
            return Err(e.into());
        }
    };
    let (message, file_id) = if channel.is_encrypted {
        (None, file_id)
    } else {
        let client_msg_id = query
            .client_msg_id
            .unwrap_or_else(|| format!("file-{file_id}"));
        let posted = service::post_file(
            &state,
            &user,
            &channel,
            file_id,
            query.caption.as_deref(),
            &client_msg_id,
            service::ThreadTarget {
                root_id: query.thread_root_id,
                also_send_to_channel: query.also_send_to_channel,
            },
        )
        .await;
        match posted {
            Ok((row, true)) => {
                let view = MessageView::from(&row);
                announce(&state, &view);
                crate::threads::replied(&state, &row).await;
                (Some(view), file_id)
            }
            // A retry of an upload that was posted: the first try's message
            // and file stand, and this copy is not kept.
            Ok((row, false)) => {
                super::cleanup::purge(&state.db, &state.files.blobs, file_id, &key).await?;
                let first = row.file_id.ok_or_else(not_found)?;
                (Some(MessageView::from(&row)), first)
            }
            // The request failed: nothing of it is kept.
            Err(e) => {
                super::cleanup::purge(&state.db, &state.files.blobs, file_id, &key).await?;
                return Err(e);
            }
        }
    };
    let file = store::live(&state.db, file_id)
        .await?
        .ok_or_else(not_found)?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Uploaded {
            success: true,
            file: FileView::from(&file),
            message,
        }),
    ))
}

fn not_found() -> Error {
    Error::not_found("file_not_found", "No such file in a channel of yours")
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DownloadQuery {
    /// Show a raster image (PNG, JPEG, GIF, WebP) in the page instead of
    /// downloading it. Ignored for every other type.
    #[serde(default)]
    pub inline: bool,
}

/// Downloads a file: channel members only (404 to everyone else); checked
/// against its SHA-256 while it streams.
#[utoipa::path(get, path = "/api/files/{id}", operation_id = "download_file", tag = "files",
    params(("id" = i64, Path, description = "File id"), DownloadQuery),
    responses((status = 200, description = "The bytes: `application/octet-stream`, or the image's own type when shown inline",
            content((FileBytes = "application/octet-stream"), (FileBytes = "image/png"),
                (FileBytes = "image/jpeg"), (FileBytes = "image/gif"), (FileBytes = "image/webp"))),
        (status = 404, body = ErrorBody)))]
async fn download(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DownloadQuery>,
) -> Result<Response, Error> {
    let file = readable(&state, &user, id).await?;
    let stream = state
        .files
        .blobs
        .get(&file.storage_key)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("blob of file {id} unreadable: {e}")))?;
    let inline = query.inline && !file.is_encrypted && file.content_type.starts_with("image/");
    let body = Body::from_stream(verified(stream, file.id, file.sha256.clone()));
    let disposition = if file.is_encrypted {
        format!("attachment; filename=\"file-{}.bin\"", file.id)
    } else {
        content_disposition(inline, &file.name)
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    let content_type = if inline {
        file.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    for (name, value) in [
        (header::CONTENT_TYPE, content_type.to_owned()),
        (header::CONTENT_LENGTH, file.size.to_string()),
        (header::CONTENT_DISPOSITION, disposition),
        (
            header::CONTENT_SECURITY_POLICY,
            "sandbox; default-src 'none'".to_owned(),
        ),
        (header::CACHE_CONTROL, "private, no-cache".to_owned()),
        (header::ETAG, format!("\"{}\"", file.sha256)),
    ] {
        let value = HeaderValue::from_str(&value)
            .map_err(|e| Error::Internal(anyhow::anyhow!("header for file {id}: {e}")))?;
        h.insert(name, value);
    }
    Ok(response)
}

/// A file the user may read: live, in a channel of theirs, and posted
/// (or their own upload, before they post it).
async fn readable(state: &AppState, user: &AuthUser, id: i64) -> Result<FileRow, Error> {
    let file = store::live(&state.db, id).await?.ok_or_else(not_found)?;
    RoomAccess::member_channel(&state.db, user, file.channel_id)
        .await
        .map_err(|_| not_found())?;
    if file.message_id.is_none()
        && file.uploader_id != Some(user.id)
        && !attached(state, id).await?
    {
        return Err(not_found());
    }
    Ok(file)
}

async fn attached(state: &AppState, file_id: i64) -> Result<bool, Error> {
    Ok(crate::resources::store::file_in_use(&state.db, file_id).await?)
}

/// The blob's bytes, checked against the SHA-256 recorded at upload. The
/// last chunk is held back until the hash is known: on a mismatch the
/// stream fails before the body is complete, so the client (which was told
/// the full `Content-Length`) sees a broken download, never wrong bytes.
fn verified(
    stream: futures_util::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>,
    file_id: i64,
    expected: String,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    struct Check {
        stream: futures_util::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>,
        hasher: Sha256,
        held: Option<bytes::Bytes>,
        expected: String,
        done: bool,
    }
    let check = Check {
        stream,
        hasher: Sha256::new(),
        held: None,
        expected,
        done: false,
    };
    futures_util::stream::unfold(check, move |mut c| async move {
        if c.done {
            return None;
        }
        loop {
            match c.stream.next().await {
                Some(Ok(chunk)) => {
                    c.hasher.update(&chunk);
                    if let Some(previous) = c.held.replace(chunk) {
                        return Some((Ok(previous), c));
                    }
                }
                Some(Err(e)) => {
                    c.done = true;
                    return Some((Err(std::io::Error::other(e)), c));
                }
                None => {
                    c.done = true;
                    let actual = naming::hex(&std::mem::take(&mut c.hasher).finalize());
                    if actual != c.expected {
                        tracing::error!(file_id, "stored file does not match its SHA-256");
                        return Some((Err(std::io::Error::other("stored file is corrupt")), c));
                    }
                    return c.held.take().map(|last| (Ok(last), c));
                }
            }
        }
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Files posted before this one (the last id of the previous page).
    pub before: Option<i64>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct FileList {
    pub success: bool,
    /// Newest first.
    pub files: Vec<FileView>,
}

/// The files posted in a channel, newest first.
#[utoipa::path(get, path = "/api/channels/{id}/files", operation_id = "list_files", tag = "files",
    params(("id" = i64, Path, description = "Channel id"), ListQuery),
    responses((status = 200, body = FileList), (status = 404, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(channel_id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<axum::Json<FileList>, Error> {
    RoomAccess::member_channel(&state.db, &user, channel_id).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let rows = store::of_channel(&state.db, channel_id, query.before, limit).await?;
    Ok(axum::Json(FileList {
        success: true,
        files: rows.iter().map(FileView::from).collect(),
    }))
}

/// Pushes a message posted over HTTP to the sockets that joined its
/// channel, as `send_message` does for a message sent over a socket.
fn announce(state: &AppState, message: &MessageView) {
    let to = Audience::Channel(message.channel_id);
    state
        .notify
        .push(ServerEvent::NewMessage(message.clone()), to);
}
