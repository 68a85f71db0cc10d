//! Devices and prekeys: setting this device up, verifying other people's
//! device lists and the prekeys their devices publish, and rotating mine.
//!
//! The rules:
//! - a device list counts only if the person's *pinned* identity signed it,
//!   and never if it is older than (or differs at the same version from)
//!   one this client verified before — so the server can neither add a
//!   device nor bring back one that was revoked;
//! - a key is sealed to a device only through a prekey that the listed
//!   device signed, that is not older than one already seen for it (a
//!   replay), and that is within its lifetime;
//! - my prekey rotates weekly; the old private half stays only until what
//!   was sealed to it is fetched ([`Machine::retire_prekeys`]), so keys
//!   stolen later open no share made before the rotation.

use securechat_crypto::prekey::PREKEY_ROTATION_MS;
use securechat_crypto::{DeviceKey, DeviceList, Error as CryptoError, PrekeySecret, SignedPrekey};
use serde::Serialize;

use crate::error::{Refusal, Result};
use crate::machine::Machine;

/// What the shell publishes after [`Machine::set_up_device`] or a rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceSetup {
    /// This device's id.
    pub device_id: u64,
    /// A new signed device list to publish (`PUT /api/users/me/devices`),
    /// when this device was not in the served one.
    pub device_list: Option<String>,
    /// A new prekey to publish (`PUT /api/users/me/devices/{id}/prekey`).
    pub prekey: Option<String>,
}

/// A verified device list, as the shell shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceListView {
    /// Whose.
    pub user_id: i64,
    /// Its version.
    pub version: u64,
    /// The listed device ids, ascending.
    pub devices: Vec<u64>,
}

fn ms(now: u64) -> u64 {
    now.saturating_mul(1000)
}

fn seen_key(user_id: i64, device_id: u64) -> String {
    format!("{user_id}:{device_id}")
}

impl Machine {
    /// This device's key, if it is set up.
    pub(crate) fn device_key(&self) -> Result<Option<DeviceKey>> {
        match self.state.device_key.as_deref() {
            Some(export) => Ok(Some(DeviceKey::import(export)?)),
            None => Ok(None),
        }
    }

    /// This device's id, once it is set up.
    pub fn device_id(&self) -> Option<u64> {
        self.device_key().ok().flatten().map(|d| d.device_id())
    }

    /// My prekey secrets, oldest first.
    pub(crate) fn my_prekeys(&self) -> Result<Vec<PrekeySecret>> {
        self.state
            .prekeys
            .iter()
            .map(|p| PrekeySecret::import(p).map_err(Refusal::from))
            .collect()
    }

    /// Sets this device up at `now` (seconds): a device key and a first
    /// prekey if it has none, and — when this device holds the identity and
    /// is not in `served`, my device list as the server shows it — a new
    /// list with this device added, signed by my identity. A `served` list
    /// that my identity did not sign, or that is older than one I verified,
    /// is refused.
    pub fn set_up_device(&mut self, served: Option<&str>, now: u64) -> Result<DeviceSetup> {
        let identity = self.identity()?;
        let me = identity.user_id();
        let bundle = identity.bundle();
        let current = match served {
            Some(wire) => Some(self.verified_list(me, &bundle, wire)?),
            None => None,
        };
        let device = match self.device_key()? {
            Some(device) => device,
            None => {
                let device = DeviceKey::generate(me)?;
                self.state.device_key = Some(device.export().to_string());
                self.touch();
                device
            }
        };
        let listed = current
            .as_ref()
            .is_some_and(|l| l.device(device.device_id()).is_ok());
        let device_list = if listed {
            None
        } else {
            let mut devices = current
                .as_ref()
                .map(|l| l.devices().to_vec())
                .unwrap_or_default();
            devices.push(device.entry());
            let version = current.as_ref().map_or(1, |l| l.version() + 1);
            let list = DeviceList::sign(self.identity()?, version, ms(now), &devices)?;
            self.state.device_lists.insert(me, list.to_wire());
            self.touch();
            Some(list.to_wire())
        };
        let prekey = if self.state.prekeys.is_empty() {
            let first = PrekeySecret::generate(&device, 1, ms(now))?;
            self.state.prekeys.push(first.export().to_string());
            self.touch();
            Some(first.public().to_wire())
        } else {
            None
        };
        Ok(DeviceSetup {
            device_id: device.device_id(),
            device_list,
            prekey,
        })
    }

    /// Verifies `served` as `user_id`'s list under `bundle` and against
    /// the newest one verified before; stores it when it is newer.
    pub(crate) fn verified_list(
        &mut self,
        user_id: i64,
        bundle: &securechat_crypto::PublicBundle,
        served: &str,
    ) -> Result<DeviceList> {
        let list =
            DeviceList::parse_for(served, bundle).map_err(|e| Refusal::DeviceListInvalid {
                user_id,
                code: e.code().to_string(),
            })?;
        if let Some(pinned) = self.state.device_lists.get(&user_id) {
            let pinned =
                DeviceList::parse_for(pinned, bundle).map_err(|e| Refusal::DeviceListInvalid {
                    user_id,
                    code: e.code().to_string(),
                })?;
            list.check_successor(&pinned)
                .map_err(|_| Refusal::DeviceListRollback {
                    user_id,
                    pinned: pinned.version(),
                    found: list.version(),
                })?;
            if list.version() == pinned.version() {
                return Ok(list);
            }
        }
        self.state.device_lists.insert(user_id, list.to_wire());
        self.touch();
        Ok(list)
    }

    /// Verifies the device list the server serves for `user_id` under
    /// their pinned identity, and keeps it if it is the newest seen.
    pub fn observe_device_list(&mut self, user_id: i64, served: &str) -> Result<DeviceListView> {
        let bundle = self.pinned(user_id).ok_or(Refusal::NoBundle { user_id })?;
        let list = self.verified_list(user_id, &bundle, served)?;
        Ok(DeviceListView {
            user_id,
            version: list.version(),
            devices: list.devices().iter().map(|d| d.device_id).collect(),
        })
    }

    /// Whether a verified device list of `user_id` is held: then keys go to
    /// their devices' prekeys, never to their identity key.
    pub fn has_device_list(&self, user_id: i64) -> bool {
        self.state.device_lists.contains_key(&user_id)
    }

    /// The prekey the server serves for a device of `user_id`, if a key may
    /// be sealed to it at `now` (seconds): signed by a device in their
    /// verified list, not older than one already seen for that device, and
    /// within its lifetime. Records it as the newest seen.
    pub fn prekey_to_seal_to(
        &mut self,
        user_id: i64,
        served: &str,
        now: u64,
    ) -> Result<SignedPrekey> {
        let list = self
            .state
            .device_lists
            .get(&user_id)
            .ok_or(Refusal::NoDeviceList { user_id })?;
        let bundle = self.pinned(user_id).ok_or(Refusal::NoBundle { user_id })?;
        let list =
            DeviceList::parse_for(list, &bundle).map_err(|e| Refusal::DeviceListInvalid {
                user_id,
                code: e.code().to_string(),
            })?;
        let prekey = SignedPrekey::from_bytes(&securechat_crypto::encoding::from_wire(served)?)?;
        let device_id = prekey.device_id();
        prekey.verify(&list).map_err(|e| match e {
            CryptoError::UnknownDevice { device_id } => {
                Refusal::UnknownDevice { user_id, device_id }
            }
            other => Refusal::StalePrekey {
                user_id,
                device_id,
                reason: other.to_string(),
            },
        })?;
        let key = seen_key(user_id, device_id);
        let newest = self
            .state
            .prekeys_seen
            .get(&key)
            .map(|[id, created]| (u32::try_from(*id).unwrap_or(u32::MAX), *created));
        prekey
            .check_fresh(ms(now), newest)
            .map_err(|e| Refusal::StalePrekey {
                user_id,
                device_id,
                reason: e.to_string(),
            })?;
        let record = [u64::from(prekey.prekey_id()), prekey.created_ms()];
        if self.state.prekeys_seen.get(&key) != Some(&record) {
            self.state.prekeys_seen.insert(key, record);
            self.touch();
        }
        Ok(prekey)
    }

    /// Revokes one of my devices: a new list without it, signed by my
    /// identity, to publish (`PUT /api/users/me/devices`). `served` is my
    /// list as the server shows it (verified like anyone's). Every channel
    /// whose key I hold is marked: its next send makes a new version, so
    /// the revoked device, which may hold the current ones, reads nothing
    /// new.
    pub fn revoke_device(&mut self, device_id: u64, served: &str, now: u64) -> Result<String> {
        let identity = self.identity()?;
        let me = identity.user_id();
        let bundle = identity.bundle();
        let list = self.verified_list(me, &bundle, served)?;
        if self.device_id() == Some(device_id) {
            return Err(Refusal::BadInput(
                "this device cannot revoke itself; revoke it from another device".into(),
            ));
        }
        list.device(device_id).map_err(|_| Refusal::UnknownDevice {
            user_id: me,
            device_id,
        })?;
        let remaining: Vec<_> = list
            .devices()
            .iter()
            .copied()
            .filter(|d| d.device_id != device_id)
            .collect();
        if remaining.is_empty() {
            return Err(Refusal::BadInput(
                "a person keeps at least one device".into(),
            ));
        }
        let next = DeviceList::sign(self.identity()?, list.version() + 1, ms(now), &remaining)?;
        self.state.device_lists.insert(me, next.to_wire());
        let marks: Vec<(i64, u32)> = self
            .state
            .channel_keys
            .iter()
            .filter_map(|(channel, keys)| keys.keys().next_back().map(|v| (*channel, *v)))
            .collect();
        for (channel, version) in marks {
            let mark = self.state.revoked_up_to.entry(channel).or_insert(0);
            *mark = (*mark).max(version);
        }
        self.touch();
        Ok(next.to_wire())
    }

    /// The channels a revocation left to rotate (their next send makes a
    /// new version), for a shell that rotates them at once.
    pub fn channels_to_rotate(&self) -> Vec<i64> {
        self.state
            .revoked_up_to
            .iter()
            .filter(|(channel, mark)| {
                self.state
                    .latest_version(**channel)
                    .is_some_and(|held| held <= **mark)
            })
            .map(|(channel, _)| *channel)
            .collect()
    }

    /// Replaces my prekey when it is a week old at `now` (seconds); returns
    /// the new one to publish. The old private half is kept until
    /// [`Machine::retire_prekeys`].
    pub fn rotate_prekey(&mut self, now: u64) -> Result<Option<String>> {
        let Some(device) = self.device_key()? else {
            return Ok(None);
        };
        let prekeys = self.my_prekeys()?;
        let Some(current) = prekeys.last() else {
            return Ok(None);
        };
        if ms(now).saturating_sub(current.public().created_ms()) < PREKEY_ROTATION_MS {
            return Ok(None);
        }
        let next = PrekeySecret::generate(&device, current.prekey_id() + 1, ms(now))?;
        self.state.prekeys.push(next.export().to_string());
        self.touch();
        Ok(Some(next.public().to_wire()))
    }

    /// Deletes every prekey secret but the current one: the shell calls it
    /// once it has fetched and accepted what was sealed to the old ones.
    /// Returns how many were deleted.
    pub fn retire_prekeys(&mut self) -> usize {
        let n = self.state.prekeys.len().saturating_sub(1);
        if n > 0 {
            self.state.prekeys.drain(..n);
            self.touch();
        }
        n
    }
}
