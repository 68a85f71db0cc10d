//! Linking a new device to a person who is signed in elsewhere.
//!
//! The new device makes a device key and an ephemeral key and shows its
//! offer as a code; a device already set up fetches the offer, answers with
//! an ephemeral key of its own, and both show the short authentication
//! string (crypto crate `link`). Only after the person has seen the two
//! strings match does the old device sign a device list that names the new
//! one and seal the payload: the identity, the pins and their accepted
//! history, the verified log heads and device lists, and the keys of the
//! channels the person chose to carry over. A server in the middle shows
//! two different strings, and cannot open the payload.

use std::collections::BTreeMap;

use securechat_crypto::encoding::{from_wire, to_wire};
use securechat_crypto::{DeviceKey, DeviceList, Identity, LinkEphemeral, LinkOffer, LinkSession};
use serde::{Deserialize, Serialize};

use crate::error::{Refusal, Result};
use crate::history::History;
use crate::machine::Machine;
use crate::state::{LogPin, PendingLink, Pin};

/// What the old device sends: everything a new device needs to act as the
/// person, with the keys the person chose to carry over.
#[derive(Debug, Serialize, Deserialize)]
struct Transfer {
    user_id: i64,
    identity: String,
    pins: BTreeMap<i64, Pin>,
    log_pins: BTreeMap<i64, LogPin>,
    device_lists: BTreeMap<i64, String>,
    history: History,
}

/// The answer of the approving device: what to relay to the new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkAnswer {
    /// My ephemeral public key (wire), for the new device.
    pub ephemeral: String,
    /// The short authentication string to show.
    pub sas: String,
}

/// What the approving device publishes once the person confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkApproval {
    /// My device list with the new device added, signed by my identity.
    pub device_list: String,
    /// The sealed payload for the new device.
    pub payload: String,
}

/// What a finished link brought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Linked {
    /// The new device's id.
    pub device_id: u64,
    /// Contacts whose pins came over.
    pub pins: usize,
    /// Channels whose keys came over.
    pub channels: usize,
}

fn ephemeral_of(wire: &str) -> Result<[u8; 32]> {
    from_wire(wire)?
        .as_slice()
        .try_into()
        .map_err(|_| Refusal::BadInput("an ephemeral key is 32 bytes".into()))
}

impl Machine {
    /// On a new device: starts a link (a device key if there is none, and
    /// an ephemeral key), kept in the state so a reload does not lose it.
    /// Returns the offer to show as a code.
    pub fn start_link(&mut self) -> Result<String> {
        if self.has_identity() {
            return Err(Refusal::BadInput(
                "this device already holds your keys; link another device from here".into(),
            ));
        }
        let me = self.user_id();
        let device = match self.device_key()? {
            Some(device) => device,
            None => {
                let device = DeviceKey::generate(me)?;
                self.state.device_key = Some(device.export().to_string());
                device
            }
        };
        let ephemeral = LinkEphemeral::generate()?;
        let offer = LinkOffer {
            user_id: me,
            device: device.entry(),
            ephemeral: ephemeral.public(),
        };
        self.state.link = Some(PendingLink {
            ephemeral: ephemeral.export().to_string(),
            offer: offer.to_wire(),
            approver: None,
        });
        self.touch();
        Ok(offer.to_wire())
    }

    /// On the new device: the approving device answered with `approver`
    /// (its ephemeral key); returns the string to compare.
    pub fn link_sas(&mut self, approver: &str) -> Result<String> {
        let pending = self
            .state
            .link
            .clone()
            .ok_or_else(|| Refusal::BadInput("no link is in progress on this device".into()))?;
        let session = LinkSession::new(
            &LinkEphemeral::import(&pending.ephemeral)?,
            &LinkOffer::parse(&pending.offer)?,
            &ephemeral_of(approver)?,
        )?;
        if pending.approver.as_deref() != Some(approver) {
            self.state.link = Some(PendingLink {
                approver: Some(approver.to_owned()),
                ..pending
            });
            self.touch();
        }
        Ok(session.sas())
    }

    /// On the device that approves: answers `offer` (it must be for me)
    /// with an ephemeral key, and returns the string to compare.
    pub fn answer_link(&mut self, offer: &str) -> Result<LinkAnswer> {
        self.identity()?;
        let offer = LinkOffer::parse(offer)?;
        if offer.user_id != self.user_id() {
            return Err(Refusal::BadInput(
                "the code belongs to another person's device".into(),
            ));
        }
        let ephemeral = match self.state.approving.get(&offer.device.device_id) {
            Some(kept) => LinkEphemeral::import(kept)?,
            None => {
                let fresh = LinkEphemeral::generate()?;
                self.state
                    .approving
                    .insert(offer.device.device_id, fresh.export().to_string());
                self.touch();
                fresh
            }
        };
        let session = LinkSession::new(&ephemeral, &offer, &ephemeral.public())?;
        Ok(LinkAnswer {
            ephemeral: to_wire(&ephemeral.public()),
            sas: session.sas(),
        })
    }

    /// On the device that approves, after the person saw both strings
    /// match: signs my device list (`served`, verified like anyone's) with
    /// the new device added, and seals the payload, carrying the keys of
    /// `channels`. The ephemeral key is forgotten: a link is approved once.
    pub fn approve_link(
        &mut self,
        offer: &str,
        served: Option<&str>,
        channels: &[i64],
        now: u64,
    ) -> Result<LinkApproval> {
        let identity = self.identity()?;
        let me = identity.user_id();
        let bundle = identity.bundle();
        let offer = LinkOffer::parse(offer)?;
        if offer.user_id != me {
            return Err(Refusal::BadInput(
                "the code belongs to another person's device".into(),
            ));
        }
        let kept = self
            .state
            .approving
            .get(&offer.device.device_id)
            .ok_or_else(|| Refusal::BadInput("answer the link before approving it".into()))?;
        let ephemeral = LinkEphemeral::import(kept)?;
        let session = LinkSession::new(&ephemeral, &offer, &ephemeral.public())?;
        let current = match served {
            Some(wire) => Some(self.verified_list(me, &bundle, wire)?),
            None => None,
        };
        let mut devices = current
            .as_ref()
            .map(|l| l.devices().to_vec())
            .unwrap_or_default();
        if let Some(mine) = self.device_key()?
            && !devices.iter().any(|d| d.device_id == mine.device_id())
        {
            devices.push(mine.entry());
        }
        devices.retain(|d| d.device_id != offer.device.device_id);
        devices.push(offer.device);
        let version = current.as_ref().map_or(1, |l| l.version() + 1);
        let list = DeviceList::sign(
            self.identity()?,
            version,
            now.saturating_mul(1000),
            &devices,
        )?;
        let identity: &Identity = self.identity()?;
        let transfer = Transfer {
            user_id: me,
            identity: identity.export().to_string(),
            pins: self.state.pins.clone(),
            log_pins: self.state.log_pins.clone(),
            device_lists: self.state.device_lists.clone(),
            history: History::collect(&self.state, |c| channels.contains(&c)),
        };
        let plain = zeroize::Zeroizing::new(
            serde_json::to_vec(&transfer).map_err(|e| Refusal::BadInput(e.to_string()))?,
        );
        let payload = session.seal_payload(&plain)?;
        self.state.device_lists.insert(me, list.to_wire());
        self.state.approving.remove(&offer.device.device_id);
        self.touch();
        Ok(LinkApproval {
            device_list: list.to_wire(),
            payload,
        })
    }

    /// On the new device: opens the payload of the approving device (after
    /// the person saw both strings match) and takes what it carries. Pins,
    /// heads and keys this device already holds are kept.
    pub fn finish_link(&mut self, payload: &str) -> Result<Linked> {
        let pending = self
            .state
            .link
            .clone()
            .ok_or_else(|| Refusal::BadInput("no link is in progress on this device".into()))?;
        let approver = pending
            .approver
            .as_deref()
            .ok_or_else(|| Refusal::BadInput("compare the numbers first".into()))?;
        let offer = LinkOffer::parse(&pending.offer)?;
        let session = LinkSession::new(
            &LinkEphemeral::import(&pending.ephemeral)?,
            &offer,
            &ephemeral_of(approver)?,
        )?;
        let plain = session.open_payload(payload)?;
        let transfer: Transfer = serde_json::from_slice(&plain)
            .map_err(|e| Refusal::BadInput(format!("a damaged link payload: {e}")))?;
        if transfer.user_id != self.user_id() {
            return Err(Refusal::BadInput(
                "the payload is for another person".into(),
            ));
        }
        let identity = Identity::import(&transfer.identity)?;
        if identity.user_id() != self.user_id() {
            return Err(Refusal::BadInput(
                "the payload carries another person's identity".into(),
            ));
        }
        let pins = transfer.pins.len();
        let state = &mut self.state;
        state.identity = Some(identity.export().to_string());
        for (user, pin) in transfer.pins {
            state.pins.entry(user).or_insert(pin);
        }
        for (room, head) in transfer.log_pins {
            state.log_pins.entry(room).or_insert(head);
        }
        for (user, list) in transfer.device_lists {
            state.device_lists.entry(user).or_insert(list);
        }
        let channels = transfer.history.merge_into(state);
        state.link = None;
        self.identity = Some(identity);
        self.touch();
        Ok(Linked {
            device_id: offer.device.device_id,
            pins,
            channels,
        })
    }
}
