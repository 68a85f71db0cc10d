//! Several devices per person: the server stores each person's device list
//! (signed by their identity, verified against their published bundle
//! before it is stored), each device's current signed prekey, and a mailbox
//! per device for the key shares sealed to its prekey (share format 3),
//! which the device fetches and acknowledges. It can add no device (it
//! cannot sign one) and open no share.
//!
//! - [`http`]: the device list, prekeys and the mailbox.
//! - [`link`]: relaying a device link (offer, answer, sealed payload).
//! - [`store`]: the SQL; `keys::store` stores format-3 shares through it.

pub mod http;
pub mod link;
pub mod store;

use securechat_crypto::DeviceList;
use securechat_crypto::encoding::from_wire;
use securechat_crypto::share::PrekeyRef;

use crate::error::Error;
use crate::storage::Db;

/// Largest device id (ids fit JavaScript's safe integers).
pub const MAX_DEVICE_ID: u64 = (1 << 53) - 1;

/// A person's stored device list, parsed (it was verified when stored).
pub async fn stored_list(db: &Db, user_id: i64) -> Result<Option<DeviceList>, Error> {
    match store::device_list(db, user_id).await? {
        Some(wire) => parse_stored(&wire).map(Some),
        None => Ok(None),
    }
}

/// Parses a stored device list.
pub fn parse_stored(wire: &str) -> Result<DeviceList, Error> {
    from_wire(wire)
        .and_then(|bytes| DeviceList::from_bytes(&bytes))
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored device list unreadable: {e}")))
}

/// Checks where a format-3 share to `recipient_id` goes: the device it
/// names must be in the recipient's stored list (422 `unknown_device`) and
/// the prekey it is sealed to that device's current one (409
/// `stale_prekey`), so the sender fetches the devices again and re-seals.
/// Returns the device and prekey ids as stored. The write checks the
/// prekey again ([`store::lock_prekey`]).
pub async fn share_target(
    db: &Db,
    recipient_id: i64,
    target: &PrekeyRef,
) -> Result<(i64, i64), Error> {
    let listed = stored_list(db, recipient_id)
        .await?
        .is_some_and(|list| list.device(target.device_id).is_ok());
    let device_id = i64::try_from(target.device_id).ok().filter(|_| listed);
    let Some(device_id) = device_id else {
        return Err(unknown_device(target.device_id));
    };
    let prekey_id = i64::from(target.prekey_id);
    match store::prekey_id(db, recipient_id, device_id).await? {
        Some(current) if current == prekey_id => Ok((device_id, prekey_id)),
        current => Err(stale_prekey(prekey_id, current)),
    }
}

/// 422 `unknown_device`.
pub fn unknown_device(device_id: u64) -> Error {
    Error::unprocessable(
        "unknown_device",
        format!("Device {device_id} is not in the person's current device list"),
    )
}

/// 409 `stale_prekey`: fetch the devices again.
pub fn stale_prekey(prekey_id: i64, current: Option<i64>) -> Error {
    let current = current.map_or(String::new(), |id| format!(" (that is {id})"));
    Error::conflict(
        "stale_prekey",
        format!(
            "Prekey {prekey_id} is not the device's current prekey{current}; fetch the \
             devices again and seal to the current one"
        ),
    )
}
