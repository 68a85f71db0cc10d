//! `GET`/`POST /api/rooms/{id}/membership_log`: the signed membership log.
//!
//! A POST either starts the log (the owner signs `create` and entries that
//! reproduce the current members) or carries one signed change, which the
//! server verifies and then performs exactly as the entry says. The
//! contract is in docs/PROTOCOL.md §6 and §9.

use axum::extract::State;
use axum::http::StatusCode;
use securechat_crypto::{MembershipEntry, MembershipLog, Op};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{AuthUser, store as users};
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath};
use crate::push::{ChannelRef, RoomRef, ServerEvent};
use crate::rooms::access::RoomAccess;
use crate::rooms::log::{self, Head, LogAppend};
use crate::rooms::membership;
use crate::rooms::model::{Role, RoomKind};
use crate::rooms::store;
use crate::state::AppState;
use crate::storage::now_ms;

/// An entry's wire form is 190 characters; anything much longer is not one.
const ENTRY_MAX_CHARS: usize = 256;

#[derive(Serialize, ToSchema)]
pub struct LogResponse {
    pub success: bool,
    pub room_id: i64,
    /// Entry wire strings, in order; empty until the log is started.
    pub entries: Vec<String>,
    pub head: Option<Head>,
}

/// The room's membership log, for clients to verify.
#[utoipa::path(get, path = "/api/rooms/{id}/membership_log", operation_id = "show_membership_log", tag = "members",
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = LogResponse), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<LogResponse>, Error> {
    RoomAccess::load(&state.db, &user, id).await?;
    let entries = log::entries(&state.db, id).await?;
    let head = match entries.last() {
        Some(last) => {
            let entry = MembershipEntry::parse(last).map_err(|e| {
                Error::Internal(anyhow::anyhow!(
                    "stored log entry of room {id} is invalid: {e}"
                ))
            })?;
            Some(Head {
                seq: entry.seq(),
                hash: securechat_crypto::encoding::to_wire(&entry.hash()),
            })
        }
        None => None,
    };
    Ok(axum::Json(LogResponse {
        success: true,
        room_id: id,
        entries,
        head,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct LogSubmission {
    /// Entry wire strings: the whole log to start it, or one change.
    pub entries: Vec<String>,
    /// For a `remove` entry: ban rather than kick.
    #[serde(default)]
    pub ban: bool,
    /// For a ban: why (shown to admins).
    #[serde(default)]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct Appended {
    pub success: bool,
    pub head: Option<Head>,
}

/// Starts the log, or applies one signed membership change.
#[utoipa::path(post, path = "/api/rooms/{id}/membership_log", operation_id = "append_membership_log", tag = "members",
    request_body = LogSubmission,
    params(("id" = i64, Path, description = "Room id")),
    responses((status = 200, body = Appended, description = "Change applied"),
        (status = 201, body = Appended, description = "Log started"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "The log moved on, or does not match the members"),
        (status = 422, body = ErrorBody, description = "The entry does not verify")))]
pub async fn append(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<LogSubmission>,
) -> Result<(StatusCode, axum::Json<Appended>), Error> {
    let access = RoomAccess::load(&state.db, &user, id).await?;
    if body.entries.is_empty() {
        return Err(Error::unprocessable(
            "no_entries",
            "Send at least one entry",
        ));
    }
    if body.entries.iter().any(|e| e.len() > ENTRY_MAX_CHARS) {
        return Err(Error::unprocessable(
            "invalid_field",
            "An entry is too long to be a membership log entry",
        ));
    }
    if crate::keys::store::public_key(&state.db, user.id)
        .await?
        .is_none()
    {
        return Err(Error::unprocessable(
            "no_public_key",
            "Publish your public key (PUT /api/users/me/public_key) before signing membership changes",
        ));
    }
    match log::load(&state.db, id, &[user.id]).await? {
        None => start(&state, &access, &body.entries).await,
        Some(loaded) => change(&state, &access, loaded, body).await,
    }
}

/// Starts the log of a room: only its owner (either person of a DM), and
/// only with entries that reproduce the current members exactly. Once it is
/// stored, the room's members get `membership_log_started` {room_id}.
async fn start(
    state: &AppState,
    access: &RoomAccess,
    wire: &[String],
) -> Result<(StatusCode, axum::Json<Appended>), Error> {
    access.require_log_start()?;
    let dm = access.kind() == RoomKind::Dm;
    let room_id = access.room.id;
    let verified = log::verify_new(&state.db, room_id, wire).await?;
    if verified
        .entries()
        .iter()
        .any(|e| e.actor_id() != access.user_id)
    {
        return Err(Error::unprocessable(
            "log_wrong_actor",
            "Every entry that starts a log must be signed by you",
        ));
    }
    if verified.state().room_id != room_id {
        return Err(Error::unprocessable(
            "log_wrong_room",
            "The entries are for another room",
        ));
    }
    if verified.state().public == access.room.is_private {
        return Err(log_mismatch(if access.room.is_private {
            "the room is private, but the log says public".to_owned()
        } else {
            "the room is public, but the log says private".to_owned()
        }));
    }
    check_members_match(state, room_id, &verified, dm).await?;
    log::insert_all(&state.db, room_id, &verified, access.user_id, now_ms())
        .await
        .map_err(|e| {
            if log::is_seq_conflict(&e) {
                Error::conflict(
                    "log_exists",
                    "This room's membership log was started meanwhile",
                )
            } else {
                e.into()
            }
        })?
        .map_err(not_an_encrypted_channel)?;
    // Committed: members waiting for the log (to share keys) retry now.
    let event = ServerEvent::MembershipLogStarted(RoomRef { room_id });
    tell_members(state, room_id, event).await;
    Ok((
        StatusCode::CREATED,
        axum::Json(Appended {
            success: true,
            head: Head::of(&verified),
        }),
    ))
}

fn log_mismatch(what: String) -> Error {
    Error::conflict(
        "log_mismatch",
        format!("The log does not match the room: {what}"),
    )
}

/// The log's members and roles must be the room's (a DM's roles are not
/// compared: both people are plain members of the room).
async fn check_members_match(
    state: &AppState,
    room_id: i64,
    log: &MembershipLog,
    dm: bool,
) -> Result<(), Error> {
    let members = store::members(&state.db, room_id).await?;
    for m in &members {
        match log.members().get(&m.user_id) {
            None => {
                return Err(log_mismatch(format!("{} is missing", m.username)));
            }
            Some(role) if !dm && role.as_str() != m.role => {
                return Err(log_mismatch(format!(
                    "{} is {} in the room but {} in the log",
                    m.username,
                    m.role,
                    role.as_str()
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = log
        .members()
        .keys()
        .find(|id| !members.iter().any(|m| m.user_id == **id))
    {
        return Err(log_mismatch(format!("user {extra} is not a member")));
    }
    Ok(())
}

/// Pushes `event` to the room's members, once a change is committed (a
/// failure to list them is logged: the change stands).
async fn tell_members(state: &AppState, room_id: i64, event: ServerEvent) {
    match store::members(&state.db, room_id).await {
        Ok(members) => state
            .notify
            .to_users(members.iter().map(|m| m.user_id).collect(), event),
        Err(e) => tracing::warn!(room_id, error = %e, event = event.name(), "not pushed"),
    }
}

fn not_an_encrypted_channel(log::NotEncrypted(channel): log::NotEncrypted) -> Error {
    Error::unprocessable(
        "channel_not_encrypted",
        format!(
            "Channel {channel} is not an encrypted channel of this room, so it cannot be registered"
        ),
    )
}

/// Verifies one signed change and performs it.
async fn change(
    state: &AppState,
    access: &RoomAccess,
    mut loaded: log::Loaded,
    body: LogSubmission,
) -> Result<(StatusCode, axum::Json<Appended>), Error> {
    let starts_a_log = body
        .entries
        .first()
        .and_then(|w| MembershipEntry::parse(w).ok())
        .is_some_and(|e| e.op() == Op::Create);
    if starts_a_log {
        return Err(Error::conflict(
            "log_exists",
            "This room's membership log is already started; fetch it and sign one change",
        ));
    }
    let [wire] = body.entries.as_slice() else {
        return Err(Error::unprocessable(
            "one_entry",
            "This room's log is started: send exactly one entry per change",
        ));
    };
    let entry = MembershipEntry::parse(wire).map_err(log::crypto_error)?;
    if entry.actor_id() != access.user_id {
        return Err(Error::unprocessable(
            "log_wrong_actor",
            "Sign the entry yourself: its actor must be you",
        ));
    }
    let op = entry.op();
    if matches!(op, Op::Create | Op::ServerRemove) {
        return Err(Error::unprocessable(
            "log_unauthorized",
            "Clients cannot submit create or server_remove entries to a started log",
        ));
    }
    loaded
        .log
        .apply(entry.clone(), &loaded.keys)
        .map_err(log::crypto_error)?;
    let append = Some(LogAppend::new(&entry));
    let subject = entry.subject_id();
    match op {
        Op::Add => {
            let target = users::user_by_id(&state.db, subject)
                .await?
                .filter(|u| !u.disabled)
                .ok_or_else(|| Error::not_found("user_not_found", "No such user"))?;
            let role = server_role(entry.role());
            membership::add(state, access, target, role, append).await?;
        }
        Op::Remove if body.ban => {
            let target = users::user_by_id(&state.db, subject)
                .await?
                .ok_or_else(|| Error::not_found("user_not_found", "No such user"))?;
            membership::ban(state, access, &target, &body.reason, append).await?;
        }
        Op::Remove => membership::kick(state, access, subject, append).await?,
        Op::Leave => membership::leave(state, access, append).await?,
        Op::JoinPublic => {
            membership::join(state, access, append).await?;
        }
        Op::SetRole => match server_role(entry.role()) {
            Role::Owner => membership::transfer(state, access, subject, append).await?,
            role => {
                membership::set_role(state, access, subject, role, append).await?;
            }
        },
        Op::Channel | Op::Disappearing => {
            log::insert_channel(&state.db, access.room.id, &entry, now_ms())
                .await
                .map_err(|e| {
                    if log::is_seq_conflict(&e) {
                        log::conflict()
                    } else {
                        e.into()
                    }
                })?
                .map_err(not_an_encrypted_channel)?;
            // Members whose clients wait for the registration go on now. A
            // signed timer needs no event of its own: the channel's setting
            // is changed next by `PUT /api/channels/{id}/disappearing`, whose
            // channel event makes members verify the log again.
            if op == Op::Channel {
                let event = ServerEvent::ChannelRegistered(ChannelRef {
                    room_id: access.room.id,
                    channel_id: subject,
                });
                tell_members(state, access.room.id, event).await;
            }
        }
        Op::Create | Op::ServerRemove => unreachable_op()?,
    }
    Ok((
        StatusCode::OK,
        axum::Json(Appended {
            success: true,
            head: Head::of(&loaded.log),
        }),
    ))
}

fn unreachable_op() -> Result<(), Error> {
    Err(Error::unprocessable(
        "log_unauthorized",
        "This operation cannot be submitted",
    ))
}

/// The server's role for a log role (a parsed entry that takes a role
/// always has one; `member` otherwise).
fn server_role(role: Option<securechat_crypto::Role>) -> Role {
    match role {
        Some(securechat_crypto::Role::Owner) => Role::Owner,
        Some(securechat_crypto::Role::Admin) => Role::Admin,
        _ => Role::Member,
    }
}
