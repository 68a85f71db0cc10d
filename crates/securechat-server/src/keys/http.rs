//! The seed's key API: `PUT /api/users/me/public_key`,
//! `GET /api/users/{id}/public_key`, `POST /api/channels/share_key`,
//! `GET /api/channels/{id}/key`, `POST /api/channels/{id}/request_key`,
//! `PUT`/`GET /api/users/me/key_backup`.

use axum::extract::{DefaultBodyLimit, State};
use securechat_crypto::{Backup, PublicBundle, SealedShare, SharePurpose};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, Copied, Created, DeviceTarget, ShareRow};
use crate::auth::AuthUser;
use crate::devices;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery, Success};
use crate::push::{self, Audience, ServerEvent};
use crate::rooms::access::RoomAccess;
use crate::rooms::model::{Action, Role};
use crate::rooms::store as rooms;
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};

/// How long a key request stays open.
const REQUEST_TTL_MS: i64 = 24 * 3600 * 1000;
/// Largest key backup accepted, in base64url characters: a format-2 backup
/// with the largest trust document the crypto crate seals, and its header.
const MAX_BACKUP: usize = (securechat_crypto::backup::MAX_TRUST_LEN + 256) * 4 / 3;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_public_key))
        .routes(routes!(get_public_key))
        .routes(routes!(get_public_keys))
        .routes(routes!(share_key))
        .routes(routes!(my_key))
        .routes(routes!(request_key))
        .merge(
            // A backup carries the client's pins and log heads: it may be
            // larger than the API's other JSON bodies.
            OpenApiRouter::new()
                .routes(routes!(put_backup, get_backup))
                .layer(DefaultBodyLimit::max(MAX_BACKUP + 1024)),
        )
}

#[derive(Deserialize, ToSchema)]
pub struct PublicKeyUpload {
    /// A key bundle from the crypto crate, self-signed for this user.
    pub public_key: String,
}

#[derive(Serialize, ToSchema)]
pub struct PublicKeyResponse {
    pub success: bool,
    pub user_id: i64,
    pub public_key: String,
    pub fingerprint: String,
    pub updated_at: String,
}

/// Publishes my key bundle. A change is pushed to everyone who shares a
/// room with me as `public_key_changed`.
#[utoipa::path(put, path = "/api/users/me/public_key", tag = "keys", request_body = PublicKeyUpload,
    responses((status = 200, body = PublicKeyResponse), (status = 422, body = ErrorBody)))]
async fn put_public_key(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<PublicKeyUpload>,
) -> Result<axum::Json<PublicKeyResponse>, Error> {
    if body.public_key.len() > 1024 {
        return Err(Error::unprocessable(
            "invalid_public_key",
            "The key bundle is too long",
        ));
    }
    let bundle = PublicBundle::parse_for(&body.public_key, user.id).map_err(|e| {
        Error::unprocessable(
            "invalid_public_key",
            format!("Not a valid key bundle for this user: {e}"),
        )
    })?;
    let fingerprint = super::fingerprint(&bundle);
    let now = now_ms();
    let changed =
        store::set_public_key(&state.db, user.id, &body.public_key, &fingerprint, now).await?;
    if changed {
        tracing::info!(user_id = user.id, "public key changed");
        let peers = rooms::co_members(&state.db, user.id).await?;
        let event = ServerEvent::PublicKeyChanged(push::PublicKeyChanged {
            user_id: user.id,
            username: user.username,
            fingerprint: fingerprint.clone(),
        });
        state.notify.to_users(peers, event);
    }
    Ok(axum::Json(PublicKeyResponse {
        success: true,
        user_id: user.id,
        public_key: body.public_key,
        fingerprint,
        updated_at: rfc3339(now),
    }))
}

/// A user's key bundle, as the seed's client reads it (`public_key`).
#[utoipa::path(get, path = "/api/users/{id}/public_key", tag = "keys",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = PublicKeyResponse),
        (status = 404, body = ErrorBody, description = "No such user, or no key published")))]
async fn get_public_key(
    State(state): State<AppState>,
    _user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<PublicKeyResponse>, Error> {
    let row = store::public_key(&state.db, id).await?.ok_or_else(|| {
        Error::not_found("no_public_key", "That user has not published a key yet")
    })?;
    Ok(axum::Json(PublicKeyResponse {
        success: true,
        user_id: id,
        public_key: row.public_key,
        fingerprint: row.fingerprint,
        updated_at: rfc3339(row.updated_at),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PublishedKey {
    pub public_key: String,
    pub fingerprint: String,
    pub changed_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct PublicKeyHistory {
    pub success: bool,
    pub user_id: i64,
    /// Oldest first; the last one is the current bundle.
    pub keys: Vec<PublishedKey>,
}

/// Every bundle a user has published. Membership log entries signed before
/// a key change verify only under the key of their time, and a client that
/// pinned an older key can see how the user's keys changed.
#[utoipa::path(get, path = "/api/users/{id}/public_keys", tag = "keys",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = PublicKeyHistory)))]
async fn get_public_keys(
    State(state): State<AppState>,
    _user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<PublicKeyHistory>, Error> {
    let keys = store::key_history(&state.db, id)
        .await?
        .into_iter()
        .map(|row| PublishedKey {
            public_key: row.public_key,
            fingerprint: row.fingerprint,
            changed_at: rfc3339(row.changed_at),
        })
        .collect();
    Ok(axum::Json(PublicKeyHistory {
        success: true,
        user_id: id,
        keys,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct ShareKey {
    /// The recipient.
    pub user_id: i64,
    pub channel_id: i64,
    /// The sealed share (crypto crate `SealedShare`, wire form).
    pub encrypted_key: String,
    #[serde(default)]
    pub is_key_rotation: bool,
    /// Defaults to the channel's current version.
    pub key_version: Option<i64>,
}

/// Stores one recipient's sealed copy of a channel key and pushes it to
/// them as `channel_key_share`.
///
/// Any member may make the next key version (when a rotation is pending,
/// or when its own version is used up): the first `initial` or `rotation`
/// share of a version claims it for its sender, and the sender's own copy
/// makes it current. Others get 409 `rotation_taken` until the claim
/// expires (after 120 s); a version's key, once current, is
/// only ever shared by its creator, and a stored copy is never replaced by
/// another member's (409 `share_exists`). `request` shares answer a key
/// request: any member, current version only.
///
/// A format-3 share is sealed to one device's prekey: the device must be in
/// the recipient's device list (422 `unknown_device`) and the prekey its
/// current one (409 `stale_prekey`: fetch the devices and re-seal). It is
/// stored in that device's mailbox and pushed with its `device_id`; the
/// sender's copy to its own device claims and makes a version as a
/// format-2 copy to itself does.
#[utoipa::path(post, path = "/api/channels/share_key", tag = "keys", request_body = ShareKey,
    responses((status = 200, body = Success), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Not the current, pending or next key version (`stale_key_version`); another member claimed or made it (`rotation_taken`); the recipient holds another member's copy (`share_exists`); sealed to a prekey that is not the device's current one (`stale_prekey`)"),
        (status = 422, body = ErrorBody, description = "Not a share for this channel, version, sender and recipient; sealed to a device not in the recipient's list (`unknown_device`)")))]
async fn share_key(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<ShareKey>,
) -> Result<axum::Json<Success>, Error> {
    let (access, channel) = RoomAccess::member_channel(&state.db, &user, body.channel_id).await?;
    if !channel.is_encrypted {
        return Err(Error::unprocessable(
            "not_encrypted",
            "This channel is not encrypted",
        ));
    }
    if rooms::role_of(&state.db, access.room.id, body.user_id)
        .await?
        .is_none()
    {
        return Err(Error::forbidden(
            "recipient_not_member",
            "The recipient is not a member of this channel",
        ));
    }
    let version = body.key_version.unwrap_or(channel.key_version);
    let acceptable = (version >= 1 && version == channel.key_version)
        || channel.pending_version == Some(version)
        || (channel.pending_version.is_none() && version == channel.key_version + 1);
    if !acceptable {
        return Err(stale(version, channel.key_version));
    }
    let share = SealedShare::parse(&body.encrypted_key)
        .map_err(|e| Error::unprocessable("invalid_share", format!("Not a sealed share: {e}")))?;
    let ctx = share.context();
    // A format-2 share names its room too (format 1, made before it, names none).
    let matches = ctx.channel_id == channel.id
        && (share.binding().is_none() || ctx.room_id == access.room.id)
        && i64::from(ctx.key_version) == version
        && ctx.sender_id == user.id
        && ctx.recipient_id == body.user_id
        && ctx.purpose.is_key_rotation() == body.is_key_rotation;
    if !matches {
        return Err(Error::unprocessable(
            "share_context_mismatch",
            "The share is sealed for another room, channel, version, sender, recipient or purpose",
        ));
    }
    let sender_key = store::public_key(&state.db, user.id)
        .await?
        .ok_or_else(|| {
            Error::conflict(
                "no_public_key",
                "Publish your public key before sharing keys",
            )
        })?;
    let sender_bundle = PublicBundle::parse_for(&sender_key.public_key, user.id)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored bundle unreadable: {e}")))?;
    share.verify_signature(&sender_bundle).map_err(|_| {
        Error::unprocessable("bad_share_signature", "The share is not signed by your key")
    })?;
    // A format-3 share is sealed to one device's prekey and goes to its mailbox.
    let device = match share.prekey() {
        Some(target) => {
            let (device_id, prekey_id) =
                devices::share_target(&state.db, body.user_id, target).await?;
            Some(DeviceTarget {
                device_id,
                prekey_id,
            })
        }
        None => None,
    };
    let now = now_ms();
    let row = ShareRow {
        channel_id: channel.id,
        key_version: version,
        recipient_id: body.user_id,
        sender_id: user.id,
        encrypted_key: body.encrypted_key.clone(),
        is_key_rotation: body.is_key_rotation,
        created_at: now,
        key_commitment: share
            .binding()
            .map(|b| crate::files::naming::hex(&b.commitment)),
    };
    let is_request = matches!(ctx.purpose, SharePurpose::Request { .. });
    if is_request {
        // An answer to a key request: any member, current version only.
        if version < 1 || version != channel.key_version {
            return Err(stale(version, channel.key_version));
        }
        match store::put_share(&state.db, &row, device).await? {
            Copied::Stored => {}
            Copied::Exists => return Err(share_exists()),
            Copied::StalePrekey => return Err(stale_prekey(device)),
        }
    } else {
        // A share that makes a version: its first share claims it.
        match store::create_share(&state.db, &row, device, now).await? {
            Created::Stored { promoted } => {
                if promoted {
                    tracing::info!(channel_id = channel.id, version, "key version created");
                    if version > 1 {
                        let event = ServerEvent::TimelineUpdated(push::RoomRef {
                            room_id: channel.room_id,
                        });
                        state.notify.push(event, Audience::Room(channel.room_id));
                    }
                }
            }
            Created::Taken => {
                return Err(Error::conflict(
                    "rotation_taken",
                    format!(
                        "Another member is already making key version {version} of this \
                         channel; wait for their key"
                    ),
                ));
            }
            Created::Stale { current } => return Err(stale(version, current)),
            Created::Exists => return Err(share_exists()),
            Created::StalePrekey => return Err(stale_prekey(device)),
        }
    }
    if is_request || !body.is_key_rotation {
        store::fulfil_requests(&state.db, channel.id, body.user_id, user.id, now).await?;
    }
    let event = ServerEvent::ChannelKeyShare(push::ChannelKeyShare {
        channel_id: channel.id,
        encrypted_key: body.encrypted_key,
        key_version: version,
        is_key_rotation: body.is_key_rotation,
        sender_id: user.id,
        device_id: device.map(|d| d.device_id),
    });
    state.notify.to_users(vec![body.user_id], event);
    Ok(axum::Json(Success::new()))
}

fn stale(version: i64, current: i64) -> Error {
    Error::conflict(
        "stale_key_version",
        format!("Key version {version} is neither the current ({current}) nor the pending one"),
    )
}

/// The prekey was replaced, or its device removed, after the check and
/// before the write.
fn stale_prekey(device: Option<DeviceTarget>) -> Error {
    devices::stale_prekey(device.map_or(0, |d| d.prekey_id), None)
}

fn share_exists() -> Error {
    Error::conflict(
        "share_exists",
        "This recipient already holds another member's copy of this key version",
    )
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyQuery {
    /// An older version, to read history; default the current one.
    pub version: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct MyKey {
    pub success: bool,
    pub channel_id: i64,
    pub key_version: i64,
    pub encrypted_key: String,
    pub is_key_rotation: bool,
    pub sender_id: i64,
}

/// My sealed copy of a channel key.
#[utoipa::path(get, path = "/api/channels/{id}/key", operation_id = "get_channel_key", tag = "keys",
    params(KeyQuery, ("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = MyKey),
        (status = 404, body = ErrorBody, description = "No copy for me: request it"),
        (status = 422, body = ErrorBody, description = "The channel is not encrypted (`not_encrypted`)")))]
async fn my_key(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<KeyQuery>,
) -> Result<axum::Json<MyKey>, Error> {
    let (_, channel) = RoomAccess::member_channel(&state.db, &user, id).await?;
    let version = query.version.unwrap_or(channel.key_version);
    let row = store::share(&state.db, id, version, user.id).await?.ok_or_else(|| {
        Error::not_found(
            "no_key_share",
            "You have no copy of this key version; request it with POST /api/channels/{id}/request_key",
        )
    })?;
    Ok(axum::Json(MyKey {
        success: true,
        channel_id: id,
        key_version: row.key_version,
        encrypted_key: row.encrypted_key,
        is_key_rotation: row.is_key_rotation,
        sender_id: row.sender_id,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct RequestResponse {
    pub success: bool,
    pub request_id: i64,
}

/// Asks the room's admins for the channel key; they get `channel_key_request`.
/// Asking again while a request is open returns the same request.
#[utoipa::path(post, path = "/api/channels/{id}/request_key", tag = "keys",
    params(("id" = i64, Path, description = "Channel id")),
    responses((status = 200, body = RequestResponse), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "The channel is not encrypted (`not_encrypted`)")))]
async fn request_key(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<RequestResponse>, Error> {
    let (access, channel) = RoomAccess::member_channel(&state.db, &user, id).await?;
    if !channel.is_encrypted {
        return Err(Error::unprocessable(
            "not_encrypted",
            "This channel is not encrypted",
        ));
    }
    let now = now_ms();
    let request_id = match store::open_request(&state.db, id, user.id, now).await? {
        Some(open) => open,
        None => store::create_request(&state.db, id, user.id, now, now + REQUEST_TTL_MS).await?,
    };
    let approvers: Vec<i64> = rooms::members(&state.db, access.room.id)
        .await?
        .into_iter()
        .filter(|m| m.user_id != user.id)
        .filter(|m| Role::parse(&m.role).is_some_and(|r| r.may(Action::ApproveKeyRequests)))
        .map(|m| m.user_id)
        .collect();
    let event = ServerEvent::ChannelKeyRequest(push::ChannelKeyRequest {
        channel_id: id,
        room_id: access.room.id,
        requester_id: user.id,
        requester_username: user.username,
        request_id,
        key_version: channel.key_version,
    });
    state.notify.to_users(approvers, event);
    Ok(axum::Json(RequestResponse {
        success: true,
        request_id,
    }))
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct KeyBackup {
    /// The identity and the client's trust state, sealed under a recovery key
    /// or passphrase (crypto crate `Backup`).
    pub backup: String,
}

/// Stores my sealed key backup (identity, pins, log heads). The server
/// cannot open it.
#[utoipa::path(put, path = "/api/users/me/key_backup", tag = "keys", request_body = KeyBackup,
    responses((status = 200, body = Success), (status = 422, body = ErrorBody)))]
async fn put_backup(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<KeyBackup>,
) -> Result<axum::Json<Success>, Error> {
    if body.backup.len() > MAX_BACKUP || Backup::parse(&body.backup).is_err() {
        return Err(Error::unprocessable(
            "invalid_backup",
            "Not a key backup made by a Securechat client",
        ));
    }
    store::put_backup(&state.db, user.id, &body.backup, now_ms()).await?;
    Ok(axum::Json(Success::new()))
}

#[derive(Serialize, ToSchema)]
pub struct BackupResponse {
    pub success: bool,
    /// The sealed backup; null when none is stored yet. Having no backup
    /// is a state every new account is in, not an error, so it is not a
    /// 404 (which browsers report in their console as a failed load).
    pub backup: Option<String>,
    /// When it was stored; null when none is.
    pub updated_at: Option<String>,
}

/// My sealed key backup, to restore on a new device.
#[utoipa::path(get, path = "/api/users/me/key_backup", tag = "keys",
    responses((status = 200, body = BackupResponse)))]
async fn get_backup(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<axum::Json<BackupResponse>, Error> {
    let stored = store::backup(&state.db, user.id).await?;
    Ok(axum::Json(BackupResponse {
        success: true,
        updated_at: stored.as_ref().map(|(_, at)| rfc3339(*at)),
        backup: stored.map(|(backup, _)| backup),
    }))
}
