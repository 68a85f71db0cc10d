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
//!   stolen later open no share made before the rotation;
//! - a device that sees my list, signed by my identity and newer than the
//!   one it verified (which named it), no longer name it was revoked: it
//!   forgets everything it holds rather than sign itself back in.

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

    /// The key of this device's local search index (wire form), derived
    /// from the device's secret key
    /// ([`securechat_crypto::DeviceKey::search_index_key`]); refused until
    /// the device is set up. The browser imports it as non-extractable
    /// WebCrypto keys and keeps it in memory only.
    pub fn search_index_key(&self) -> Result<String> {
        let device = self.device_key()?.ok_or(Refusal::NoIdentity)?;
        let key = device.search_index_key()?;
        Ok(securechat_crypto::encoding::to_wire(key.as_ref()))
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
    /// is refused. When the server shows no list, the one I verified last
    /// (if any) stands for it, so nothing it names is dropped and its
    /// version only grows.
    ///
    /// A served list that my identity signed, newer than the one I verified
    /// and which named this device, that no longer names it means this
    /// device was revoked from another one: it forgets everything it holds
    /// and answers [`Refusal::DeviceRevoked`] rather than sign itself back
    /// in (see [`Machine::verified_list`]).
    pub fn set_up_device(&mut self, served: Option<&str>, now: u64) -> Result<DeviceSetup> {
        let identity = self.identity()?;
        let me = identity.user_id();
        let bundle = identity.bundle();
        let pinned = self.valid_list(me, &bundle);
        // After a new identity (start over), the served list is the old
        // identity's: a new one is begun above its version, naming this
        // device alone. Only then: with a list of mine verified before, a
        // list my identity did not sign is refused, never replaced, so a
        // server cannot make me drop my own devices.
        let mut begin_at = 1;
        let current = match served {
            Some(wire) => match self.verified_list(me, &bundle, wire) {
                Ok(list) => Some(list),
                Err(Refusal::DeviceListInvalid { .. }) if pinned.is_none() => {
                    begin_at = securechat_crypto::encoding::from_wire(wire)
                        .ok()
                        .and_then(|bytes| DeviceList::from_bytes(&bytes).ok())
                        .map_or(1, |old| old.version().saturating_add(1));
                    None
                }
                Err(refusal) => return Err(refusal),
            },
            None => pinned,
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
            let version = current.as_ref().map_or(begin_at, |l| l.version() + 1);
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
    ///
    /// For my own list: when the newest one verified before named this
    /// device and the newer `served` one does not, this device was revoked
    /// (only my identity signs my lists, so the server cannot make this
    /// up, and an older list or none at all never gets here). The device
    /// then forgets everything it holds ([`Machine::forget_everything`])
    /// and answers [`Refusal::DeviceRevoked`].
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
        if let Some(pinned) = self.valid_list(user_id, bundle) {
            list.check_successor(&pinned)
                .map_err(|_| Refusal::DeviceListRollback {
                    user_id,
                    pinned: pinned.version(),
                    found: list.version(),
                })?;
            if list.version() == pinned.version() {
                return Ok(list);
            }
            if user_id == self.user_id()
                && let Some(device_id) = self.device_id()
                && pinned.device(device_id).is_ok()
                && list.device(device_id).is_err()
            {
                self.forget_everything();
                return Err(Refusal::DeviceRevoked { device_id });
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
        self.pinned(user_id)
            .is_some_and(|bundle| self.valid_list(user_id, &bundle).is_some())
    }

    /// The list of `user_id` verified before, if it is signed by `bundle`,
    /// their identity pinned now. One signed by an identity they replaced
    /// (start over, an accepted key change) no longer counts: their new
    /// identity begins a new list, and until it does, keys go to the new
    /// identity itself.
    fn valid_list(
        &self,
        user_id: i64,
        bundle: &securechat_crypto::PublicBundle,
    ) -> Option<DeviceList> {
        self.state
            .device_lists
            .get(&user_id)
            .and_then(|pinned| DeviceList::parse_for(pinned, bundle).ok())
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

#[cfg(test)]
mod tests {
    // Test code: a panic is how a test fails.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::State;
    use crate::state::StoredKey;

    const NOW: u64 = 1_700_000_000;

    /// Alice's laptop, set up, and her phone: a second device with her
    /// identity (as a link or a restore gives it), set up after it, so
    /// both are in her list (version 2).
    fn laptop_and_phone() -> (Machine, Machine, String) {
        let mut laptop = Machine::new(State::new("http://x/", 1)).unwrap();
        laptop.create_identity(None).unwrap();
        let first = laptop.set_up_device(None, NOW).unwrap();
        let v1 = first.device_list.unwrap();
        let mut phone_state = State::new("http://x/", 1);
        phone_state.identity = laptop.state.identity.clone();
        let mut phone = Machine::new(phone_state).unwrap();
        let v2 = phone
            .set_up_device(Some(&v1), NOW)
            .unwrap()
            .device_list
            .unwrap();
        let setup = laptop.set_up_device(Some(&v2), NOW).unwrap();
        assert_eq!((setup.device_list, setup.prekey), (None, None));
        laptop.state.channel_keys.entry(5).or_default().insert(
            1,
            StoredKey {
                key: securechat_crypto::ChannelKey::generate()
                    .unwrap()
                    .export()
                    .to_string(),
                obtained_at: NOW,
                next_counter: 3,
                made_at: Some(2),
                members: vec![1, 2],
            },
        );
        (laptop, phone, v2)
    }

    #[test]
    fn each_device_has_its_own_search_index_key_through_the_call() {
        let (mut laptop, mut phone, _) = laptop_and_phone();
        let key = |m: &mut Machine| {
            crate::call::call(m, "search_index_key", &serde_json::json!({})).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        let laptops = key(&mut laptop);
        assert_eq!(
            securechat_crypto::encoding::from_wire(&laptops)
                .unwrap()
                .len(),
            32
        );
        assert_eq!(key(&mut laptop), laptops, "stable for one device");
        assert_ne!(key(&mut phone), laptops, "another device, another key");
        // Not the device's secret key, nor any part of its export.
        let export = laptop.state.device_key.clone().unwrap();
        assert!(!export.contains(&laptops));
        // A browser that is not a device yet has no index key.
        let mut fresh = Machine::new(State::new("http://x/", 1)).unwrap();
        fresh.create_identity(None).unwrap();
        assert_eq!(fresh.search_index_key().unwrap_err(), Refusal::NoIdentity);
    }

    #[test]
    fn a_revoked_device_forgets_everything_and_does_not_sign_itself_back_in() {
        let (mut laptop, mut phone, v2) = laptop_and_phone();
        let laptop_id = laptop.device_id().unwrap();
        let v3 = phone.revoke_device(laptop_id, &v2, NOW + 60).unwrap();
        laptop.take_dirty();

        let refused = laptop.set_up_device(Some(&v3), NOW + 120).unwrap_err();
        assert_eq!(
            refused,
            Refusal::DeviceRevoked {
                device_id: laptop_id
            }
        );
        assert_eq!(refused.code(), "device_revoked");
        assert!(laptop.take_dirty(), "the wiped state must be saved");
        let mut expected = State::new("http://x/", 1);
        expected.device = laptop.device();
        assert_eq!(laptop.state, expected, "nothing but whose state it is");
        assert!(laptop.identity.is_none());
        assert_ne!(laptop.device(), 0);
        // It holds no identity to sign itself back in with.
        assert_eq!(
            laptop.set_up_device(Some(&v3), NOW + 180).unwrap_err(),
            Refusal::NoIdentity
        );
    }

    #[test]
    fn no_list_an_old_list_or_a_forged_one_wipes_nothing() {
        let (mut laptop, mut phone, v2) = laptop_and_phone();
        let laptop_id = laptop.device_id().unwrap();
        let before = laptop.state.clone();
        // The server shows no list: the pinned one stands for it, which
        // names this device, so nothing is signed and nothing forgotten.
        let setup = laptop.set_up_device(None, NOW + 60).unwrap();
        assert_eq!((setup.device_list, setup.prekey), (None, None));
        assert_eq!(laptop.state, before);
        // An older list (the one before the phone) is a rollback.
        let v1 = DeviceList::sign(
            laptop.identity().unwrap(),
            1,
            NOW * 1000,
            &[laptop.device_key().unwrap().unwrap().entry()],
        )
        .unwrap()
        .to_wire();
        assert_eq!(
            laptop
                .set_up_device(Some(&v1), NOW + 60)
                .unwrap_err()
                .code(),
            "device_list_rollback"
        );
        // A newer list without the laptop, signed by another identity.
        let stranger = securechat_crypto::Identity::generate(1).unwrap();
        let phone_entry = phone.device_key().unwrap().unwrap().entry();
        let forged = DeviceList::sign(&stranger, 3, NOW * 1000, &[phone_entry])
            .unwrap()
            .to_wire();
        assert_eq!(
            laptop
                .set_up_device(Some(&forged), NOW + 60)
                .unwrap_err()
                .code(),
            "device_list_invalid"
        );
        assert_eq!(laptop.state, before, "none of these wiped anything");
        // Control: the real revocation.
        let v3 = phone.revoke_device(laptop_id, &v2, NOW + 60).unwrap();
        assert_eq!(
            laptop
                .set_up_device(Some(&v3), NOW + 60)
                .unwrap_err()
                .code(),
            "device_revoked"
        );
    }

    #[test]
    fn a_revocation_seen_through_observe_device_list_wipes_too() {
        let (mut laptop, mut phone, v2) = laptop_and_phone();
        let laptop_id = laptop.device_id().unwrap();
        let v3 = phone.revoke_device(laptop_id, &v2, NOW + 60).unwrap();
        assert_eq!(
            laptop.observe_device_list(1, &v3).unwrap_err(),
            Refusal::DeviceRevoked {
                device_id: laptop_id
            }
        );
        assert!(!laptop.has_identity());
        assert!(laptop.state.channel_keys.is_empty());
        assert!(laptop.state.device_lists.is_empty());
    }

    #[test]
    fn after_starting_over_a_new_list_begins_and_contacts_follow_it() {
        let mut charlie = Machine::new(State::new("http://x/", 3)).unwrap();
        charlie.create_identity(None).unwrap();
        let old_list = charlie
            .set_up_device(None, NOW)
            .unwrap()
            .device_list
            .unwrap();
        let mut alice = Machine::new(State::new("http://x/", 1)).unwrap();
        alice.create_identity(None).unwrap();
        let (old_bundle, _) = charlie.my_bundle().unwrap();
        alice.observe_bundle(3, &old_bundle, &[]).unwrap();
        alice.observe_device_list(3, &old_list).unwrap();
        assert!(alice.has_device_list(3));

        // charlie starts over: the server still serves the old identity's list.
        let new_bundle = charlie.start_over().unwrap();
        let setup = charlie.set_up_device(Some(&old_list), NOW + 60).unwrap();
        let new_list = setup.device_list.expect("a new list begins");
        let parsed = DeviceList::parse_for(
            &new_list,
            &securechat_crypto::PublicBundle::parse_for(&new_bundle, 3).unwrap(),
        )
        .unwrap();
        assert_eq!(
            parsed.version(),
            2,
            "above the old one, so the server takes it"
        );
        assert_eq!(parsed.devices().len(), 1);

        // alice accepts the new key: the old list no longer counts, so until
        // she sees the new one charlie's key goes to his identity, then to
        // the devices of the new list.
        alice.observe_bundle(3, &new_bundle, &[]).unwrap();
        let shown = crate::fingerprint(
            &securechat_crypto::PublicBundle::parse_for(&new_bundle, 3).unwrap(),
        );
        alice.accept_offered(3, &shown).unwrap();
        assert!(!alice.has_device_list(3));
        let view = alice.observe_device_list(3, &new_list).unwrap();
        assert_eq!(view.version, 2);
        assert!(alice.has_device_list(3));

        // With a list of mine verified, one my identity did not sign is
        // refused, never replaced.
        let mut mallory = Machine::new(State::new("http://x/", 3)).unwrap();
        mallory.create_identity(None).unwrap();
        let forged = mallory
            .set_up_device(None, NOW)
            .unwrap()
            .device_list
            .unwrap();
        assert!(matches!(
            charlie.set_up_device(Some(&forged), NOW + 120),
            Err(Refusal::DeviceListInvalid { .. })
        ));
    }
}
