//! `/api/rooms/{id}/resources`: list and search, add, edit, remove.
//!
//! Members add; the author or a room admin edits and removes.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, Fields, ResourceRow};
use super::validate;
use super::view::ResourceView;
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery, Success};
use crate::messages::envelope;
use crate::push::{ResourceChanged, ResourceRemoved, ServerEvent};
use crate::rooms::access::RoomAccess;
use crate::rooms::model::Action;
use crate::rooms::store::{self as rooms, ChannelRow};
use crate::state::AppState;
use crate::storage::now_ms;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, remove))
}

/// Loads the room for one of its members; 404 for outsiders.
async fn member_room(state: &AppState, user: &AuthUser, id: i64) -> Result<RoomAccess, Error> {
    let access = RoomAccess::load(&state.db, user, id).await?;
    access.require(Action::ReadAndPost)?;
    Ok(access)
}

fn not_found() -> Error {
    Error::not_found("resource_not_found", "No such resource in this room")
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this channel's resources.
    pub channel_id: Option<i64>,
    /// Words to find in titles, descriptions and URLs.
    pub q: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ResourceList {
    pub success: bool,
    /// Pinned first, then newest.
    pub resources: Vec<ResourceView>,
}

/// The room's resources (at most 500), pinned first.
#[utoipa::path(get, path = "/api/rooms/{id}/resources", operation_id = "list_resources", tag = "resources",
    params(("id" = i64, Path, description = "Room id"), ListQuery),
    responses((status = 200, body = ResourceList),
        (status = 403, body = ErrorBody, description = "Not a member of the room (`not_a_member`)"),
        (status = 404, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<axum::Json<ResourceList>, Error> {
    member_room(&state, &user, id).await?;
    let search = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    if search.is_some_and(|q| q.chars().count() > 100) {
        return Err(Error::unprocessable(
            "invalid_query",
            "Search for at most 100 characters",
        ));
    }
    let rows = store::list(&state.db, id, query.channel_id, search, 500).await?;
    Ok(axum::Json(ResourceList {
        success: true,
        resources: rows.iter().map(ResourceView::from).collect(),
    }))
}

/// A resource as a client submits it. Plaintext channels (and room-wide):
/// `title` with a `url` and/or `file_id`. Encrypted channels: `envelope`
/// and `key_version` only (plus `file_id`, `pinned`).
#[derive(Deserialize, ToSchema, Default)]
pub struct ResourceInput {
    pub channel_id: Option<i64>,
    pub title: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub envelope: Option<String>,
    pub key_version: Option<i64>,
    pub file_id: Option<i64>,
    pub pinned: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct ResourceResponse {
    pub success: bool,
    pub resource: ResourceView,
}

/// The channel a resource belongs to, which must be in this room.
async fn channel_of_room(
    state: &AppState,
    room_id: i64,
    channel_id: Option<i64>,
) -> Result<Option<ChannelRow>, Error> {
    let Some(channel_id) = channel_id else {
        return Ok(None);
    };
    match rooms::channel(&state.db, channel_id).await? {
        Some(c) if c.room_id == room_id => Ok(Some(c)),
        _ => Err(Error::unprocessable(
            "invalid_channel",
            "channel_id must be a channel of this room",
        )),
    }
}

/// Validates what a resource says, for its channel.
async fn fields(
    state: &AppState,
    user: &AuthUser,
    room_id: i64,
    channel: Option<&ChannelRow>,
    input: ResourceInput,
) -> Result<Fields, Error> {
    if let Some(file_id) = input.file_id {
        let file = crate::files::store::live(&state.db, file_id).await?;
        // A file posted in a message is the channel's to point at; an upload
        // not posted yet only its uploader attaches (nobody takes over a
        // file by guessing its id).
        let file = file.filter(|f| f.message_id.is_some() || f.uploader_id == Some(user.id));
        let fits = match (&file, channel) {
            (Some(f), Some(c)) => f.channel_id == c.id,
            (Some(f), None) => rooms::channel(&state.db, f.channel_id)
                .await?
                .is_some_and(|c| c.room_id == room_id && !c.is_encrypted),
            (None, _) => false,
        };
        if !fits {
            return Err(Error::unprocessable(
                "invalid_file",
                "file_id must be a file posted in this channel, or one you uploaded to it (or, room-wide, in a plaintext channel of this room)",
            ));
        }
    }
    let pinned = input.pinned.unwrap_or(false);
    if let Some(channel) = channel.filter(|c| c.is_encrypted) {
        let has_plaintext =
            input.title.is_some() || input.url.is_some() || input.description.is_some();
        let envelope = envelope::sealed(has_plaintext, input.envelope.as_deref())?.to_owned();
        envelope::check_key_version(channel, input.key_version)?;
        envelope::check(state, user.id, channel, input.key_version, &envelope).await?;
        return Ok(Fields {
            envelope: Some(envelope),
            key_version: input.key_version,
            file_id: input.file_id,
            pinned,
            ..Fields::default()
        });
    }
    envelope::none_in_plaintext(input.envelope.is_some())?;
    let title = validate::title(input.title.as_deref().unwrap_or(""))?;
    let url = input.url.as_deref().map(validate::url).transpose()?;
    if url.is_none() && input.file_id.is_none() {
        return Err(Error::unprocessable(
            "missing_link",
            "A resource needs a url or a file_id",
        ));
    }
    let description = input
        .description
        .as_deref()
        .map(validate::description)
        .transpose()?
        .filter(|d| !d.is_empty());
    Ok(Fields {
        title: Some(title),
        url,
        description,
        file_id: input.file_id,
        pinned,
        ..Fields::default()
    })
}

/// Tells the room's members.
async fn push(state: &AppState, room_id: i64, event: ServerEvent) -> Result<(), Error> {
    let members = rooms::members(&state.db, room_id).await?;
    state
        .notify
        .to_users(members.iter().map(|m| m.user_id).collect(), event);
    Ok(())
}

async fn respond(state: &AppState, id: i64) -> Result<ResourceRow, Error> {
    store::get(&state.db, id).await?.ok_or_else(not_found)
}

/// Adds a link or document (members).
#[utoipa::path(post, path = "/api/rooms/{id}/resources", operation_id = "create_resource", tag = "resources",
    request_body = ResourceInput,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 201, body = ResourceResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ResourceInput>,
) -> Result<(StatusCode, axum::Json<ResourceResponse>), Error> {
    let access = member_room(&state, &user, id).await?;
    access.require(Action::AddResources)?;
    let channel = channel_of_room(&state, id, input.channel_id).await?;
    let fields = fields(&state, &user, id, channel.as_ref(), input).await?;
    let rid = store::insert(
        &state.db,
        id,
        channel.as_ref().map(|c| c.id),
        &fields,
        user.id,
        now_ms(),
    )
    .await?;
    let view = ResourceView::from(&respond(&state, rid).await?);
    let body = ResourceChanged {
        room_id: id,
        resource: view.clone(),
    };
    push(&state, id, ServerEvent::ResourceAdded(body)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ResourceResponse {
            success: true,
            resource: view,
        }),
    ))
}

/// The resource `rid` of room `id`, if the user may change it.
async fn editable(
    state: &AppState,
    user: &AuthUser,
    id: i64,
    rid: i64,
) -> Result<(RoomAccess, ResourceRow), Error> {
    let access = member_room(state, user, id).await?;
    let row = store::get(&state.db, rid)
        .await?
        .filter(|r| r.room_id == id)
        .ok_or_else(not_found)?;
    if row.created_by != Some(user.id) {
        access.require(Action::ManageResources).map_err(|_| {
            Error::forbidden(
                "not_your_resource",
                "Only its author or a room admin can change a resource",
            )
        })?;
    }
    Ok((access, row))
}

/// Edits a resource (its author or an admin). The fields sent replace the
/// old ones; for an encrypted channel, a new envelope.
#[utoipa::path(put, path = "/api/rooms/{id}/resources/{rid}", operation_id = "update_resource", tag = "resources",
    request_body = ResourceInput,
    params(("id" = i64, Path, description = "Room id"), ("rid" = i64, Path, description = "Resource id")),
    responses((status = 200, body = ResourceResponse), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, rid)): ApiPath<(i64, i64)>,
    ApiJson(input): ApiJson<ResourceInput>,
) -> Result<axum::Json<ResourceResponse>, Error> {
    let (_, row) = editable(&state, &user, id, rid).await?;
    if input.channel_id.is_some() && input.channel_id != row.channel_id {
        return Err(Error::unprocessable(
            "invalid_channel",
            "A resource stays in its channel; remove it and add it again elsewhere",
        ));
    }
    let channel = channel_of_room(&state, id, row.channel_id).await?;
    let fields = fields(&state, &user, id, channel.as_ref(), input).await?;
    store::update(&state.db, rid, &fields, now_ms()).await?;
    let view = ResourceView::from(&respond(&state, rid).await?);
    let body = ResourceChanged {
        room_id: id,
        resource: view.clone(),
    };
    push(&state, id, ServerEvent::ResourceUpdated(body)).await?;
    Ok(axum::Json(ResourceResponse {
        success: true,
        resource: view,
    }))
}

/// Removes a resource (its author or an admin).
#[utoipa::path(delete, path = "/api/rooms/{id}/resources/{rid}", operation_id = "delete_resource", tag = "resources",
    params(("id" = i64, Path, description = "Room id"), ("rid" = i64, Path, description = "Resource id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn remove(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, rid)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Success>, Error> {
    let (_, row) = editable(&state, &user, id, rid).await?;
    if store::delete(&state.db, rid).await? {
        let body = ResourceRemoved {
            room_id: id,
            resource_id: rid,
            channel_id: row.channel_id,
        };
        push(&state, id, ServerEvent::ResourceRemoved(body)).await?;
    }
    Ok(axum::Json(Success::new()))
}
