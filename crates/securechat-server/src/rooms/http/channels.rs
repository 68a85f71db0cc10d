//! Channels: create in a room, rename or re-topic, delete (admins).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody, ResultExt};
use crate::http::{ApiJson, ApiPath, Success};
use crate::rooms::access::RoomAccess;
use crate::rooms::events::RoomEvent;
use crate::rooms::model::Action;
use crate::rooms::store::{self, Audit};
use crate::rooms::validate;
use crate::rooms::view::ChannelView;
use crate::state::AppState;
use crate::storage::now_ms;
use crate::timeline::store::Kind;

#[derive(Deserialize, ToSchema)]
pub struct NewChannel {
    /// 1-64 letters, digits, `-` or `_`; unique in the room regardless of case.
    pub name: String,
    #[serde(default)]
    pub topic: String,
    /// End-to-end encrypted; cannot be changed later.
    #[serde(default)]
    pub is_encrypted: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelResponse {
    pub success: bool,
    pub channel: ChannelView,
}

fn name_taken() -> Error {
    Error::conflict(
        "channel_name_taken",
        "This room already has a channel with that name",
    )
}

/// Creates a channel in a room (admins).
#[utoipa::path(post, path = "/api/rooms/{id}/channels", operation_id = "create_channel", tag = "channels", request_body = NewChannel,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 201, body = ChannelResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewChannel>,
) -> Result<(StatusCode, axum::Json<ChannelResponse>), Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access.require(Action::ManageChannels)?;
    access.require_not_dm()?;
    let name = validate::channel_name(&body.name)?;
    let topic = validate::text("Topic", &body.topic, validate::TOPIC_MAX)?;
    let audit = Audit::new(id, user.id, "channel_created", now_ms()).detail(&name);
    let channel = store::create_channel(&state.db, id, &name, &topic, body.is_encrypted, audit)
        .await
        .on_unique_violation(name_taken)?;
    state.events.publish(RoomEvent::ChannelCreated {
        room_id: id,
        channel_id: channel.id,
    });
    Ok((
        StatusCode::CREATED,
        axum::Json(ChannelResponse {
            success: true,
            channel: ChannelView::from(&channel),
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ChannelChanges {
    pub name: Option<String>,
    pub topic: Option<String>,
    /// Must equal the current value if given: encryption is fixed.
    pub is_encrypted: Option<bool>,
}

/// Renames a channel or changes its topic (admins).
#[utoipa::path(patch, path = "/api/channels/{id}", operation_id = "update_channel", tag = "channels", request_body = ChannelChanges,
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = ChannelResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ChannelChanges>,
) -> Result<axum::Json<ChannelResponse>, Error> {
    let (access, mut channel) = RoomAccess::load_channel(&state.db, &user, id).await?;
    access.require(Action::ManageChannels)?;
    access.require_not_dm()?;
    if body.is_encrypted.is_some_and(|e| e != channel.is_encrypted) {
        return Err(Error::unprocessable(
            "encryption_fixed",
            "A channel's encryption is fixed at creation; create a new channel instead",
        ));
    }
    let mut changed = Vec::new();
    let mut audit = Audit::new(channel.room_id, user.id, "channel_updated", now_ms());
    if let Some(name) = body.name {
        let name = validate::channel_name(&name)?;
        if name != channel.name {
            audit = audit.timeline(Some(channel.id), Kind::ChannelRenamed, &name);
        }
        channel.name = name;
        changed.push(format!("name: {}", channel.name));
    }
    if let Some(topic) = body.topic {
        let topic = validate::text("Topic", &topic, validate::TOPIC_MAX)?;
        if topic != channel.topic {
            audit = audit.timeline(Some(channel.id), Kind::TopicChanged, &topic);
        }
        channel.topic = topic;
        changed.push("topic".to_owned());
    }
    let audit = audit.detail(changed.join(", "));
    store::update_channel(&state.db, &channel, audit)
        .await
        .on_unique_violation(name_taken)?;
    state.events.publish(RoomEvent::ChannelUpdated {
        room_id: channel.room_id,
        channel_id: channel.id,
    });
    Ok(axum::Json(ChannelResponse {
        success: true,
        channel: ChannelView::from(&channel),
    }))
}

/// Deletes a channel and everything in it (admins). A room keeps at least one.
#[utoipa::path(delete, path = "/api/channels/{id}", operation_id = "delete_channel", tag = "channels",
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The room's last channel")))]
pub async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<Success>, Error> {
    let (access, channel) = RoomAccess::load_channel(&state.db, &user, id).await?;
    access.require(Action::ManageChannels)?;
    access.require_not_dm()?;
    let audit =
        Audit::new(channel.room_id, user.id, "channel_deleted", now_ms()).detail(&channel.name);
    // The last-channel rule is checked in the delete itself.
    if !store::delete_channel(&state.db, channel.room_id, id, audit).await? {
        return Err(Error::conflict(
            "last_channel",
            "A room needs at least one channel; delete the room instead",
        ));
    }
    state.events.publish(RoomEvent::ChannelDeleted {
        room_id: channel.room_id,
        channel_id: id,
    });
    Ok(axum::Json(Success::new()))
}
