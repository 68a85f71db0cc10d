//! The client state machine: the state, my identity, and whom I trust.
//!
//! [`Machine`] is sans-I/O: it never fetches, posts or stores. Its methods
//! take what the server said (bundles, log entries, shares, messages) and
//! answer with a decision, or with what the shell must fetch first
//! ([`crate::Need`]). The trust rules below are the only copy in the
//! project: the Rust SDK calls them natively, the browser through
//! WebAssembly.

use std::collections::HashMap;

use securechat_crypto::{
    ChannelKey, ForwardSecrecyPolicy, Identity, KeyRing, PublicBundle, SafetyNumber,
};
use serde::Serialize;

use crate::error::{Refusal, Result};
use crate::hex;
use crate::state::{Pin, State};

/// One client's end-to-end encryption: its [`State`] and decisions.
pub struct Machine {
    pub(crate) state: State,
    pub(crate) identity: Option<Identity>,
    pub(crate) policy: ForwardSecrecyPolicy,
    /// Versions I made and sealed, kept until the server took my own copy
    /// ([`Machine::confirm_version`]) or the attempt failed.
    pub(crate) made: HashMap<(i64, u32), crate::keys::Made>,
    dirty: bool,
}

impl std::fmt::Debug for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Machine")
            .field("user_id", &self.state.user_id)
            .field("device", &self.state.device)
            .finish_non_exhaustive()
    }
}

/// What [`Machine::observe_bundle`] concluded about a served bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Observed {
    /// First contact: pinned now.
    Pinned { fingerprint: String },
    /// The pinned bundle, as expected.
    Unchanged { fingerprint: String },
    /// Another bundle than the pin: recorded as offered, not trusted.
    Changed { pinned: String, offered: String },
}

/// The safety number between me and someone, and the fingerprints it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SafetyInfo {
    /// 60 digits in 12 groups of 5; both users see the same.
    pub number: String,
    /// My bundle's fingerprint (hex).
    pub mine: String,
    /// The fingerprint (hex) of the bundle this number is computed with.
    pub theirs: String,
    /// Whether `theirs` is a bundle the server offers and I have not
    /// accepted (after a key change), rather than the pinned one.
    pub offered: bool,
}

/// The fingerprint of a bundle, in hex.
pub fn fingerprint(bundle: &PublicBundle) -> String {
    hex(&bundle.fingerprint())
}

impl Machine {
    /// A machine over a loaded state. A state without a device tag gets one
    /// now (and is then dirty), so every device's counters differ.
    pub fn new(mut state: State) -> Result<Self> {
        let identity = match state.identity.as_deref() {
            Some(export) => Some(Identity::import(export)?),
            None => None,
        };
        let mut dirty = false;
        if state.device == 0 {
            state.device = random_device_tag()?;
            dirty = true;
        }
        if state.format != crate::state::FORMAT {
            state.format = crate::state::FORMAT;
            dirty = true;
        }
        Ok(Self {
            state,
            identity,
            policy: ForwardSecrecyPolicy::default(),
            made: HashMap::new(),
            dirty,
        })
    }

    /// The state to save.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Whether the state changed since the last call (then save it).
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    pub(crate) fn touch(&mut self) {
        self.dirty = true;
    }

    /// Replaces the forward-secrecy policy (tests use small caps).
    pub fn set_policy(&mut self, policy: ForwardSecrecyPolicy) {
        self.policy = policy;
    }

    /// My user id.
    pub fn user_id(&self) -> i64 {
        self.state.user_id
    }

    /// This device's tag.
    pub fn device(&self) -> u16 {
        self.state.device
    }

    /// My identity, or [`Refusal::NoIdentity`].
    pub fn identity(&self) -> Result<&Identity> {
        self.identity.as_ref().ok_or(Refusal::NoIdentity)
    }

    /// Whether this device holds an identity.
    pub fn has_identity(&self) -> bool {
        self.identity.is_some()
    }

    /// Creates my identity on this device; returns the bundle to publish.
    /// Refused when the server already publishes one for me and this device
    /// holds none (`published`): that identity must be restored instead.
    pub fn create_identity(&mut self, published: Option<&str>) -> Result<String> {
        if let Some(bundle) = &self.identity {
            return Ok(bundle.bundle().to_wire());
        }
        if published.is_some() {
            return Err(Refusal::NoIdentity);
        }
        self.replace_identity(Identity::generate(self.user_id())?)
    }

    /// Gives up the identity the server publishes for me (lost backup):
    /// a new one; everyone sees a key change.
    pub fn start_over(&mut self) -> Result<String> {
        self.replace_identity(Identity::generate(self.user_id())?)
    }

    /// Forgets every secret and trust decision this device holds: the
    /// identity, the device key and prekeys, channel keys, pins and log
    /// heads, requests, a link under way, the backup key and the outbox —
    /// everything but whose state it is and on which server. A fresh
    /// device tag is drawn, so a device linked again later never reuses a
    /// counter it sent under before. The state is then dirty (save it).
    pub(crate) fn forget_everything(&mut self) {
        let mut fresh = State::new(&self.state.server, self.state.user_id);
        fresh.device = random_device_tag().unwrap_or(self.state.device);
        self.state = fresh;
        self.identity = None;
        self.made.clear();
        self.touch();
    }

    pub(crate) fn replace_identity(&mut self, identity: Identity) -> Result<String> {
        let bundle = identity.bundle().to_wire();
        self.state.identity = Some(identity.export().to_string());
        self.identity = Some(identity);
        self.touch();
        Ok(bundle)
    }

    /// My bundle (wire form) and its fingerprint.
    pub fn my_bundle(&self) -> Result<(String, String)> {
        let bundle = self.identity()?.bundle();
        Ok((bundle.to_wire(), fingerprint(&bundle)))
    }

    // ---- whom I trust ----------------------------------------------------

    /// The bundle pinned for `user_id` (mine for me), if any.
    pub fn pinned(&self, user_id: i64) -> Option<PublicBundle> {
        if user_id == self.user_id() {
            return self.identity.as_ref().map(Identity::bundle);
        }
        let pin = self.state.pins.get(&user_id)?;
        PublicBundle::parse_for(&pin.current, user_id).ok()
    }

    /// Whether `user_id` is pinned (or is me).
    pub fn is_pinned(&self, user_id: i64) -> bool {
        user_id == self.user_id() || self.state.pins.contains_key(&user_id)
    }

    /// Takes in the bundle the server serves for `user_id` now, with the
    /// user's published key history (oldest first). On first contact the
    /// bundle is pinned, with the older keys (entries the user signed before
    /// a key change must still verify). Later, a bundle that differs from
    /// the pin is only recorded as offered: it is trusted after
    /// [`Machine::accept_offered`].
    pub fn observe_bundle(
        &mut self,
        user_id: i64,
        served: &str,
        history: &[String],
    ) -> Result<Observed> {
        if user_id == self.user_id() {
            let (_, mine) = self.my_bundle()?;
            return Ok(Observed::Unchanged { fingerprint: mine });
        }
        let bundle = PublicBundle::parse_for(served, user_id)?;
        let wire = bundle.to_wire();
        match self.state.pins.get_mut(&user_id) {
            None => {
                let mut accepted: Vec<String> = Vec::new();
                for old in history {
                    if let Ok(b) = PublicBundle::parse_for(old, user_id) {
                        let w = b.to_wire();
                        if w != wire && !accepted.contains(&w) {
                            accepted.push(w);
                        }
                    }
                }
                accepted.push(wire.clone());
                self.state.pins.insert(
                    user_id,
                    Pin {
                        current: wire,
                        accepted,
                        offered: None,
                    },
                );
                self.touch();
                Ok(Observed::Pinned {
                    fingerprint: fingerprint(&bundle),
                })
            }
            Some(pin) if pin.current == wire => {
                if pin.offered.take().is_some() {
                    self.dirty = true;
                }
                Ok(Observed::Unchanged {
                    fingerprint: fingerprint(&bundle),
                })
            }
            Some(pin) => {
                let pinned = PublicBundle::parse_for(&pin.current, user_id)?;
                if pin.offered.as_deref() != Some(wire.as_str()) {
                    pin.offered = Some(wire);
                    self.dirty = true;
                }
                Ok(Observed::Changed {
                    pinned: fingerprint(&pinned),
                    offered: fingerprint(&bundle),
                })
            }
        }
    }

    /// The bundle to seal a key to: the served one, which must equal the
    /// pin (pinned now on first contact).
    pub fn bundle_to_seal_to(&mut self, user_id: i64, served: &str) -> Result<PublicBundle> {
        if user_id == self.user_id() {
            return Ok(self.identity()?.bundle());
        }
        match self.observe_bundle(user_id, served, &[]) {
            Ok(Observed::Changed { .. }) | Err(Refusal::Crypto { .. }) => {
                Err(Refusal::KeyChanged { user_id })
            }
            Ok(_) => self.pinned(user_id).ok_or(Refusal::NoBundle { user_id }),
            Err(e) => Err(e),
        }
    }

    /// Accepts the offered key of `user_id` whose fingerprint the person was
    /// shown (`shown`, hex): exactly that key is pinned, never whatever is
    /// served at the moment of the click. Returns (previous, new).
    pub fn accept_offered(&mut self, user_id: i64, shown: &str) -> Result<(String, String)> {
        let pin = self
            .state
            .pins
            .get_mut(&user_id)
            .ok_or(Refusal::NoBundle { user_id })?;
        let offered = pin
            .offered
            .as_deref()
            .and_then(|w| PublicBundle::parse_for(w, user_id).ok())
            .ok_or(Refusal::OfferChanged { user_id })?;
        if fingerprint(&offered) != shown {
            return Err(Refusal::OfferChanged { user_id });
        }
        let previous = PublicBundle::parse_for(&pin.current, user_id)
            .map(|b| fingerprint(&b))
            .unwrap_or_default();
        let wire = offered.to_wire();
        pin.current.clone_from(&wire);
        if !pin.accepted.contains(&wire) {
            pin.accepted.push(wire);
        }
        pin.offered = None;
        self.touch();
        Ok((previous, fingerprint(&offered)))
    }

    /// The users whose served key differs from their pin.
    pub fn key_changes(&self) -> Vec<i64> {
        self.state
            .pins
            .iter()
            .filter(|(_, p)| p.offered.is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    /// The safety number with `user_id`: computed with the key the server
    /// offers after a change (that is what the person must compare before
    /// accepting it), else with the pinned one.
    pub fn safety_number(&self, user_id: i64) -> Result<SafetyInfo> {
        let mine = self.identity()?.bundle();
        let pin = self.state.pins.get(&user_id);
        let offered = pin
            .and_then(|p| p.offered.as_deref())
            .and_then(|w| PublicBundle::parse_for(w, user_id).ok());
        let (theirs, is_offered) = match offered {
            Some(b) => (b, true),
            None => (
                self.pinned(user_id).ok_or(Refusal::NoBundle { user_id })?,
                false,
            ),
        };
        Ok(SafetyInfo {
            number: SafetyNumber::compute(&mine, &theirs).display(),
            mine: fingerprint(&mine),
            theirs: fingerprint(&theirs),
            offered: is_offered,
        })
    }

    /// Every bundle I accepted for `user_id` (to verify old signatures).
    pub(crate) fn accepted_bundles(&self, user_id: i64) -> Vec<PublicBundle> {
        if user_id == self.user_id() {
            return self.identity.iter().map(Identity::bundle).collect();
        }
        self.state
            .pins
            .get(&user_id)
            .map(|pin| {
                pin.accepted
                    .iter()
                    .filter_map(|w| PublicBundle::parse_for(w, user_id).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every bundle I trust, for verifying membership logs.
    pub(crate) fn keyring(&self) -> KeyRing {
        let mut ring = KeyRing::new();
        if let Some(identity) = &self.identity {
            ring.insert(identity.bundle());
        }
        for user_id in self.state.pins.keys() {
            for bundle in self.accepted_bundles(*user_id) {
                ring.insert(bundle);
            }
        }
        ring
    }
}

/// A random non-zero device tag, from the crypto crate's RNG (a fresh
/// channel key is 32 random bytes).
fn random_device_tag() -> Result<u16> {
    let random = ChannelKey::generate()?;
    let bytes = random.as_bytes();
    let tag = u16::from_be_bytes([bytes[0], bytes[1]]);
    Ok(if tag == 0 { 1 } else { tag })
}
