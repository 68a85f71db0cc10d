//! `/api/reminders`: set, list and cancel one's own reminders.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, Reminder};
use super::{MAX_AHEAD_MS, MAX_NOTE, MAX_PENDING};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, Success};
use crate::rooms::access::RoomAccess;
use crate::state::AppState;
use crate::storage::now_ms;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(delete))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReminder {
    /// The channel to come back to (one of the caller's).
    pub channel_id: i64,
    /// When, in ms since the epoch: in the future, within a year.
    pub due_at: i64,
    /// What to be reminded of (at most 1000 characters), in a plaintext
    /// channel only: in an encrypted one the server keeps no text the
    /// person typed, and the reminder brings them back to the channel.
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReminderResponse {
    pub success: bool,
    pub reminder: Reminder,
}

#[derive(Serialize, ToSchema)]
pub struct RemindersResponse {
    pub success: bool,
    /// Pending, soonest first.
    pub reminders: Vec<Reminder>,
}

/// Sets a reminder: at `due_at` every socket of the caller gets
/// `reminder_due`. At most 100 pending per person.
#[utoipa::path(post, path = "/api/reminders", operation_id = "create_reminder", tag = "reminders",
    request_body = NewReminder,
    responses((status = 201, body = ReminderResponse),
        (status = 404, body = ErrorBody, description = "Not a channel of the caller's"),
        (status = 409, body = ErrorBody, description = "100 reminders pending (`too_many_reminders`)"),
        (status = 422, body = ErrorBody, description = "A time in the past or more than a year ahead (`invalid_due_at`), a note too long or with control characters (`invalid_note`), or a note in an encrypted channel (`note_in_encrypted_channel`)")))]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<NewReminder>,
) -> Result<(StatusCode, axum::Json<ReminderResponse>), Error> {
    let (_, channel) = RoomAccess::member_channel(&state.db, &user, body.channel_id).await?;
    let now = now_ms();
    if body.due_at <= now || body.due_at > now.saturating_add(MAX_AHEAD_MS) {
        return Err(Error::unprocessable(
            "invalid_due_at",
            "A reminder is for a time in the future, at most a year ahead",
        ));
    }
    let note = match body.note.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(_) if channel.is_encrypted => {
            return Err(Error::unprocessable(
                "note_in_encrypted_channel",
                "In an encrypted channel a reminder keeps no note (the server would read it); \
                 set it without one",
            ));
        }
        Some(text) if text.chars().count() > MAX_NOTE => {
            return Err(Error::unprocessable(
                "invalid_note",
                format!("A reminder's note is at most {MAX_NOTE} characters"),
            ));
        }
        Some(text) => Some(crate::text::text(text).map_err(|refused| {
            Error::unprocessable("invalid_note", format!("The note {}", refused.reason()))
        })?),
    };
    let stored = store::insert(
        &state.db,
        user.id,
        channel.id,
        note.as_deref(),
        body.due_at,
        now,
        MAX_PENDING,
    )
    .await?
    .ok_or_else(|| {
        Error::conflict(
            "too_many_reminders",
            format!("You have {MAX_PENDING} reminders pending; cancel some first"),
        )
    })?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ReminderResponse {
            success: true,
            reminder: stored,
        }),
    ))
}

/// The caller's pending reminders, soonest first.
#[utoipa::path(get, path = "/api/reminders", operation_id = "list_reminders", tag = "reminders",
    responses((status = 200, body = RemindersResponse)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<RemindersResponse>, Error> {
    Ok(axum::Json(RemindersResponse {
        success: true,
        reminders: store::pending(&state.db, user.id).await?,
    }))
}

/// Cancels one of the caller's pending reminders.
#[utoipa::path(delete, path = "/api/reminders/{id}", operation_id = "delete_reminder", tag = "reminders",
    params(("id" = i64, Path, description = "Reminder id")),
    responses((status = 200, body = Success), (status = 404, body = ErrorBody)))]
async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<Success>, Error> {
    if !store::delete(&state.db, user.id, id).await? {
        return Err(Error::not_found(
            "reminder_not_found",
            "No such pending reminder of yours",
        ));
    }
    Ok(axum::Json(Success::new()))
}
