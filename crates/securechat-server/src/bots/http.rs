//! The bot routes. A room's admins and owner create bots scoped to their
//! room, list them, revoke them and give one a new token when its token
//! is lost; site admins create bots for any rooms. A token is in the
//! answer that makes it only.
//!
//! A new bot joins a plain room at once. A room with a signed membership
//! log takes members only by signed entries: there the creator's client
//! adds the bot (`POST /api/rooms/{id}/membership_log`) as it adds a
//! person, and shares the channel keys with its identity.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use zeroize::Zeroizing;

use super::store::{self, NewBot};
use crate::admin::SiteAdmin;
use crate::auth::AuthUser;
use crate::auth::password::Priority;
use crate::auth::store::UserRow;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, Success};
use crate::rooms::access::RoomAccess;
use crate::rooms::events::RoomEvent;
use crate::rooms::model::{Action, Role};
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};

/// Rooms one site-admin request scopes a bot to, at most.
const MAX_ROOMS: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(revoke))
        .routes(routes!(new_token))
        .routes(routes!(create_for_site))
}

#[derive(Deserialize, ToSchema)]
pub struct NewRoomBot {
    /// The bot's username, under the rules of every username.
    #[schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    pub username: String,
}

#[derive(Deserialize, ToSchema)]
pub struct NewSiteBot {
    #[schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    pub username: String,
    /// The rooms its token reaches (1 to 100).
    #[schema(min_items = 1, max_items = 100)]
    pub room_ids: Vec<i64>,
}

/// A bot account.
#[derive(Serialize, ToSchema)]
pub struct BotView {
    pub id: i64,
    pub username: String,
    pub is_bot: bool,
    /// Who made it, if they still exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<i64>,
    /// Their username, if they still exist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by_username: Option<String>,
    pub created_at: String,
    /// When its last token reaching the room was revoked; absent while
    /// one is live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedBot {
    pub success: bool,
    pub bot: BotView,
    /// The bot's API token (`Authorization: Bearer`, or Socket.IO's
    /// `auth.token`). Shown this once.
    pub token: String,
    /// The rooms it joined now; a room with a signed membership log is
    /// left to a signed entry from its admins' client.
    pub joined: Vec<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct NewBotToken {
    pub success: bool,
    /// The bot's new API token, shown this once.
    pub token: String,
}

#[derive(Serialize, ToSchema)]
pub struct BotList {
    pub success: bool,
    pub bots: Vec<BotView>,
}

/// A room whose bots the caller manages: 404 when they cannot see it,
/// 403 below admin or in a DM.
async fn managed_room(
    state: &AppState,
    user: &AuthUser,
    room_id: i64,
) -> Result<RoomAccess, Error> {
    let access = RoomAccess::load(&state.db, user, room_id).await?;
    access.require(Action::ManageMembers)?;
    access.require_not_dm()?;
    Ok(access)
}

/// Creates the account and its token; 409 for a taken name.
async fn create_bot(
    state: &AppState,
    creator: i64,
    username: &str,
    rooms: &[i64],
) -> Result<(UserRow, Zeroizing<String>), Error> {
    crate::auth::validate::username(username)?;
    let hash = state
        .hasher
        .hash(Priority::Session, crate::auth::token::new_token())
        .await?;
    let token = super::new_token();
    let token_hash = state.keys.session_hash(&token);
    let new = NewBot {
        username,
        password_hash: &hash,
        created_by: creator,
        token_hash: &token_hash,
        rooms,
        now: now_ms(),
    };
    match store::create(&state.db, &new).await {
        Ok(user) => Ok((user, token)),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::conflict(
            "username_taken",
            "That username is taken, or looks like one that is; choose another",
        )),
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
            Err(Error::not_found("room_not_found", "No such room"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Adds the bot to `room_id` as a member, unless the room's membership is
/// signed (then its admins' client adds it by an entry). Whether it joined.
async fn join_plain(
    state: &AppState,
    actor: i64,
    room_id: i64,
    bot_id: i64,
) -> Result<bool, Error> {
    if crate::rooms::log::is_logged(&state.db, room_id).await? {
        return Ok(false);
    }
    let audit =
        crate::rooms::store::Audit::new(room_id, actor, "member_added", now_ms()).target(bot_id);
    let rotations =
        crate::rooms::store::add_member(&state.db, room_id, bot_id, Role::Member, audit).await?;
    state.events.publish(RoomEvent::MemberJoined {
        room_id,
        user_id: bot_id,
        role: Role::Member,
        rotations,
    });
    Ok(true)
}

fn created(user: &UserRow, creator: &AuthUser, token: &str, joined: Vec<i64>) -> CreatedBot {
    CreatedBot {
        success: true,
        bot: BotView {
            id: user.id,
            username: user.username.clone(),
            is_bot: true,
            created_by: Some(creator.id),
            created_by_username: Some(creator.username.clone()),
            created_at: rfc3339(user.created_at),
            revoked_at: None,
        },
        token: token.to_owned(),
        joined,
    }
}

/// Creates a bot scoped to this room and adds it (room admins and the
/// owner; not in DMs).
#[utoipa::path(post, path = "/api/rooms/{id}/bots", operation_id = "create_room_bot", tag = "bots",
    request_body = NewRoomBot,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 201, body = CreatedBot), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The username is taken"),
        (status = 422, body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<NewRoomBot>,
) -> Result<(StatusCode, axum::Json<CreatedBot>), Error> {
    managed_room(&state, &user, id).await?;
    let (bot, token) = create_bot(&state, user.id, &body.username, &[id]).await?;
    let joined = if join_plain(&state, user.id, id, bot.id).await? {
        vec![id]
    } else {
        Vec::new()
    };
    tracing::info!(bot_id = bot.id, room_id = id, by = user.id, "bot created");
    Ok((
        StatusCode::CREATED,
        axum::Json(created(&bot, &user, &token, joined)),
    ))
}

/// The bots whose tokens reach or reached this room, revoked ones marked
/// (room admins and the owner).
#[utoipa::path(get, path = "/api/rooms/{id}/bots", operation_id = "list_room_bots", tag = "bots",
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = BotList), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<BotList>, Error> {
    managed_room(&state, &user, id).await?;
    let bots = store::of_room(&state.db, id)
        .await?
        .into_iter()
        .map(|b| BotView {
            id: b.id,
            username: b.username,
            is_bot: true,
            created_by: b.created_by,
            created_by_username: b.created_by_username,
            created_at: rfc3339(b.created_at),
            revoked_at: b.revoked_at.map(rfc3339),
        })
        .collect();
    Ok(axum::Json(BotList {
        success: true,
        bots,
    }))
}

/// Revokes the bot's tokens that reach this room, ends its connections
/// and removes it from a plain room (from a signed one, the admins' client
/// removes it by an entry). Room admins and the owner.
#[utoipa::path(delete, path = "/api/rooms/{id}/bots/{bot_id}", operation_id = "revoke_room_bot", tag = "bots",
    params(("id" = i64, Path, description = "Room id"), ("bot_id" = i64, Path, description = "The bot's user id")),
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn revoke(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, bot_id)): ApiPath<(i64, i64)>,
) -> Result<axum::Json<Success>, Error> {
    let access = managed_room(&state, &user, id).await?;
    if store::revoke_in_room(&state.db, bot_id, id, now_ms()).await? == 0 {
        return Err(bot_not_found());
    }
    state.notify.sessions_ended(bot_id);
    if !crate::rooms::log::is_logged(&state.db, id).await? {
        match crate::rooms::membership::kick(&state, &access, bot_id, None).await {
            Ok(()) | Err(Error::NotFound { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    tracing::info!(bot_id, room_id = id, by = user.id, "bot revoked");
    Ok(axum::Json(Success::new()))
}

/// 404 for a bot id with no live token reaching the room.
fn bot_not_found() -> Error {
    Error::not_found("bot_not_found", "No bot of this room has that id")
}

/// Gives a bot a new token in place of its live tokens that reach this
/// room, which stop working at once, its connections ended: for a bot
/// whose token was lost or leaked. The new token reaches the rooms those
/// reached, no more. Room admins and the owner; 404 for a revoked bot.
#[utoipa::path(post, path = "/api/rooms/{id}/bots/{bot_id}/token", operation_id = "new_room_bot_token", tag = "bots",
    params(("id" = i64, Path, description = "Room id"), ("bot_id" = i64, Path, description = "The bot's user id")),
    responses((status = 201, body = NewBotToken), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "No live bot of this room has that id")))]
async fn new_token(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, bot_id)): ApiPath<(i64, i64)>,
) -> Result<(StatusCode, axum::Json<NewBotToken>), Error> {
    managed_room(&state, &user, id).await?;
    let token = super::new_token();
    let new = store::NewToken {
        bot_id,
        room_id: id,
        token_hash: &state.keys.session_hash(&token),
        created_by: user.id,
        now: now_ms(),
    };
    if !store::replace_token(&state.db, &new).await? {
        return Err(bot_not_found());
    }
    state.notify.sessions_ended(bot_id);
    tracing::info!(bot_id, room_id = id, by = user.id, "bot token replaced");
    Ok((
        StatusCode::CREATED,
        axum::Json(NewBotToken {
            success: true,
            token: token.to_string(),
        }),
    ))
}

/// Creates a bot scoped to the given rooms and adds it to those without a
/// signed membership log (site admins).
#[utoipa::path(post, path = "/api/admin/bots", operation_id = "create_site_bot", tag = "admin",
    request_body = NewSiteBot,
    responses((status = 201, body = CreatedBot), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "A room does not exist"),
        (status = 409, body = ErrorBody, description = "The username is taken"),
        (status = 422, body = ErrorBody)))]
async fn create_for_site(
    State(state): State<AppState>,
    SiteAdmin(admin): SiteAdmin,
    ApiJson(body): ApiJson<NewSiteBot>,
) -> Result<(StatusCode, axum::Json<CreatedBot>), Error> {
    let mut rooms = body.room_ids;
    rooms.sort_unstable();
    rooms.dedup();
    if rooms.is_empty() || rooms.len() > MAX_ROOMS {
        return Err(Error::unprocessable(
            "invalid_rooms",
            format!("A bot reaches 1 to {MAX_ROOMS} rooms"),
        ));
    }
    for &room_id in &rooms {
        let room = crate::rooms::store::room(&state.db, room_id)
            .await?
            .ok_or_else(crate::rooms::access::room_not_found)?;
        if crate::rooms::model::RoomKind::parse(&room.kind) == crate::rooms::model::RoomKind::Dm {
            return Err(Error::forbidden(
                "direct_message",
                "Direct-message conversations have fixed members",
            ));
        }
    }
    let (bot, token) = create_bot(&state, admin.id, &body.username, &rooms).await?;
    let mut joined = Vec::new();
    for &room_id in &rooms {
        if join_plain(&state, admin.id, room_id, bot.id).await? {
            joined.push(room_id);
        }
    }
    tracing::info!(
        bot_id = bot.id,
        by = admin.id,
        "bot created by a site admin"
    );
    Ok((
        StatusCode::CREATED,
        axum::Json(created(&bot, &admin, &token, joined)),
    ))
}
