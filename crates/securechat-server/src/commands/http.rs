//! The slash-command routes. Room admins and the owner register
//! (`POST /api/rooms/{id}/commands`, answering the receiver's token, shown
//! only then) and delete commands; members list them (the composer's
//! suggestions) and run them in a plaintext channel
//! (`POST /api/channels/{id}/commands`).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::MAX_PER_ROOM;
use super::request::{self, Invocation, Visibility};
use super::store::{self, CommandRow, NewCommand, NotCreated};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, Success};
use crate::messages::view::MessageView;
use crate::outbound::guard;
use crate::push::{Audience, ServerEvent};
use crate::rooms::access::RoomAccess;
use crate::rooms::model::Action;
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};

/// The longest trigger, description, usage hint and argument text.
const MAX_NAME: usize = 32;
const MAX_DESCRIPTION: usize = 200;
const MAX_HINT: usize = 100;
const MAX_ARGUMENTS: usize = 4000;

/// The client's own commands: a registered one may not shadow them.
pub const BUILT_INS: [&str; 8] = [
    "me", "topic", "invite", "kick", "leave", "mute", "remind", "help",
];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(delete))
        .routes(routes!(run))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateCommand {
    /// The trigger without its slash: 1 to 32 lower-case letters, digits,
    /// `-` or `_`, not a built-in's.
    #[schema(min_length = 1, max_length = 33, pattern = "^/?[A-Za-z0-9_-]{1,32}$")]
    pub trigger: String,
    /// Where runs are POSTed: an `https` URL on a public address (or a
    /// host in `WEBHOOK_ALLOW_HOSTS`), at most 2048 bytes.
    #[schema(max_length = 2048)]
    pub url: String,
    /// Shown in the composer's suggestions (at most 200 characters).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub description: String,
    /// The arguments it takes, e.g. `[city]` (at most 100 characters).
    #[serde(default)]
    #[schema(max_length = 100)]
    pub usage_hint: String,
}

/// A command as the room's members see it (admins also see its URL).
#[derive(Serialize, ToSchema)]
pub struct CommandView {
    pub id: i64,
    pub room_id: i64,
    pub trigger: String,
    pub description: String,
    pub usage_hint: String,
    /// Room admins and the owner only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub creator_id: i64,
    pub created_at: String,
}

impl CommandView {
    fn of(row: &CommandRow, admin: bool) -> Self {
        Self {
            id: row.id,
            room_id: row.room_id,
            trigger: row.name.clone(),
            description: row.description.clone(),
            usage_hint: row.usage_hint.clone(),
            url: admin.then(|| row.url.clone()),
            creator_id: row.creator_id,
            created_at: rfc3339(row.created_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CreatedCommand {
    pub success: bool,
    pub command: CommandView,
    /// Sent as `token` in every run's form: the receiver compares it to
    /// know the run is this server's. Shown this once.
    pub token: String,
}

/// A trigger: lower case, 1 to 32 of `a-z 0-9 - _`, not a built-in.
fn trigger(raw: &str) -> Result<String, Error> {
    let name = raw.trim().trim_start_matches('/').to_lowercase();
    let valid = !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        return Err(Error::unprocessable(
            "invalid_trigger",
            format!("A trigger is 1 to {MAX_NAME} letters, digits, - or _"),
        ));
    }
    if BUILT_INS.contains(&name.as_str()) {
        return Err(Error::conflict(
            "built_in_command",
            format!("/{name} is a built-in command; choose another trigger"),
        ));
    }
    Ok(name)
}

/// A room whose commands the caller manages: 404 when they cannot see it,
/// 403 below admin or in a DM.
async fn managed_room(state: &AppState, user: &AuthUser, room_id: i64) -> Result<(), Error> {
    let access = RoomAccess::load(&state.db, user, room_id).await?;
    access.require(Action::ManageIntegrations)?;
    access.require_not_dm()
}

/// Registers a slash command for a room (room admins and the owner).
#[utoipa::path(post, path = "/api/rooms/{id}/commands", operation_id = "create_command", tag = "commands",
    request_body = CreateCommand,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 201, body = CreatedCommand), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The trigger is taken or a built-in's, or the room has 50 commands"),
        (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CreateCommand>,
) -> Result<(StatusCode, axum::Json<CreatedCommand>), Error> {
    managed_room(&state, &user, id).await?;
    let name = trigger(&body.trigger)?;
    let description =
        crate::rooms::validate::text("Description", &body.description, MAX_DESCRIPTION)?;
    let usage_hint = crate::rooms::validate::text("Usage hint", &body.usage_hint, MAX_HINT)?;
    let target = guard::check_now(&body.url, &state.commands.allow_hosts)
        .await
        .map_err(|e| Error::unprocessable("invalid_url", e.to_string()))?;
    let mut salt = [0u8; 16];
    rand::fill(&mut salt[..]);
    let now = now_ms();
    let new = NewCommand {
        room_id: id,
        creator_id: user.id,
        name: &name,
        url: target.url.as_str(),
        description: &description,
        usage_hint: &usage_hint,
        token_salt: &salt,
        now,
    };
    let command_id = match store::create(&state.db, &new, MAX_PER_ROOM).await? {
        Ok(command_id) => command_id,
        Err(NotCreated::Taken) => {
            return Err(Error::conflict(
                "command_exists",
                format!("This room already has /{name}"),
            ));
        }
        Err(NotCreated::Full) => {
            return Err(Error::conflict(
                "too_many_commands",
                format!("A room holds at most {MAX_PER_ROOM} commands; delete one first"),
            ));
        }
    };
    let row = CommandRow {
        id: command_id,
        room_id: id,
        creator_id: user.id,
        name,
        url: target.url.to_string(),
        description,
        usage_hint,
        token_salt: salt.to_vec(),
        created_at: now,
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedCommand {
            success: true,
            command: CommandView::of(&row, true),
            token: state.keys.command_token(command_id, &salt),
        }),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CommandList {
    pub success: bool,
    /// By trigger.
    pub commands: Vec<CommandView>,
}

/// A room's registered commands (its members; admins also see the URLs).
#[utoipa::path(get, path = "/api/rooms/{id}/commands", operation_id = "list_commands", tag = "commands",
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = CommandList), (status = 404, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<CommandList>, Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    access
        .require(Action::ReadAndPost)
        .map_err(|_| crate::rooms::access::room_not_found())?;
    let admin = access.require(Action::ManageIntegrations).is_ok();
    let rows = store::of_room(&state.db, id).await?;
    Ok(axum::Json(CommandList {
        success: true,
        commands: rows.iter().map(|r| CommandView::of(r, admin)).collect(),
    }))
}

/// Deletes a registered command (room admins and the owner).
#[utoipa::path(delete, path = "/api/rooms/{id}/commands/{command_id}", operation_id = "delete_command", tag = "commands",
    params(("id" = i64, Path, description = "Room id"), ("command_id" = i64, Path, description = "Command id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, command_id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Success>, Error> {
    managed_room(&state, &user, id).await?;
    if !store::delete(&state.db, id, command_id).await? {
        return Err(Error::not_found(
            "command_not_found",
            "No such command in this room",
        ));
    }
    Ok(axum::Json(Success::new()))
}

#[derive(Deserialize, ToSchema)]
pub struct RunCommand {
    /// The trigger, with or without its slash.
    #[schema(max_length = 33)]
    pub command: String,
    /// Everything after the trigger (at most 4000 characters).
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct Ran {
    pub success: bool,
    /// `ephemeral`: `text` is for the caller only; `in_channel`: it was
    /// posted as `message_id`.
    pub response_type: String,
    pub text: Option<String>,
    pub message_id: Option<i64>,
}

/// Runs a registered command in a plaintext channel (its room's members):
/// the form is POSTed to the command's URL, which has 3 seconds to answer.
/// An encrypted channel is 403 `encrypted_channel`; a receiver that fails
/// or answers something unusable is 502 `command_failed`.
#[utoipa::path(post, path = "/api/channels/{id}/commands", operation_id = "run_command", tag = "commands",
    request_body = RunCommand,
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = Ran), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 502, body = ErrorBody)))]
async fn run(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RunCommand>,
) -> Result<axum::Json<Ran>, Error> {
    let (access, channel) = RoomAccess::member_channel(&state.db, &user, id).await?;
    if channel.is_encrypted {
        return Err(Error::forbidden(
            "encrypted_channel",
            "Registered commands do not run in encrypted channels: the server would see \
             their text. There, integrations are bots that are members of the room",
        ));
    }
    if body.text.chars().count() > MAX_ARGUMENTS {
        return Err(Error::unprocessable(
            "invalid_text",
            format!("A command's text is at most {MAX_ARGUMENTS} characters"),
        ));
    }
    let name = body.command.trim().trim_start_matches('/').to_lowercase();
    let command = if name.is_empty() || name.len() > MAX_NAME {
        None
    } else {
        store::by_name(&state.db, channel.room_id, &name).await?
    };
    let command = command.ok_or_else(|| {
        Error::not_found(
            "command_not_found",
            format!("No command /{name} in this room; /help lists them"),
        )
    })?;
    if let Err(wait) = state.commands.may_run(user.id) {
        return Err(Error::TooManyRequests {
            retry_after: wait.as_secs().max(1),
            message: "Too many commands; wait a moment".into(),
        });
    }
    let token = state.keys.command_token(command.id, &command.token_salt);
    let form = request::form(&Invocation {
        token: &token,
        room_id: access.room.id,
        room_name: &access.room.name,
        channel_id: channel.id,
        channel_name: &channel.name,
        user_id: user.id,
        user_name: &user.username,
        command: &command.name,
        text: &body.text,
    });
    let failed = |why: String| Error::BadGateway {
        code: "command_failed",
        message: format!("/{} failed: {why}", command.name).into(),
    };
    let (content_type, answer) = request::send(
        &state.commands.clients,
        &state.commands.allow_hosts,
        &command.url,
        form,
    )
    .await
    .map_err(failed)?;
    let answer =
        request::answer(content_type.as_deref(), &answer).map_err(|why| failed(why.to_owned()))?;
    let (response_type, message_id) = match (answer.visibility, answer.text.as_deref()) {
        (Visibility::InChannel, Some(text)) => {
            let row = crate::messages::service::post_from_command(
                &state,
                &access,
                &user.username,
                &channel,
                text,
            )
            .await?;
            let view = MessageView::from(&row);
            state.notify.push(
                ServerEvent::NewMessage(view),
                Audience::Channel(row.channel_id),
            );
            ("in_channel", Some(row.id))
        }
        (Visibility::InChannel, None) => ("in_channel", None),
        (Visibility::Ephemeral, _) => ("ephemeral", None),
    };
    Ok(axum::Json(Ran {
        success: true,
        response_type: response_type.to_owned(),
        text: answer.text,
        message_id,
    }))
}
