//! Saved messages: each person's private bookmarks of messages they can
//! read. Changes are pushed as `saved_updated` to the person's sockets
//! only (all of them: an HTTP request has no acting socket to leave out).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, Saved};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiPath, ApiQuery, Success};
use crate::messages::store as messages;
use crate::messages::view::MessageView;
use crate::push::{Audience, SavedUpdated, ServerEvent};
use crate::rooms::access::RoomAccess;
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};

/// The most messages one person keeps saved.
pub const MAX_SAVED: i64 = 1000;
/// Default and largest page size.
const DEFAULT_PAGE: i64 = 50;
const MAX_PAGE: i64 = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(save, unsave))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SavedQuery {
    /// The `next` value of the previous page.
    #[param(pattern = r"^([0-9]{1,18}\.[0-9]{1,18})?$")]
    pub before: Option<String>,
    /// 1-100, default 50.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct SavedView {
    pub message: MessageView,
    /// The message's room (its channel is `message.channel_id`).
    pub room_id: i64,
    pub saved_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct SavedPage {
    pub success: bool,
    /// Most recently saved first.
    pub saved: Vec<SavedView>,
    /// Pass as `before` for the next page; null on the last page.
    pub next: Option<String>,
}

/// `saved_at.message_id`, the position after which the next page starts.
fn parse_cursor(before: &str) -> Result<(i64, i64), Error> {
    let bad = || Error::bad_request("invalid_cursor", "before must be a `next` value");
    let (at, id) = before.split_once('.').ok_or_else(bad)?;
    Ok((
        at.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

/// The caller's saved messages, newest saved first: live messages of
/// rooms they are a member of now.
#[utoipa::path(get, path = "/api/saved", operation_id = "list_saved", tag = "pins",
    params(SavedQuery),
    responses((status = 200, body = SavedPage), (status = 400, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<SavedQuery>,
) -> Result<axum::Json<SavedPage>, Error> {
    let before = match query.before.as_deref().filter(|b| !b.is_empty()) {
        Some(b) => parse_cursor(b)?,
        None => (i64::MAX, i64::MAX),
    };
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let mut rows = store::saved_page(&state.db, user.id, before, limit + 1, now_ms()).await?;
    let page = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > page;
    rows.truncate(page);
    let next = match rows.last() {
        Some(last) if more => Some(format!("{}.{}", last.saved_at, last.message.id)),
        _ => None,
    };
    let saved = rows
        .iter()
        .map(|r| SavedView {
            message: MessageView::from(&r.message),
            room_id: r.room_id,
            saved_at: rfc3339(r.saved_at),
        })
        .collect();
    Ok(axum::Json(SavedPage {
        success: true,
        saved,
        next,
    }))
}

/// Saves a message the caller can read. Saving it again changes nothing.
#[utoipa::path(put, path = "/api/saved/{message_id}", operation_id = "save_message", tag = "pins",
    params(("message_id" = i64, Path, description = "Message id")),
    responses((status = 200, body = Success), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn save(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(message_id): ApiPath<i64>,
) -> Result<axum::Json<Success>, Error> {
    let message = messages::by_id(&state.db, message_id)
        .await?
        .filter(|m| m.deleted_at.is_none())
        .ok_or_else(message_not_found)?;
    // Outsiders learn nothing: their refusal is the channel's 404.
    RoomAccess::member_channel(&state.db, &user, message.channel_id).await?;
    match store::save(&state.db, user.id, message_id, now_ms(), MAX_SAVED).await? {
        Saved::Done => {}
        Saved::NoMessage => return Err(message_not_found()),
        Saved::Full => {
            return Err(Error::conflict(
                "too_many_saved",
                format!("You can keep at most {MAX_SAVED} saved messages; remove one first"),
            ));
        }
    }
    tell_me(&state, &user, message_id, true);
    Ok(axum::Json(Success::new()))
}

fn message_not_found() -> Error {
    Error::not_found(
        "message_not_found",
        "No such message, or you cannot read it",
    )
}

fn tell_me(state: &AppState, user: &AuthUser, message_id: i64, saved: bool) {
    state.notify.push(
        ServerEvent::SavedUpdated(SavedUpdated { message_id, saved }),
        Audience::Users(vec![user.id]),
    );
}

/// Removes a message from the caller's saved messages; 404 if it was not
/// there.
#[utoipa::path(delete, path = "/api/saved/{message_id}", operation_id = "unsave_message", tag = "pins",
    params(("message_id" = i64, Path, description = "Message id")),
    responses((status = 200, body = Success), (status = 404, body = ErrorBody)))]
async fn unsave(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(message_id): ApiPath<i64>,
) -> Result<axum::Json<Success>, Error> {
    if !store::unsave(&state.db, user.id, message_id).await? {
        return Err(Error::not_found(
            "saved_not_found",
            "That message is not among your saved messages",
        ));
    }
    tell_me(&state, &user, message_id, false);
    Ok(axum::Json(Success::new()))
}
