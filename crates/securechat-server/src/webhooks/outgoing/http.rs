//! The outgoing-webhook routes, for room admins and the owner:
//! `POST /api/channels/{id}/outgoing_webhooks` registers a URL (checked by
//! the SSRF guard now, and again on every delivery) with optional
//! keywords and answers the signing secret, shown only then; `GET` lists
//! them, `DELETE …/{webhook_id}` removes one with its queue, and
//! `GET …/{webhook_id}/deliveries` is its delivery log.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, DeliveryRow, NewOutgoing, OutgoingRow};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, Success};
use crate::outbound::guard;
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};
use crate::webhooks::http::{managed_channel, plaintext_channel, remove};
use crate::webhooks::{Kind, MAX_PER_CHANNEL};

/// Keywords a webhook holds at most, and the longest.
const MAX_KEYWORDS: usize = 10;
const MAX_KEYWORD: usize = 64;
/// Deliveries the log shows.
const LOG_LIMIT: i64 = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(delete))
        .routes(routes!(deliveries))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateOutgoing {
    /// Where deliveries are POSTed: an `https` URL on a public address
    /// (or a host in `WEBHOOK_ALLOW_HOSTS`), at most 2048 bytes.
    #[schema(max_length = 2048)]
    pub url: String,
    /// Fire only on messages holding one of these words (any case, whole
    /// words); none: every message. At most 10, each 1 to 64 characters
    /// without spaces.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub keywords: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OutgoingView {
    pub id: i64,
    pub channel_id: i64,
    pub url: String,
    pub keywords: Vec<String>,
    pub creator_id: i64,
    pub creator_username: Option<String>,
    pub created_at: String,
}

impl From<&OutgoingRow> for OutgoingView {
    fn from(w: &OutgoingRow) -> Self {
        Self {
            id: w.id,
            channel_id: w.channel_id,
            url: w.url.clone(),
            keywords: serde_json::from_str(&w.keywords).unwrap_or_default(),
            creator_id: w.creator_id,
            creator_username: w.creator_username.clone(),
            created_at: rfc3339(w.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedOutgoing {
    pub success: bool,
    pub webhook: OutgoingView,
    /// The key of each delivery's `X-Securechat-Signature` (HMAC-SHA256
    /// over `<X-Securechat-Timestamp>.<body>`). Shown only now.
    pub secret: String,
}

/// Lower-cased, checked keywords.
fn keywords(given: &[String]) -> Result<Vec<String>, Error> {
    let invalid = || {
        Error::unprocessable(
            "invalid_keywords",
            format!(
                "keywords are at most {MAX_KEYWORDS} words of 1 to {MAX_KEYWORD} letters, \
                 digits, '-' or '_'"
            ),
        )
    };
    if given.len() > MAX_KEYWORDS {
        return Err(invalid());
    }
    let mut out: Vec<String> = Vec::with_capacity(given.len());
    for word in given {
        let word = word.trim().to_lowercase();
        let fits = (1..=MAX_KEYWORD).contains(&word.chars().count())
            && word
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
        if !fits {
            return Err(invalid());
        }
        if !out.contains(&word) {
            out.push(word);
        }
    }
    Ok(out)
}

/// Registers an outgoing webhook on a plaintext channel (room admins and
/// the owner): messages sent from now on (holding a keyword, if any) are
/// POSTed to `url`, signed.
#[utoipa::path(post, path = "/api/channels/{id}/outgoing_webhooks", operation_id = "create_outgoing_webhook", tag = "webhooks",
    request_body = CreateOutgoing,
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 201, body = CreatedOutgoing), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "An encrypted channel, or the channel has 10 outgoing webhooks"),
        (status = 422, body = ErrorBody, description = "A URL the SSRF guard refuses, or bad keywords")))]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CreateOutgoing>,
) -> Result<(StatusCode, axum::Json<CreatedOutgoing>), Error> {
    plaintext_channel(&state, &user, id).await?;
    let words = keywords(&body.keywords)?;
    let target = guard::check_now(&body.url, &state.webhooks.allow_hosts)
        .await
        .map_err(|e| Error::unprocessable("invalid_url", e.to_string()))?;
    let mut salt = [0u8; 16];
    rand::fill(&mut salt[..]);
    let keywords_json = serde_json::to_string(&words).map_err(anyhow::Error::from)?;
    let now = now_ms();
    let new = NewOutgoing {
        channel_id: id,
        creator_id: user.id,
        url: target.url.as_str(),
        keywords: &keywords_json,
        secret_salt: &salt,
        now,
    };
    let Some(webhook_id) = store::create(&state.db, &new, MAX_PER_CHANNEL).await? else {
        return Err(Error::conflict(
            "too_many_webhooks",
            format!(
                "A channel holds at most {MAX_PER_CHANNEL} outgoing webhooks; delete one first"
            ),
        ));
    };
    let row = OutgoingRow {
        id: webhook_id,
        channel_id: id,
        creator_id: user.id,
        creator_username: Some(user.username.clone()),
        url: target.url.to_string(),
        keywords: keywords_json,
        created_at: now,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedOutgoing {
            success: true,
            webhook: OutgoingView::from(&row),
            secret: state.keys.outgoing_secret(webhook_id, &salt),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct OutgoingList {
    pub success: bool,
    pub webhooks: Vec<OutgoingView>,
}

/// A channel's outgoing webhooks (room admins and the owner).
#[utoipa::path(get, path = "/api/channels/{id}/outgoing_webhooks", operation_id = "list_outgoing_webhooks", tag = "webhooks",
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = OutgoingList), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<OutgoingList>, Error> {
    managed_channel(&state, &user, id).await?;
    let rows = store::of_channel(&state.db, id).await?;
    Ok(axum::Json(OutgoingList {
        success: true,
        webhooks: rows.iter().map(OutgoingView::from).collect(),
    }))
}

/// Removes an outgoing webhook with its queued deliveries and its log.
#[utoipa::path(delete, path = "/api/channels/{id}/outgoing_webhooks/{webhook_id}", operation_id = "delete_outgoing_webhook", tag = "webhooks",
    params(("id" = i64, Path, description = "Channel id"), ("webhook_id" = i64, Path, description = "Outgoing webhook id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, webhook_id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Success>, Error> {
    remove(&state, &user, Kind::Outgoing, id, webhook_id).await
}

/// One delivery in the log.
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    pub message_id: i64,
    /// `pending` (waiting for its first try or a retry), `delivered` or
    /// `failed` (given up).
    pub status: String,
    pub attempts: i64,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<String>,
    /// The last attempt's HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt got no answer.
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&DeliveryRow> for DeliveryView {
    fn from(d: &DeliveryRow) -> Self {
        Self {
            id: d.id,
            message_id: d.message_id,
            status: d.status.clone(),
            attempts: d.attempts,
            next_attempt_at: d.due_at.map(rfc3339),
            last_status: d.last_status,
            last_error: d.last_error.clone(),
            created_at: rfc3339(d.created_at),
            updated_at: rfc3339(d.updated_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryLog {
    pub success: bool,
    /// The newest 100, newest first.
    pub deliveries: Vec<DeliveryView>,
}

/// An outgoing webhook's delivery log (room admins and the owner).
#[utoipa::path(get, path = "/api/channels/{id}/outgoing_webhooks/{webhook_id}/deliveries", operation_id = "list_webhook_deliveries", tag = "webhooks",
    params(("id" = i64, Path, description = "Channel id"), ("webhook_id" = i64, Path, description = "Outgoing webhook id")),
    responses((status = 200, body = DeliveryLog), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn deliveries(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, webhook_id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<DeliveryLog>, Error> {
    managed_channel(&state, &user, id).await?;
    let rows = store::log(&state.db, id, webhook_id, LOG_LIMIT).await?;
    Ok(axum::Json(DeliveryLog {
        success: true,
        deliveries: rows.iter().map(DeliveryView::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::keywords;

    #[test]
    fn keywords_are_lower_cased_words() {
        let given = vec![
            "Deploy".to_owned(),
            " alert ".to_owned(),
            "deploy".to_owned(),
        ];
        assert_eq!(keywords(&given).unwrap(), ["deploy", "alert"]);
        for bad in ["", "two words", "a.b", &"x".repeat(65)] {
            assert!(keywords(&[bad.to_owned()]).is_err(), "{bad:?}");
        }
        assert!(keywords(&vec!["k".to_owned(); 11]).is_err());
    }
}
