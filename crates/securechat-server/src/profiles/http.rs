//! `PATCH /api/users/me/profile`, `GET /api/users/{id}/profile`,
//! `PUT`/`DELETE /api/users/me/avatar`, `GET /api/users/{id}/avatar`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::avatar;
use super::store::{self, Change};
use super::view::{Availability, ProfileView};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use crate::storage::now_ms;

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME: usize = 64;
/// Longest status text, in characters.
pub const MAX_STATUS: usize = 140;
/// Longest status emoji, in characters (a flag or a family is several).
pub const MAX_EMOJI: usize = 16;
/// Latest status expiry: a year from now, in ms.
const MAX_EXPIRY_MS: i64 = 366 * 24 * 3600 * 1000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(update))
        .routes(routes!(show))
        .routes(routes!(upload_avatar, delete_avatar))
        .routes(routes!(avatar))
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// A profile change: absent fields are kept, `null` clears.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileChange {
    /// Shown instead of the username; null clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub display_name: Option<Option<String>>,
    /// Status text; null (with the emoji null) clears the status.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 140)]
    pub status_text: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 16)]
    pub status_emoji: Option<Option<String>>,
    /// When the status stops being shown (ms since the epoch, within a
    /// year); null: until changed. Only with a status.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, minimum = 0, maximum = 9_999_999_999_999_i64)]
    pub status_expires_at: Option<Option<i64>>,
    pub availability: Option<Availability>,
}

#[derive(Serialize, ToSchema)]
pub struct ProfileResponse {
    pub success: bool,
    pub profile: ProfileView,
}

fn refuse(code: &'static str, field: &str, reason: &str) -> Error {
    Error::unprocessable(code, format!("{field} {reason}"))
}

/// A bounded, NFKC-normalised text without controls; empty clears it.
fn checked(
    value: Option<String>,
    max: usize,
    code: &'static str,
    field: &str,
) -> Result<Option<String>, Error> {
    let Some(value) = value else { return Ok(None) };
    let value = crate::text::text(&value).map_err(|r| refuse(code, field, r.reason()))?;
    if value.contains('\n') {
        return Err(refuse(code, field, "must be one line"));
    }
    if value.chars().count() > max {
        return Err(refuse(
            code,
            field,
            &format!("must be at most {max} characters"),
        ));
    }
    Ok((!value.is_empty()).then_some(value))
}

impl ProfileChange {
    fn into_change(self, now: i64) -> Result<Change, Error> {
        let display_name = match self.display_name {
            None => None,
            Some(v) => Some(checked(
                v,
                MAX_DISPLAY_NAME,
                "invalid_display_name",
                "The display name",
            )?),
        };
        let touches_status = self.status_text.is_some()
            || self.status_emoji.is_some()
            || self.status_expires_at.is_some();
        let status = if touches_status {
            let text = checked(
                self.status_text.flatten(),
                MAX_STATUS,
                "invalid_status",
                "The status",
            )?;
            let emoji = checked(
                self.status_emoji.flatten(),
                MAX_EMOJI,
                "invalid_status_emoji",
                "The status emoji",
            )?;
            if emoji.as_deref().is_some_and(|e| e.contains(' ')) {
                return Err(refuse(
                    "invalid_status_emoji",
                    "The status emoji",
                    "must not contain spaces",
                ));
            }
            let expires = self.status_expires_at.flatten();
            if let Some(at) = expires
                && (at <= now || at > now.saturating_add(MAX_EXPIRY_MS))
            {
                return Err(refuse(
                    "invalid_status_expiry",
                    "The status expiry",
                    "must be in the future and within a year",
                ));
            }
            let empty = text.is_none() && emoji.is_none();
            Some((text, emoji, if empty { None } else { expires }))
        } else {
            None
        };
        Ok(Change {
            display_name,
            status,
            availability: self.availability.map(|a| a.as_str().to_owned()),
        })
    }
}

/// Changes the caller's display name, status or availability. Everyone
/// who shares a room with them gets `profile_updated`.
#[utoipa::path(patch, path = "/api/users/me/profile", operation_id = "update_profile",
    tag = "profiles", request_body = ProfileChange,
    responses((status = 200, body = ProfileResponse), (status = 422, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<ProfileChange>,
) -> Result<axum::Json<ProfileResponse>, Error> {
    let now = now_ms();
    let change = body.into_change(now)?;
    let row = store::update(&state.db, user.id, &change, now).await?;
    let profile = ProfileView::of(&row, now);
    super::announce(&state, &profile).await;
    Ok(axum::Json(ProfileResponse {
        success: true,
        profile,
    }))
}

/// Someone's profile: yourself, someone you share a room with, or anyone
/// for a site admin (404 otherwise).
#[utoipa::path(get, path = "/api/users/{id}/profile", operation_id = "show_profile",
    tag = "profiles", params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = ProfileResponse), (status = 404, body = ErrorBody)))]
async fn show(
    State(state): State<AppState>,
    viewer: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<ProfileResponse>, Error> {
    super::visible(&state, &viewer, id).await?;
    let row = store::get(&state.db, id).await?;
    Ok(axum::Json(ProfileResponse {
        success: true,
        profile: ProfileView::of(&row, now_ms()),
    }))
}

/// The picture's bytes: PNG, JPEG, WebP or GIF, recognised by its bytes.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ImageBytes(#[expect(dead_code, reason = "only its schema is used")] Vec<u8>);

fn body_too_large() -> Error {
    Error::PayloadTooLarge {
        message: format!(
            "Avatar uploads are limited to {} MB; scale the picture down and upload it again",
            avatar::MAX_BYTES / (1024 * 1024)
        )
        .into(),
    }
}

/// Sets the caller's avatar from a picture (the request body), at most
/// 10 MB and 4096×4096 pixels; kept as 256- and 64-pixel squares, PNG,
/// without any of the picture's metadata.
#[utoipa::path(put, path = "/api/users/me/avatar", operation_id = "upload_avatar",
    tag = "profiles",
    request_body(content = ImageBytes, content_type = "application/octet-stream"),
    responses((status = 200, body = ProfileResponse),
        (status = 413, body = ErrorBody, description = "More than 10 MB"),
        (status = 415, body = ErrorBody, description = "Not a PNG, JPEG, WebP or GIF"),
        (status = 422, body = ErrorBody,
            description = "Unreadable (`invalid_image`), or too many pixels (`image_too_large`)")))]
async fn upload_avatar(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::Json<ProfileResponse>, Error> {
    let declared = crate::http::declared_length(&headers);
    if declared.is_some_and(|n| n > avatar::MAX_BYTES) {
        return Err(body_too_large());
    }
    // Read with the bound counted as it arrives, as file uploads are.
    let mut bytes = Vec::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            Error::bad_request(
                "upload_interrupted",
                format!("The upload did not arrive whole ({e}); send it again"),
            )
        })?;
        if bytes.len() as u64 + chunk.len() as u64 > avatar::MAX_BYTES {
            return Err(body_too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    let renditions = avatar::process(bytes).await?;
    let row = super::replace_avatar(&state, user.id, Some(renditions)).await?;
    let profile = ProfileView::of(&row, now_ms());
    super::announce(&state, &profile).await;
    Ok(axum::Json(ProfileResponse {
        success: true,
        profile,
    }))
}

/// Removes the caller's avatar.
#[utoipa::path(delete, path = "/api/users/me/avatar", operation_id = "delete_avatar",
    tag = "profiles", responses((status = 200, body = ProfileResponse)))]
async fn delete_avatar(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<ProfileResponse>, Error> {
    let row = super::replace_avatar(&state, user.id, None).await?;
    let profile = ProfileView::of(&row, now_ms());
    super::announce(&state, &profile).await;
    Ok(axum::Json(ProfileResponse {
        success: true,
        profile,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvatarQuery {
    /// The version from `avatar_url`: with the current one the answer may
    /// be cached for good.
    #[param(minimum = 0)]
    pub v: Option<i64>,
    /// 256 (default) or 64 pixels square.
    #[param(inline)]
    pub size: Option<AvatarSize>,
}

/// An avatar's rendition, by its side in pixels.
#[derive(Clone, Copy, Deserialize, ToSchema)]
pub enum AvatarSize {
    #[serde(rename = "256")]
    Large,
    #[serde(rename = "64")]
    Small,
}

/// Someone's avatar (PNG), for signed-in people whose profile it is
/// visible to. Cached for good when `v` is the current version.
#[utoipa::path(get, path = "/api/users/{id}/avatar", operation_id = "show_avatar",
    tag = "profiles", params(("id" = i64, Path, description = "User id"), AvatarQuery),
    responses((status = 200, description = "The PNG", content_type = "image/png"),
        (status = 304, description = "Not modified"),
        (status = 404, body = ErrorBody)))]
async fn avatar(
    State(state): State<AppState>,
    viewer: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<AvatarQuery>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    super::visible(&state, &viewer, id).await?;
    let no_avatar = || Error::not_found("no_avatar", "This person has no avatar");
    let row = store::get(&state.db, id).await?;
    let small = matches!(query.size, Some(AvatarSize::Small));
    let key = if small {
        row.avatar_small_key
    } else {
        row.avatar_key
    };
    let key = key.ok_or_else(no_avatar)?;
    let etag = format!(
        "\"{}-{}\"",
        row.avatar_version,
        if small { avatar::SMALL } else { avatar::LARGE }
    );
    let cache = if query.v == Some(row.avatar_version) {
        "private, max-age=31536000, immutable"
    } else {
        "private, no-cache"
    };
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response =
        if unchanged {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let stream =
                state.files.blobs.get(&key).await.map_err(|e| {
                    Error::Internal(anyhow::anyhow!("avatar of {id} unreadable: {e}"))
                })?;
            let mut r = Body::from_stream(stream).into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
            r
        };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag)
            .map_err(|e| Error::Internal(anyhow::anyhow!("avatar etag: {e}")))?,
    );
    Ok(response)
}
