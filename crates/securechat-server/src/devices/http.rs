//! `PUT /api/users/me/devices`, `GET /api/users/{id}/devices`,
//! `PUT /api/users/me/devices/{device_id}/prekey`, and each device's
//! mailbox: `GET /api/users/me/devices/{device_id}/shares` and
//! `POST /api/users/me/devices/{device_id}/shares/ack`.

use axum::extract::State;
use securechat_crypto::encoding::from_wire;
use securechat_crypto::{DeviceList, PublicBundle, SignedPrekey};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, MailboxRow, NewList, NewPrekey, PrekeyPut};
use super::{MAX_DEVICE_ID, parse_stored, stored_list, unknown_device};
use crate::auth::AuthUser;
use crate::auth::store as users;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::keys::store as keys;
use crate::state::AppState;
use crate::storage::{now_ms, rfc3339};

/// Longest device list accepted, in characters (32 devices take 1828).
const MAX_LIST: usize = 2048;
/// Longest prekey accepted, in characters (one takes 168).
const MAX_PREKEY: usize = 512;
/// Mailbox page size: default and most.
const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 500;
/// Most shares acknowledged in one request.
const MAX_ACK: usize = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_devices))
        .routes(routes!(get_devices))
        .routes(routes!(put_prekey))
        .routes(routes!(mailbox))
        .routes(routes!(acknowledge))
}

#[derive(Deserialize, ToSchema)]
pub struct DeviceListUpload {
    /// A device list (crypto crate `DeviceList`, wire form) signed by the
    /// identity whose bundle is my published `public_key`.
    pub device_list: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeviceListStored {
    pub success: bool,
    pub version: u64,
}

/// Publishes my device list. It must verify under my published bundle and
/// carry a higher version than the stored one (of two lists with the same
/// version, one is stored). Devices that left the list lose their prekey
/// and their pending shares.
#[utoipa::path(put, path = "/api/users/me/devices", tag = "devices", request_body = DeviceListUpload,
    responses((status = 200, body = DeviceListStored),
        (status = 409, body = ErrorBody, description = "Not newer than the stored list (`device_list_outdated`)"),
        (status = 422, body = ErrorBody, description = "No published key (`no_public_key`), or not a list signed by it (`invalid_device_list`)")))]
async fn put_devices(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<DeviceListUpload>,
) -> Result<axum::Json<DeviceListStored>, Error> {
    if body.device_list.len() > MAX_LIST {
        return Err(Error::unprocessable(
            "invalid_device_list",
            "The device list is too long",
        ));
    }
    let published = keys::public_key(&state.db, user.id).await?.ok_or_else(|| {
        Error::unprocessable(
            "no_public_key",
            "Publish your public key before your device list",
        )
    })?;
    let bundle = PublicBundle::parse_for(&published.public_key, user.id)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored bundle unreadable: {e}")))?;
    let list = DeviceList::parse_for(&body.device_list, &bundle).map_err(|e| {
        Error::unprocessable(
            "invalid_device_list",
            format!(
                "Not a device list signed by your published key ({}): {e}",
                e.code()
            ),
        )
    })?;
    let version = i64::try_from(list.version())
        .ok()
        .filter(|_| list.version() <= MAX_DEVICE_ID)
        .ok_or_else(|| {
            Error::unprocessable("invalid_device_list", "The list version is out of range")
        })?;
    let device_ids: Vec<i64> = list
        .devices()
        .iter()
        .filter_map(|d| i64::try_from(d.device_id).ok())
        .collect();
    let new = NewList {
        user_id: user.id,
        version,
        fingerprint: &published.fingerprint,
        device_list: &body.device_list,
        device_ids: &device_ids,
    };
    if !store::put_device_list(&state.db, &new, now_ms()).await? {
        return Err(Error::conflict(
            "device_list_outdated",
            format!(
                "Version {version} is not newer than your stored device list; fetch it and \
                 sign a higher version"
            ),
        ));
    }
    tracing::info!(user_id = user.id, version, "device list changed");
    Ok(axum::Json(DeviceListStored {
        success: true,
        version: list.version(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DeviceView {
    /// Below 2^53.
    pub device_id: u64,
    /// The device's current signed prekey (crypto crate `SignedPrekey`).
    pub prekey: Option<String>,
    /// When the device last published a prekey or fetched its shares.
    pub last_seen_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DevicesResponse {
    pub success: bool,
    /// The signed device list, to verify against the person's identity;
    /// null if they have published none.
    pub device_list: Option<String>,
    /// The listed devices, ascending by id.
    pub devices: Vec<DeviceView>,
}

/// A person's signed device list and each listed device's current prekey.
#[utoipa::path(get, path = "/api/users/{id}/devices", tag = "devices",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = DevicesResponse),
        (status = 404, body = ErrorBody, description = "No such user (`user_not_found`)")))]
async fn get_devices(
    State(state): State<AppState>,
    _user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::Json<DevicesResponse>, Error> {
    if users::user_by_id(&state.db, id).await?.is_none() {
        return Err(Error::not_found("user_not_found", "No such user"));
    }
    let Some(wire) = store::device_list(&state.db, id).await? else {
        return Ok(axum::Json(DevicesResponse {
            success: true,
            device_list: None,
            devices: Vec::new(),
        }));
    };
    let list = parse_stored(&wire)?;
    let mut prekeys = store::prekeys(&state.db, id).await?;
    let devices = list
        .devices()
        .iter()
        .map(|d| {
            let prekey = prekeys
                .iter()
                .position(|p| u64::try_from(p.device_id).ok() == Some(d.device_id))
                .map(|at| prekeys.swap_remove(at));
            DeviceView {
                device_id: d.device_id,
                last_seen_at: prekey.as_ref().map(|p| rfc3339(p.last_seen_at)),
                prekey: prekey.map(|p| p.prekey),
            }
        })
        .collect();
    Ok(axum::Json(DevicesResponse {
        success: true,
        device_list: Some(wire),
        devices,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct PrekeyUpload {
    /// A prekey (crypto crate `SignedPrekey`) of this device, signed by it.
    pub prekey: String,
}

#[derive(Serialize, ToSchema)]
pub struct PrekeyStored {
    pub success: bool,
    pub prekey_id: u32,
}

/// Publishes one of my devices' prekey, replacing its current one. It
/// must name me and this device, verify under the device's key in my
/// stored list, and carry a higher `prekey_id` than the stored one. Shares
/// sealed to the replaced prekey stay in the mailbox until fetched.
#[utoipa::path(put, path = "/api/users/me/devices/{device_id}/prekey", tag = "devices",
    request_body = PrekeyUpload,
    params(("device_id" = u64, Path, description = "One of my devices")),
    responses((status = 200, body = PrekeyStored),
        (status = 409, body = ErrorBody, description = "Not newer than the stored prekey (`stale_prekey`), or the device list changed meanwhile (`device_list_changed`)"),
        (status = 422, body = ErrorBody, description = "The device is not in my list (`unknown_device`), or the prekey is not this device's (`invalid_prekey`)")))]
async fn put_prekey(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(device_id): ApiPath<u64>,
    ApiJson(body): ApiJson<PrekeyUpload>,
) -> Result<axum::Json<PrekeyStored>, Error> {
    let invalid = |why: String| Error::unprocessable("invalid_prekey", why);
    if body.prekey.len() > MAX_PREKEY {
        return Err(invalid("The prekey is too long".into()));
    }
    let prekey = from_wire(&body.prekey)
        .and_then(|bytes| SignedPrekey::from_bytes(&bytes))
        .map_err(|e| invalid(format!("Not a signed prekey ({}): {e}", e.code())))?;
    if prekey.user_id() != user.id || prekey.device_id() != device_id {
        return Err(invalid(
            "The prekey names another person or device than this one".into(),
        ));
    }
    let (id, list) = my_device(&state, &user, device_id).await?;
    prekey
        .verify(&list)
        .map_err(|e| invalid(format!("The prekey does not verify ({}): {e}", e.code())))?;
    let created_ms = i64::try_from(prekey.created_ms())
        .map_err(|_| invalid("The prekey's creation time is out of range".into()))?;
    let new = NewPrekey {
        user_id: user.id,
        device_id: id,
        list_version: i64::try_from(list.version()).unwrap_or(i64::MAX),
        prekey_id: i64::from(prekey.prekey_id()),
        prekey: &body.prekey,
        created_ms,
    };
    match store::put_prekey(&state.db, &new, now_ms()).await? {
        PrekeyPut::Stored => Ok(axum::Json(PrekeyStored {
            success: true,
            prekey_id: prekey.prekey_id(),
        })),
        PrekeyPut::Stale => Err(Error::conflict(
            "stale_prekey",
            format!(
                "Prekey {} is not newer than this device's stored prekey",
                prekey.prekey_id()
            ),
        )),
        PrekeyPut::ListChanged => Err(Error::conflict(
            "device_list_changed",
            "Your device list changed while the prekey was checked; try again",
        )),
    }
}

/// One of my own listed devices, by path id, and my stored list.
async fn my_device(
    state: &AppState,
    user: &AuthUser,
    device_id: u64,
) -> Result<(i64, DeviceList), Error> {
    let list = stored_list(&state.db, user.id)
        .await?
        .filter(|list| list.device(device_id).is_ok());
    match (i64::try_from(device_id), list) {
        (Ok(id), Some(list)) => Ok((id, list)),
        _ => Err(unknown_device(device_id)),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailboxQuery {
    /// Shares with ids above this one (the previous page's `next`).
    pub after: Option<i64>,
    /// 1-500, default 100.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct MailboxPage {
    pub success: bool,
    /// Oldest first.
    pub shares: Vec<MailboxRow>,
    /// `after` for the next page; null when this was the last one.
    pub next: Option<i64>,
}

/// The key shares waiting for one of my devices. They stay until the device
/// acknowledges them (or for the retention period).
#[utoipa::path(get, path = "/api/users/me/devices/{device_id}/shares", operation_id = "list_device_shares",
    tag = "devices",
    params(MailboxQuery, ("device_id" = u64, Path, description = "One of my devices")),
    responses((status = 200, body = MailboxPage),
        (status = 422, body = ErrorBody, description = "The device is not in my list (`unknown_device`)")))]
async fn mailbox(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(device_id): ApiPath<u64>,
    ApiQuery(query): ApiQuery<MailboxQuery>,
) -> Result<axum::Json<MailboxPage>, Error> {
    let (device_id, _) = my_device(&state, &user, device_id).await?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let after = query.after.unwrap_or(0);
    let rows = store::mailbox(&state.db, user.id, device_id, after, limit).await?;
    store::seen(&state.db, user.id, device_id, now_ms()).await?;
    let full = i64::try_from(rows.len()).is_ok_and(|n| n == limit);
    let next = rows.last().filter(|_| full).map(|r| r.id);
    Ok(axum::Json(MailboxPage {
        success: true,
        shares: rows,
        next,
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct Acknowledge {
    /// Ids of shares this device has opened and stored (at most 500).
    pub ids: Vec<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct Acknowledged {
    pub success: bool,
    /// How many of them were deleted (ids of other devices' shares, or of
    /// shares already deleted, are skipped).
    pub deleted: u64,
}

/// Deletes shares my device has fetched: the server keeps no copy of a
/// share once its device holds it.
#[utoipa::path(post, path = "/api/users/me/devices/{device_id}/shares/ack", operation_id = "ack_device_shares",
    tag = "devices", request_body = Acknowledge,
    params(("device_id" = u64, Path, description = "One of my devices")),
    responses((status = 200, body = Acknowledged),
        (status = 422, body = ErrorBody, description = "The device is not in my list (`unknown_device`), or more than 500 ids (`too_many_ids`)")))]
async fn acknowledge(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(device_id): ApiPath<u64>,
    ApiJson(body): ApiJson<Acknowledge>,
) -> Result<axum::Json<Acknowledged>, Error> {
    if body.ids.len() > MAX_ACK {
        return Err(Error::unprocessable(
            "too_many_ids",
            format!("Acknowledge at most {MAX_ACK} shares at a time"),
        ));
    }
    let (device_id, _) = my_device(&state, &user, device_id).await?;
    let deleted = store::acknowledge(&state.db, user.id, device_id, &body.ids).await?;
    Ok(axum::Json(Acknowledged {
        success: true,
        deleted,
    }))
}
