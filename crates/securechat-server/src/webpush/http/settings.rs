//! Notification settings: the caller's own (`/api/push/settings`:
//! do-not-disturb hours, no content in pushes) and theirs for one channel
//! (`/api/channels/{id}/notifications`: level and mute, members only).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath};
use crate::rooms::access::RoomAccess;
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};
use crate::webpush::decide::{DAY_MINUTES, Level};
use crate::webpush::store::settings::{self, AccountSettings, ChannelSettings};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(get_channel, put_channel))
}

/// Do-not-disturb hours in the person's own time: no pushes from `start`
/// until `end` (minutes after midnight; `start` after `end` runs over
/// midnight), in `utc_offset` minutes from UTC.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub struct DndHours {
    #[schema(minimum = 0, maximum = 1439)]
    pub start: i64,
    #[schema(minimum = 0, maximum = 1439)]
    pub end: i64,
    /// Minutes east of UTC (e.g. 60 for UTC+1), from -720 to 840.
    #[schema(minimum = -720, maximum = 840)]
    pub utc_offset: i64,
}

/// The caller's notification settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PushSettings {
    /// Pushes about plaintext channels leave out the text (sender and
    /// channel only). Encrypted channels' pushes never carry any.
    #[serde(default)]
    pub no_content: bool,
    /// Do-not-disturb hours, or null for none.
    #[serde(default)]
    pub dnd: Option<DndHours>,
}

#[derive(Serialize, ToSchema)]
pub struct PushSettingsResponse {
    pub success: bool,
    #[serde(flatten)]
    pub settings: PushSettings,
}

fn view(stored: &AccountSettings) -> PushSettingsResponse {
    let dnd = match (stored.dnd_start, stored.dnd_end) {
        (Some(start), Some(end)) => Some(DndHours {
            start,
            end,
            utc_offset: stored.utc_offset,
        }),
        _ => None,
    };
    PushSettingsResponse {
        success: true,
        settings: PushSettings {
            no_content: stored.no_content,
            dnd,
        },
    }
}

/// The caller's notification settings.
#[utoipa::path(get, path = "/api/push/settings", operation_id = "get_push_settings", tag = "push",
    responses((status = 200, body = PushSettingsResponse)))]
async fn get_settings(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<PushSettingsResponse>, Error> {
    Ok(axum::Json(view(
        &settings::account(&state.db, user.id).await?,
    )))
}

/// Replaces the caller's notification settings.
#[utoipa::path(put, path = "/api/push/settings", operation_id = "put_push_settings", tag = "push",
    request_body = PushSettings,
    responses((status = 200, body = PushSettingsResponse),
        (status = 422, body = ErrorBody, description = "Hours outside 0-1439, the same start and end, or an offset outside -720..840 (`invalid_dnd`)")))]
async fn put_settings(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(input): ApiJson<PushSettings>,
) -> Result<axum::Json<PushSettingsResponse>, Error> {
    let mut stored = AccountSettings {
        no_content: input.no_content,
        ..AccountSettings::default()
    };
    if let Some(dnd) = input.dnd {
        let minute = 0..DAY_MINUTES;
        if !minute.contains(&dnd.start)
            || !minute.contains(&dnd.end)
            || dnd.start == dnd.end
            || !(-720..=840).contains(&dnd.utc_offset)
        {
            return Err(Error::unprocessable(
                "invalid_dnd",
                "dnd.start and dnd.end are different minutes from 0 to 1439, and dnd.utc_offset \
                 is minutes from UTC, -720 to 840",
            ));
        }
        stored.dnd_start = Some(dnd.start);
        stored.dnd_end = Some(dnd.end);
        stored.utc_offset = dnd.utc_offset;
    }
    settings::put_account(&state.db, user.id, &stored, now_ms()).await?;
    Ok(axum::Json(view(&stored)))
}

/// A level of notifications for a channel.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LevelName {
    /// Every message.
    All,
    /// Messages that mention the person (`@name`, `@channel`, `@here`,
    /// `@everyone`); in encrypted channels the device decides.
    Mentions,
    /// Nothing.
    None,
}

impl From<LevelName> for Level {
    fn from(name: LevelName) -> Self {
        match name {
            LevelName::All => Level::All,
            LevelName::Mentions => Level::Mentions,
            LevelName::None => Level::None,
        }
    }
}

impl From<Level> for LevelName {
    fn from(level: Level) -> Self {
        match level {
            Level::All => LevelName::All,
            Level::Mentions => LevelName::Mentions,
            Level::None => LevelName::None,
        }
    }
}

/// The caller's setting for one channel.
#[derive(Deserialize, ToSchema)]
pub struct ChannelNotificationsInput {
    /// The level, or null for the default (every message in a DM,
    /// mentions elsewhere).
    #[serde(default)]
    pub level: Option<LevelName>,
    /// No pushes from this channel until then (RFC 3339), or null.
    #[serde(default)]
    #[schema(format = DateTime)]
    pub mute_until: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelNotifications {
    pub success: bool,
    pub channel_id: i64,
    /// The level chosen, or null for the default.
    pub level: Option<LevelName>,
    /// The level in force: the chosen one, or the default.
    pub effective_level: LevelName,
    /// Muted until then (RFC 3339), or null.
    pub mute_until: Option<String>,
}

fn channel_view(channel_id: i64, is_dm: bool, stored: &ChannelSettings) -> ChannelNotifications {
    let level = stored.level.as_deref().and_then(Level::parse);
    ChannelNotifications {
        success: true,
        channel_id,
        level: level.map(LevelName::from),
        effective_level: level.unwrap_or(Level::default_for(is_dm)).into(),
        mute_until: stored.mute_until.map(rfc3339),
    }
}

/// A time in RFC 3339 as UTC milliseconds, within the years 1970-9999.
fn parse_time(value: &str) -> Result<i64, Error> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(value, &Rfc3339)
        .ok()
        .and_then(|t| i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok())
        .filter(|ms| (0..253_402_300_800_000).contains(ms))
        .ok_or_else(|| {
            Error::unprocessable(
                "invalid_mute_until",
                "mute_until must be an RFC 3339 time between 1970 and 9999, e.g. 2030-01-31T18:00:00Z",
            )
        })
}

/// The caller's notification setting for a channel (members only).
#[utoipa::path(get, path = "/api/channels/{id}/notifications", operation_id = "get_channel_notifications", tag = "push",
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = ChannelNotifications), (status = 404, body = ErrorBody)))]
async fn get_channel(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<ChannelNotifications>, Error> {
    let (access, _) = RoomAccess::member_channel(&state.db, &user, id).await?;
    let stored = settings::channel(&state.db, user.id, id).await?;
    Ok(axum::Json(channel_view(
        id,
        access.room.kind == "dm",
        &stored,
    )))
}

/// Sets the caller's notification setting for a channel (members only).
#[utoipa::path(put, path = "/api/channels/{id}/notifications", operation_id = "put_channel_notifications", tag = "push",
    request_body = ChannelNotificationsInput,
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = ChannelNotifications), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "mute_until is not an RFC 3339 time between 1970 and 9999 (`invalid_mute_until`)")))]
async fn put_channel(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ChannelNotificationsInput>,
) -> Result<axum::Json<ChannelNotifications>, Error> {
    let (access, _) = RoomAccess::member_channel(&state.db, &user, id).await?;
    let stored = ChannelSettings {
        level: input.level.map(|l| Level::from(l).as_str().to_owned()),
        mute_until: input.mute_until.as_deref().map(parse_time).transpose()?,
    };
    if !settings::put_channel(&state.db, user.id, id, &stored, now_ms()).await? {
        return Err(Error::not_found(
            "channel_gone",
            "This channel was deleted meanwhile",
        ));
    }
    Ok(axum::Json(channel_view(
        id,
        access.room.kind == "dm",
        &stored,
    )))
}
