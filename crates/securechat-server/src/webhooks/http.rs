//! The webhook routes: room admins and the owner make
//! (`POST /api/channels/{id}/webhooks`), list and delete a channel's
//! webhooks; anyone holding a webhook's URL posts to it
//! (`POST /api/hooks/{secret}`).
//!
//! A wrong secret and a deleted webhook's are the same 404: the answer
//! tells a guesser nothing. The secret is shown once, in the creation's
//! answer; the list never has it.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::incoming::{self, IncomingMessage};
use super::store::{self, NewWebhook, WebhookRow};
use super::{Kind, MAX_BODY, MAX_PER_CHANNEL};
use crate::auth::AuthUser;
use crate::auth::token::{looks_like_token, new_token};
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, Success};
use crate::messages::view::MessageView;
use crate::push::{Audience, ServerEvent};
use crate::rooms::access::RoomAccess;
use crate::rooms::model::Action;
use crate::rooms::store::ChannelRow;
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};

/// Where incoming webhooks post; the secret follows.
pub const HOOK_PATH: &str = "/api/hooks/";

pub fn router() -> OpenApiRouter<AppState> {
    let incoming = OpenApiRouter::new()
        .routes(routes!(post_message))
        .layer(DefaultBodyLimit::max(MAX_BODY));
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(delete))
        .merge(incoming)
}

/// A channel whose webhooks the caller manages: 404 when they cannot see
/// it, 403 below admin or in a DM.
pub async fn managed_channel(
    state: &AppState,
    user: &AuthUser,
    channel_id: i64,
) -> Result<ChannelRow, Error> {
    let (access, channel) = RoomAccess::load_channel(&state.db, user, channel_id).await?;
    access.require(Action::ManageIntegrations)?;
    access.require_not_dm()?;
    Ok(channel)
}

#[derive(Deserialize, ToSchema)]
pub struct CreateWebhook {
    /// What its messages show as their sender (1 to 64 characters).
    #[schema(min_length = 1, max_length = 64)]
    pub name: String,
    /// Let posts name themselves (`username`) and their icon (`icon_url`).
    #[serde(default = "yes")]
    #[schema(default = true)]
    pub allow_overrides: bool,
}

fn yes() -> bool {
    true
}

/// A webhook as its channel's admins see it (no secret).
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub channel_id: i64,
    pub name: String,
    pub allow_overrides: bool,
    /// Who made it: its messages are stored as theirs, and it stops
    /// posting if they leave the room.
    pub creator_id: i64,
    pub creator_username: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl From<&WebhookRow> for WebhookView {
    fn from(w: &WebhookRow) -> Self {
        Self {
            id: w.id,
            channel_id: w.channel_id,
            name: w.name.clone(),
            allow_overrides: w.allow_overrides,
            creator_id: w.creator_id,
            creator_username: w.creator_username.clone(),
            created_at: rfc3339(w.created_at),
            last_used_at: w.last_used_at.map(rfc3339),
        }
    }
}

/// A webhook just made, with its URL: shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    pub id: i64,
    /// POST a JSON body such as `{"text": "Deployed"}` here. It holds the
    /// secret, which is not shown again.
    pub url: String,
    pub name: String,
    pub allow_overrides: bool,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub success: bool,
    pub webhook: CreatedWebhook,
}

/// Makes an incoming webhook for a plaintext channel (room admins and the
/// owner). An encrypted channel is 409 `encrypted_channel`.
#[utoipa::path(post, path = "/api/channels/{id}/webhooks", operation_id = "create_webhook", tag = "webhooks",
    request_body = CreateWebhook,
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 201, body = Created), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "An encrypted channel, or the channel has 10 webhooks"),
        (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    headers: HeaderMap,
    uri: Uri,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, axum::Json<Created>), Error> {
    plaintext_channel(&state, &user, id).await?;
    let name = crate::rooms::validate::display_name("name", &body.name, incoming::MAX_NAME)?;
    let secret = new_token();
    let new = NewWebhook {
        channel_id: id,
        creator_id: user.id,
        name: &name,
        secret_hash: &state.keys.webhook_hash(&secret),
        allow_overrides: body.allow_overrides,
        now: now_ms(),
    };
    let Some(webhook_id) = store::create(&state.db, &new, MAX_PER_CHANNEL).await? else {
        return Err(Error::conflict(
            "too_many_webhooks",
            format!("A channel holds at most {MAX_PER_CHANNEL} webhooks; delete one first"),
        ));
    };
    let url = format!(
        "{}{HOOK_PATH}{}",
        origin(&state, &headers, &uri),
        secret.as_str()
    );
    Ok((
        StatusCode::CREATED,
        axum::Json(Created {
            success: true,
            webhook: CreatedWebhook {
                id: webhook_id,
                url,
                name,
                allow_overrides: body.allow_overrides,
            },
        }),
    ))
}

/// A plaintext channel whose webhooks the caller manages; an encrypted
/// one is 409: the server neither writes nor reads its messages.
pub async fn plaintext_channel(
    state: &AppState,
    user: &AuthUser,
    channel_id: i64,
) -> Result<ChannelRow, Error> {
    let channel = managed_channel(state, user, channel_id).await?;
    if channel.is_encrypted {
        return Err(Error::conflict(
            "encrypted_channel",
            "Webhooks work in plaintext channels only; in encrypted channels, integrations \
             are bots that are members of the room",
        ));
    }
    Ok(channel)
}

/// Where people reach this server: `PUBLIC_URL`, else the request's host.
fn origin(state: &AppState, headers: &HeaderMap, uri: &Uri) -> String {
    if let Some(origin) = &state.web.public_origin {
        return origin.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("localhost");
    let scheme = if state.web.https { "https" } else { "http" };
    format!("{scheme}://{host}")
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub success: bool,
    /// Oldest first.
    pub webhooks: Vec<WebhookView>,
}

/// A channel's incoming webhooks, without their secrets (room admins and
/// the owner).
#[utoipa::path(get, path = "/api/channels/{id}/webhooks", operation_id = "list_webhooks", tag = "webhooks",
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = WebhookList), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<WebhookList>, Error> {
    managed_channel(&state, &user, id).await?;
    let rows = store::of_channel(&state.db, id).await?;
    Ok(axum::Json(WebhookList {
        success: true,
        webhooks: rows.iter().map(WebhookView::from).collect(),
    }))
}

/// Deletes a webhook (room admins and the owner): its URL fails from now
/// on; its messages stay, showing the name they had.
#[utoipa::path(delete, path = "/api/channels/{id}/webhooks/{webhook_id}", operation_id = "delete_webhook", tag = "webhooks",
    params(("id" = i64, Path, description = "Channel id"), ("webhook_id" = i64, Path, description = "Webhook id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, webhook_id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Success>, Error> {
    remove(&state, &user, Kind::Incoming, id, webhook_id).await
}

/// Deletes a webhook of either kind from a channel the caller manages.
pub async fn remove(
    state: &AppState,
    user: &AuthUser,
    kind: Kind,
    channel_id: i64,
    webhook_id: i64,
) -> Result<axum::Json<Success>, Error> {
    managed_channel(state, user, channel_id).await?;
    if !store::delete(&state.db, kind, channel_id, webhook_id).await? {
        return Err(Error::not_found(
            "webhook_not_found",
            "No such webhook in this channel",
        ));
    }
    Ok(axum::Json(Success::new()))
}

#[derive(Serialize, ToSchema)]
pub struct Posted {
    pub success: bool,
    pub message_id: i64,
}

fn hook_not_found() -> Error {
    Error::not_found("webhook_not_found", "No such webhook, or it was deleted")
}

/// Posts a message through an incoming webhook: a Slack-compatible JSON
/// body (at most 16 KiB). The URL is the credential; a wrong or deleted
/// one is 404, and one webhook posts 20 messages in a burst, then one a
/// second (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/hooks/{secret}", operation_id = "post_webhook_message", tag = "webhooks",
    request_body = IncomingMessage,
    params(("secret" = String, Path, description = "The webhook's secret, from its URL")),
    responses((status = 200, body = Posted), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody, description = "The body is over 16 KiB, or the text over 8 KiB"),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn post_message(
    State(state): State<AppState>,
    ApiPath(secret): ApiPath<String>,
    ApiJson(body): ApiJson<IncomingMessage>,
) -> Result<axum::Json<Posted>, Error> {
    if !looks_like_token(&secret) {
        return Err(hook_not_found());
    }
    let webhook = store::by_secret(&state.db, &state.keys.webhook_hash(&secret))
        .await?
        .ok_or_else(hook_not_found)?;
    if let Err(wait) = state.webhooks.may_post(webhook.id) {
        return Err(Error::TooManyRequests {
            retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
            message: "This webhook is posting too fast; wait and try again".into(),
        });
    }
    let (channel, room, role) =
        crate::rooms::store::channel_access(&state.db, webhook.channel_id, webhook.creator_id)
            .await?
            .ok_or_else(hook_not_found)?;
    // Its maker left the room: the webhook no longer posts.
    if role.is_none() || channel.is_encrypted {
        return Err(hook_not_found());
    }
    let text = incoming::text(&body)?;
    let shown = incoming::shown_as(&webhook, &body)?;
    let maker = RoomAccess {
        room,
        role,
        site_admin: false,
        user_id: webhook.creator_id,
    };
    let maker_name = webhook.creator_username.as_deref().unwrap_or_default();
    let row = crate::messages::service::post_from_webhook(
        &state, &maker, maker_name, &channel, text, &shown,
    )
    .await?;
    let view = MessageView::from(&row);
    state.notify.push(
        ServerEvent::NewMessage(view),
        Audience::Channel(row.channel_id),
    );
    // To the minute, from the row already read: a busy webhook costs
    // SQLite's one writer no statement per post.
    let now = now_ms();
    if webhook.last_used_at.is_none_or(|at| at < now - 60_000) {
        store::used(&state.db, webhook.id, now).await?;
    }
    Ok(axum::Json(Posted {
        success: true,
        message_id: row.id,
    }))
}
