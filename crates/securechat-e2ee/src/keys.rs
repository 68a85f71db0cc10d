//! Channel keys: which version to send under (and when to make the next
//! one), making a version and sealing it to the verified members, accepting
//! shares pushed to me, and key requests.
//!
//! The rules that keep a channel working without anybody's help:
//! - a version that has carried this device's 100th message, or that this
//!   device obtained 7 days ago, is used up; the client that needs to send
//!   makes the next version itself (`MakeVersion`), and the server lets the
//!   first claimant of a version make it;
//! - a share never replaces a key already held, and never resets when the
//!   key was obtained (so the server cannot keep a key young);
//! - keys are sealed only to members of the verified log whose served bundle
//!   equals their pin, and — a new version and the answer to a key request
//!   alike — to the listed devices of a person whose device list I
//!   verified, never to their identity, which a revoked device still holds;
//! - a key share (format 2) names its room and the log entry its version was
//!   made at: it is accepted only from a member at that entry, for me only
//!   if I was one too, and a version made before the log's latest membership
//!   change is never sent under (the client makes the next one), so neither
//!   a removed member nor the server can keep a channel on a key made for
//!   other people;
//! - a message is verified only from a member the version was made for, and
//!   a key request is answered only with a version made for the requester.

use std::collections::BTreeMap;

use securechat_crypto::{ChannelKey, PublicBundle, SealedShare, ShareContext, SharePurpose};
use serde::{Deserialize, Serialize};

use crate::error::{Refusal, Result};
use crate::log::{ever_members, head_seq, last_change};
use crate::machine::Machine;
use crate::state::{KeyRequest, StoredKey};

/// Versions at or above this are refused: versions grow by one per
/// rotation, and one this high could only be meant to exhaust the numbers.
const MAX_VERSION: u32 = 1 << 31;

/// A version I made and sealed, until the server takes my own copy.
#[derive(Debug, Clone)]
pub(crate) struct Made {
    key: ChannelKey,
    made_at: u64,
    members: Vec<i64>,
}

/// One person to seal a version to (a new one, or one a request asks for).
struct ShareTo<'a> {
    user_id: i64,
    /// The prekeys the server serves for their devices.
    served: &'a [String],
    /// A device to leave out (the one making the version).
    except: Option<u64>,
    room_id: i64,
    channel_id: i64,
    version: u32,
    /// The log entry the version was made at; `None` for a version of
    /// format 1, which binds none.
    made_at: Option<u64>,
    purpose: SharePurpose,
    now: u64,
}

/// What the server says about a channel (room listing, events).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChannelFacts {
    /// The channel id.
    pub id: i64,
    /// Its room.
    pub room_id: i64,
    /// Whether the server says it is encrypted.
    #[serde(default)]
    pub is_encrypted: bool,
    /// The current key version (0: none yet).
    #[serde(default)]
    pub key_version: u32,
    /// A version a rotation is moving to, if any.
    #[serde(default)]
    pub pending_version: Option<u32>,
}

/// What to do to send a message to a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SendPlan {
    /// A plaintext channel: send the text as it is.
    Plain,
    /// Seal under this version ([`Machine::seal`]).
    Seal { version: u32 },
    /// Make this version first ([`Machine::make_version`]), then plan again.
    MakeVersion {
        version: u32,
        /// Why: `first_key`, `message_limit`, `key_age`, `rotation_pending`.
        reason: String,
    },
    /// Fetch my sealed copy of this version and accept it, then plan again.
    FetchKey { version: u32 },
}

/// A sealed share for the shell to post (`POST /api/channels/share_key`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutShare {
    /// Whom it is sealed to.
    pub user_id: i64,
    /// The channel.
    pub channel_id: i64,
    /// The key version.
    pub key_version: u32,
    /// The sealed share.
    pub encrypted_key: String,
    /// The seed's flag: a rotation share.
    pub is_key_rotation: bool,
    /// The device whose prekey it is sealed to (format 3); none for a
    /// share sealed to the identity (formats 1 and 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<u64>,
}

/// A member (or one of their devices) left out of a distribution, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Who.
    pub user_id: i64,
    /// Which device, when only that one was left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<u64>,
    /// Why (worded for a person).
    pub reason: String,
}

/// A new version, sealed: my own copy first (posting it claims the version
/// on the server), then everyone else's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewVersion {
    /// My own copy: post it first.
    pub own: OutShare,
    /// The verified members' copies.
    pub shares: Vec<OutShare>,
    /// Members left out.
    pub skipped: Vec<Skipped>,
}

/// The answer to a key request, sealed: to each listed device of the
/// requester whose prekey may be sealed to, or to their identity when they
/// have no device list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approved {
    /// The shares to post, one per device (or one to the identity).
    pub shares: Vec<OutShare>,
    /// Devices left out, and why.
    pub skipped: Vec<Skipped>,
}

/// A `channel_key_share` event (or my copy fetched from the server).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ShareFacts {
    /// The channel the server says it is for.
    pub channel_id: i64,
    /// The version the server says it is.
    pub key_version: u32,
    /// The sender the server names.
    pub sender_id: i64,
    /// The seed's rotation flag.
    #[serde(default)]
    pub is_key_rotation: bool,
    /// The sealed share.
    pub encrypted_key: String,
}

/// What happened to a share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ShareOutcome {
    /// Verified, opened and stored.
    Accepted { channel_id: i64, version: u32 },
    /// The same key was already held.
    AlreadyHeld { channel_id: i64, version: u32 },
}

impl Machine {
    /// Which version to send under in `channel` at `now`, or what must
    /// happen first. A channel once seen encrypted stays encrypted for this
    /// client: the server saying otherwise is a [`Refusal::Downgrade`].
    pub fn plan_send(&mut self, channel: &ChannelFacts, now: u64) -> Result<SendPlan> {
        if !channel.is_encrypted {
            if self.state.encrypted_channels.contains(&channel.id) {
                return Err(Refusal::Downgrade {
                    channel_id: channel.id,
                });
            }
            return Ok(SendPlan::Plain);
        }
        self.identity()?;
        self.bind_room(channel.id, channel.room_id)?;
        self.note_encrypted(channel.id);
        if let Some(pending) = channel.pending_version
            && self.state.key(channel.id, pending).is_none()
        {
            return Ok(SendPlan::MakeVersion {
                version: pending,
                reason: "rotation_pending".into(),
            });
        }
        let held = self.state.latest_version(channel.id).unwrap_or(0);
        let current = channel.key_version.max(held);
        if current == 0 {
            return Ok(SendPlan::MakeVersion {
                version: 1,
                reason: "first_key".into(),
            });
        }
        let Some(key) = self.state.key(channel.id, current) else {
            return Ok(SendPlan::FetchKey { version: current });
        };
        let next = current.saturating_add(1);
        let Some(made_at) = key.made_at else {
            // A format-1 key: the channel moves to format 2 with its next version.
            return Ok(SendPlan::MakeVersion {
                version: next,
                reason: "protocol_upgrade".into(),
            });
        };
        if made_at < self.last_change_of(channel.room_id) {
            // Made for the members before someone joined or left.
            return Ok(SendPlan::MakeVersion {
                version: next,
                reason: "membership_changed".into(),
            });
        }
        if self
            .state
            .revoked_up_to
            .get(&channel.id)
            .is_some_and(|mark| current <= *mark)
        {
            // A device I revoked may hold this version.
            return Ok(SendPlan::MakeVersion {
                version: next,
                reason: "device_revoked".into(),
            });
        }
        if key.next_counter >= self.policy.max_messages {
            return Ok(SendPlan::MakeVersion {
                version: next,
                reason: "message_limit".into(),
            });
        }
        if now.saturating_sub(key.obtained_at) >= self.policy.max_age_secs {
            return Ok(SendPlan::MakeVersion {
                version: next,
                reason: "key_age".into(),
            });
        }
        Ok(SendPlan::Seal { version: current })
    }

    /// Takes in the server's listing of channels (id, encrypted): every
    /// channel listed as encrypted is remembered so, and the ones it now
    /// lists as plaintext although this client saw them encrypted are
    /// returned — the shell keeps treating them as encrypted and says so.
    pub fn observe_channels(&mut self, channels: &[(i64, bool)]) -> Vec<i64> {
        let mut downgraded = Vec::new();
        for &(id, encrypted) in channels {
            if encrypted {
                self.note_encrypted(id);
            } else if self.state.encrypted_channels.contains(&id) {
                downgraded.push(id);
            }
        }
        downgraded
    }

    /// Ties `channel_id` to `room_id` the first time; afterwards the server
    /// listing it under another room is [`Refusal::WrongRoom`].
    pub(crate) fn bind_room(&mut self, channel_id: i64, room_id: i64) -> Result<()> {
        if let Some(bound) = self.bound_elsewhere(channel_id, room_id) {
            return Err(Refusal::WrongRoom {
                channel_id,
                room_id: bound,
            });
        }
        if self
            .state
            .channel_rooms
            .insert(channel_id, room_id)
            .is_none()
        {
            self.touch();
        }
        Ok(())
    }

    /// The room `channel_id` is tied to, when that is not `room_id`.
    pub(crate) fn bound_elsewhere(&self, channel_id: i64, room_id: i64) -> Option<i64> {
        self.state
            .channel_rooms
            .get(&channel_id)
            .copied()
            .filter(|&bound| bound != room_id)
    }

    /// Remembers that a channel is encrypted (it stays so for this client).
    pub fn note_encrypted(&mut self, channel_id: i64) {
        if self.state.encrypted_channels.insert(channel_id) {
            self.touch();
        }
    }

    /// Makes `version` of `channel`: a fresh key, sealed to me and to every
    /// member of the verified log `entries` (∩ `hint`, the server's list,
    /// when given) whose served bundle in `bundles` equals the pin. For a
    /// member whose device list I verified, the key goes to each listed
    /// device through the prekey the server serves for it in `prekeys`
    /// (when it passes [`Machine::prekey_to_seal_to`] at `now`, seconds),
    /// never to their identity key. The key is kept aside until
    /// [`Machine::confirm_version`].
    #[allow(clippy::too_many_arguments)]
    pub fn make_version(
        &mut self,
        channel: &ChannelFacts,
        version: u32,
        entries: &[String],
        bundles: &BTreeMap<i64, String>,
        prekeys: &BTreeMap<i64, Vec<String>>,
        hint: Option<&[i64]>,
        now: u64,
    ) -> Result<NewVersion> {
        if version == 0 {
            return Err(Refusal::BadInput("key versions start at 1".into()));
        }
        // A version's key never changes: one I hold (made here, or shared
        // with me) is never made again, which would replace my copy on the
        // server with another key.
        if self.state.key(channel.id, version).is_some() {
            return Err(Refusal::DifferentKey {
                channel_id: channel.id,
                version,
            });
        }
        if version >= MAX_VERSION {
            return Err(Refusal::BadInput("key version out of range".into()));
        }
        self.bind_room(channel.id, channel.room_id)?;
        let log = self.verify_log(channel.room_id, entries)?;
        let me = self.user_id();
        if !log.state().is_member(me) {
            return Err(Refusal::NotAMember {
                user_id: me,
                room_id: channel.room_id,
            });
        }
        if !self.may_make_keys(&log, channel.id) {
            return Err(Refusal::ChannelNotRegistered {
                channel_id: channel.id,
                room_id: channel.room_id,
            });
        }
        let made_at = head_seq(&log);
        self.note_encrypted(channel.id);
        let purpose = if version == 1 {
            SharePurpose::Initial
        } else {
            SharePurpose::Rotation
        };
        let key = ChannelKey::generate()?;
        let mut skipped = Vec::new();
        if let Some(hint) = hint {
            for &outsider in hint.iter().filter(|id| !log.state().is_member(**id)) {
                skipped.push(Skipped {
                    user_id: outsider,
                    device_id: None,
                    reason: "not a member in the verified log".into(),
                });
            }
        }
        let recipients: Vec<i64> = log
            .members()
            .keys()
            .copied()
            .filter(|id| *id != me && hint.is_none_or(|h| h.contains(id)))
            .collect();
        let devices_of = |user_id: i64, except: Option<u64>| ShareTo {
            user_id,
            served: prekeys.get(&user_id).map(Vec::as_slice).unwrap_or_default(),
            except,
            room_id: channel.room_id,
            channel_id: channel.id,
            version,
            made_at: Some(made_at),
            purpose,
            now,
        };
        let mut shares = Vec::new();
        for recipient in recipients {
            let Some(served) = bundles.get(&recipient) else {
                skipped.push(Skipped {
                    user_id: recipient,
                    device_id: None,
                    reason: "no published key yet".into(),
                });
                continue;
            };
            let bundle = match self.bundle_to_seal_to(recipient, served) {
                Ok(bundle) => bundle,
                Err(refusal) => {
                    skipped.push(Skipped {
                        user_id: recipient,
                        device_id: None,
                        reason: refusal.to_string(),
                    });
                    continue;
                }
            };
            let to = devices_of(recipient, None);
            self.seal_to_person(&to, &bundle, &key, &mut shares, &mut skipped)?;
        }
        // My own copy: to this device's prekey once it has one (and then to
        // my other devices too), else to my identity as before devices.
        let own_prekey = self.my_prekeys()?.pop();
        let own_device = self.device_key()?.map(|d| d.device_id());
        let identity = self.identity()?;
        let (own, own_device) = match (&own_prekey, own_device) {
            (Some(prekey), Some(device_id)) => (
                SealedShare::seal_to_prekey(
                    identity,
                    prekey.public(),
                    channel.room_id,
                    channel.id,
                    version,
                    made_at,
                    purpose,
                    &key,
                )?,
                Some(device_id),
            ),
            _ => (
                SealedShare::seal(
                    identity,
                    &identity.bundle(),
                    channel.room_id,
                    channel.id,
                    version,
                    made_at,
                    purpose,
                    &key,
                )?,
                None,
            ),
        };
        if own_device.is_some() && self.has_device_list(me) {
            let to = devices_of(me, own_device);
            self.seal_to_devices(&to, &key, &mut shares, &mut skipped)?;
        }
        let members = log.members().keys().copied().collect();
        self.made.insert(
            (channel.id, version),
            Made {
                key,
                made_at,
                members,
            },
        );
        Ok(NewVersion {
            own: OutShare {
                user_id: me,
                channel_id: channel.id,
                key_version: version,
                encrypted_key: own.to_wire(),
                is_key_rotation: purpose.is_key_rotation(),
                device_id: own_device,
            },
            shares,
            skipped,
        })
    }

    /// Seals `key` to one person: when I verified their device list, to
    /// their listed devices only ([`Machine::seal_to_devices`]), never to
    /// their identity, which a revoked device still holds; else to the
    /// identity (`bundle`, the pinned one), in format 2 (format 1 for a
    /// version made before format 2). Returns whether anything was sealed.
    fn seal_to_person(
        &mut self,
        to: &ShareTo<'_>,
        bundle: &PublicBundle,
        key: &ChannelKey,
        shares: &mut Vec<OutShare>,
        skipped: &mut Vec<Skipped>,
    ) -> Result<bool> {
        if self.has_device_list(to.user_id) {
            return self.seal_to_devices(to, key, shares, skipped);
        }
        let identity = self.identity()?;
        let (room_id, channel_id, version) = (to.room_id, to.channel_id, to.version);
        let sealed = match to.made_at {
            Some(made_at) => SealedShare::seal(
                identity, bundle, room_id, channel_id, version, made_at, to.purpose, key,
            )?,
            None => {
                SealedShare::seal_format1(identity, bundle, channel_id, version, to.purpose, key)?
            }
        };
        shares.push(OutShare {
            user_id: to.user_id,
            channel_id,
            key_version: version,
            encrypted_key: sealed.to_wire(),
            is_key_rotation: to.purpose.is_key_rotation(),
            device_id: None,
        });
        Ok(true)
    }

    /// Seals `key` to each device of `to.user_id` whose served prekey may be
    /// sealed to; the others are skipped with the reason. Returns whether
    /// any device got it. A version of format 1 binds no log entry, which a
    /// prekey share needs: it goes to no device
    /// ([`Refusal::Format1ToDevices`]).
    fn seal_to_devices(
        &mut self,
        to: &ShareTo<'_>,
        key: &ChannelKey,
        shares: &mut Vec<OutShare>,
        skipped: &mut Vec<Skipped>,
    ) -> Result<bool> {
        let made_at = to.made_at.ok_or(Refusal::Format1ToDevices {
            user_id: to.user_id,
            channel_id: to.channel_id,
            version: to.version,
        })?;
        let mut sealed_any = false;
        for served in to.served {
            let prekey = match self.prekey_to_seal_to(to.user_id, served, to.now) {
                Ok(prekey) => prekey,
                Err(refusal) => {
                    let device_id = match &refusal {
                        Refusal::UnknownDevice { device_id, .. }
                        | Refusal::StalePrekey { device_id, .. } => Some(*device_id),
                        _ => None,
                    };
                    skipped.push(Skipped {
                        user_id: to.user_id,
                        device_id,
                        reason: refusal.to_string(),
                    });
                    continue;
                }
            };
            if Some(prekey.device_id()) == to.except {
                continue;
            }
            let sealed = SealedShare::seal_to_prekey(
                self.identity()?,
                &prekey,
                to.room_id,
                to.channel_id,
                to.version,
                made_at,
                to.purpose,
                key,
            )?;
            sealed_any = true;
            shares.push(OutShare {
                user_id: to.user_id,
                channel_id: to.channel_id,
                key_version: to.version,
                encrypted_key: sealed.to_wire(),
                is_key_rotation: to.purpose.is_key_rotation(),
                device_id: Some(prekey.device_id()),
            });
        }
        if !sealed_any && to.except.is_none() {
            skipped.push(Skipped {
                user_id: to.user_id,
                device_id: None,
                reason: "none of their devices has a prekey this device may seal to".into(),
            });
        }
        Ok(sealed_any)
    }

    /// The server took my own copy of a version I made: it is mine now.
    pub fn confirm_version(&mut self, channel_id: i64, version: u32, now: u64) -> Result<()> {
        let made = self
            .made
            .remove(&(channel_id, version))
            .ok_or(Refusal::NoKey {
                channel_id,
                version,
            })?;
        if self.state.key(channel_id, version).is_none() {
            self.store_key(
                channel_id,
                version,
                &made.key,
                now,
                Some(made.made_at),
                made.members,
            );
        }
        Ok(())
    }

    /// Making a version failed (someone else claimed it): forget my key.
    pub fn abandon_version(&mut self, channel_id: i64, version: u32) {
        self.made.remove(&(channel_id, version));
    }

    fn store_key(
        &mut self,
        channel_id: i64,
        version: u32,
        key: &ChannelKey,
        now: u64,
        made_at: Option<u64>,
        members: Vec<i64>,
    ) {
        self.state
            .channel_keys
            .entry(channel_id)
            .or_default()
            .insert(
                version,
                StoredKey {
                    key: key.export().to_string(),
                    obtained_at: now,
                    next_counter: 0,
                    made_at,
                    members,
                },
            );
        self.touch();
    }

    /// A channel key version I hold.
    pub fn channel_key(&self, channel_id: i64, version: u32) -> Result<ChannelKey> {
        let stored = self.state.key(channel_id, version).ok_or(Refusal::NoKey {
            channel_id,
            version,
        })?;
        Ok(ChannelKey::import(&stored.key)?)
    }

    /// Verifies and opens a share addressed to me, and stores its key. What
    /// it must be comes from local state, never from the share: the channel
    /// and version the server announces, the room I know the channel in, me
    /// as recipient, the purpose (`request` only with the id of a request I
    /// made). The verified log `entries` of `room_id` must justify it: the
    /// sender, and unless I asked for it me too, were members at the entry
    /// the version was made at; a version that skips ahead of the ones I
    /// hold must have been made after the log's latest membership change;
    /// a version made before that change comes only from a current member
    /// or in answer to my request. A share never replaces a key I hold.
    pub fn accept_share(
        &mut self,
        share: &ShareFacts,
        room_id: i64,
        entries: &[String],
        now: u64,
    ) -> Result<ShareOutcome> {
        let sealed = SealedShare::parse(&share.encrypted_key)?;
        let ctx = *sealed.context();
        let me = self.user_id();
        if ctx.channel_id != share.channel_id
            || ctx.key_version != share.key_version
            || ctx.sender_id != share.sender_id
            || ctx.recipient_id != me
            || ctx.purpose.is_key_rotation() != share.is_key_rotation
        {
            return Err(Refusal::ShareMismatch);
        }
        let (channel_id, version) = (share.channel_id, share.key_version);
        let unjustified = |reason: &str| Refusal::UnjustifiedShare {
            channel_id,
            version,
            reason: reason.to_string(),
        };
        if version == 0 || version >= MAX_VERSION {
            return Err(unjustified("the version number is out of range"));
        }
        self.bind_room(channel_id, room_id)?;
        let log = self.verify_log(room_id, entries)?;
        let requested = match ctx.purpose {
            SharePurpose::Rotation | SharePurpose::Initial => false,
            SharePurpose::Request { request_id } => {
                let mine = self
                    .state
                    .my_requests
                    .get(&channel_id)
                    .is_some_and(|ids| ids.contains(&request_id));
                if !mine {
                    return Err(Refusal::UnrequestedShare);
                }
                true
            }
        };
        let (made_at, members) = match sealed.binding() {
            Some(binding) => {
                if binding.log_seq > head_seq(&log) {
                    return Err(unjustified(
                        "it names a membership-log entry this device has not verified",
                    ));
                }
                let at = log
                    .state_at(binding.log_seq)
                    .map_err(|e| unjustified(&e.to_string()))?;
                if !at.is_member(share.sender_id) {
                    return Err(Refusal::NotAMember {
                        user_id: share.sender_id,
                        room_id,
                    });
                }
                if !requested && !at.is_member(me) {
                    return Err(unjustified("it was made before you were a member"));
                }
                let live = binding.log_seq >= last_change(&log);
                let held = self.state.latest_version(channel_id).unwrap_or(0);
                if !requested && !live && held > 0 && version > held.saturating_add(1) {
                    return Err(unjustified(
                        "it skips versions and was made before the room's latest membership change",
                    ));
                }
                if !requested && !live && !log.state().is_member(share.sender_id) {
                    return Err(unjustified(
                        "it was made before the room's latest membership change by someone who is no longer a member",
                    ));
                }
                (Some(binding.log_seq), at.members.keys().copied().collect())
            }
            None => {
                // Format 1 (made before format 2): from a current member, and
                // never for a version after one of format 2 that I hold.
                if !log.state().is_member(share.sender_id) {
                    return Err(Refusal::NotAMember {
                        user_id: share.sender_id,
                        room_id,
                    });
                }
                let upgraded = self
                    .state
                    .channel_keys
                    .get(&channel_id)
                    .is_some_and(|keys| {
                        keys.iter()
                            .any(|(v, k)| *v < version && k.made_at.is_some())
                    });
                if upgraded {
                    return Err(unjustified(
                        "it is of format 1, but the channel already moved to format 2",
                    ));
                }
                (None, ever_members(&log))
            }
        };
        let sender = self.pinned(share.sender_id).ok_or(Refusal::NoBundle {
            user_id: share.sender_id,
        })?;
        let expected = ShareContext {
            room_id,
            channel_id,
            key_version: version,
            sender_id: share.sender_id,
            recipient_id: me,
            purpose: ctx.purpose,
        };
        let key = match sealed.prekey() {
            Some(target) => {
                let prekey = self
                    .my_prekeys()?
                    .into_iter()
                    .find(|p| {
                        p.public().device_id() == target.device_id
                            && p.prekey_id() == target.prekey_id
                    })
                    .ok_or(Refusal::PrekeyGone {
                        prekey_id: target.prekey_id,
                    })?;
                sealed.open_with_prekey(&prekey, &sender, &expected)?
            }
            None => sealed.open(self.identity()?, &sender, &expected)?,
        };
        self.note_encrypted(channel_id);
        if let Some(held) = self.state.key(channel_id, version) {
            if ChannelKey::import(&held.key)?.as_bytes() == key.as_bytes() {
                return Ok(ShareOutcome::AlreadyHeld {
                    channel_id,
                    version,
                });
            }
            return Err(Refusal::DifferentKey {
                channel_id,
                version,
            });
        }
        if let SharePurpose::Request { request_id } = ctx.purpose
            && let Some(ids) = self.state.my_requests.get_mut(&channel_id)
        {
            ids.remove(&request_id);
        }
        self.store_key(channel_id, version, &key, now, made_at, members);
        Ok(ShareOutcome::Accepted {
            channel_id,
            version,
        })
    }

    /// I asked for a channel's key: a share bound to `request_id` will be
    /// accepted.
    pub fn record_request(&mut self, channel_id: i64, request_id: i64) {
        self.state
            .my_requests
            .entry(channel_id)
            .or_default()
            .insert(request_id);
        self.touch();
    }

    /// Whether I asked for a channel's key and wait for the answer.
    pub fn has_requested(&self, channel_id: i64) -> bool {
        self.state
            .my_requests
            .get(&channel_id)
            .is_some_and(|ids| !ids.is_empty())
    }

    /// Someone asks me for a key: kept until I approve or dismiss it.
    pub fn queue_request(&mut self, request: KeyRequest) {
        self.state.inbox.insert(request.request_id, request);
        self.touch();
    }

    /// Key requests waiting for my approval.
    pub fn pending_requests(&self) -> Vec<KeyRequest> {
        self.state.inbox.values().cloned().collect()
    }

    /// Drops a queued request (approved and posted, or declined).
    pub fn dismiss_request(&mut self, request_id: i64) {
        if self.state.inbox.remove(&request_id).is_some() {
            self.touch();
        }
    }

    /// Seals a key version to the requester, bound to the request, after
    /// checking they are a member of the verified log and their served
    /// bundle equals the pin. The version is my newest unless the approver
    /// chose an older one (`version`): the version named in the request
    /// comes from the server and is never released on its word. Either way
    /// it must have been made for the requester (they were a member at the
    /// entry it was made at), so nobody is given a key made before they
    /// joined.
    ///
    /// Where it goes: when I verified a device list of the requester, to
    /// each listed device whose prekey the server serves in `prekeys` and
    /// passes [`Machine::prekey_to_seal_to`] at `now` (seconds) — never to
    /// their identity, which a revoked device still holds
    /// ([`Refusal::NoDeviceToSealTo`] when no device qualifies, and
    /// [`Refusal::Format1ToDevices`] for a version of format 1, which only
    /// an identity can be sealed to). Only to a person without a device
    /// list is it sealed to the identity, as before devices. The request
    /// stays queued until [`Machine::dismiss_request`].
    #[allow(clippy::too_many_arguments)]
    pub fn approve_request(
        &mut self,
        request_id: i64,
        room_id: i64,
        entries: &[String],
        requester_bundle: &str,
        prekeys: &[String],
        version: Option<u32>,
        now: u64,
    ) -> Result<Approved> {
        let request = self
            .state
            .inbox
            .get(&request_id)
            .cloned()
            .ok_or(Refusal::UnknownRequest { request_id })?;
        let (channel_id, requester) = (request.channel_id, request.requester_id);
        let log = self.verify_log(room_id, entries)?;
        if !log.state().is_member(requester) {
            return Err(Refusal::NotAMember {
                user_id: requester,
                room_id,
            });
        }
        let version = match version {
            Some(chosen) => chosen,
            None => self
                .state
                .latest_version(channel_id)
                .ok_or(Refusal::NoKey {
                    channel_id,
                    version: 0,
                })?,
        };
        let key = self.channel_key(channel_id, version)?;
        let stored = self.state.key(channel_id, version).ok_or(Refusal::NoKey {
            channel_id,
            version,
        })?;
        let made_at = stored.made_at;
        let covered = if made_at.is_some() {
            stored.members.contains(&requester)
        } else {
            // A format-1 key records no members: those of every format-1
            // version are the room's members over time.
            true
        };
        if !covered {
            return Err(Refusal::NotCovered {
                user_id: requester,
                channel_id,
                version,
            });
        }
        let bundle = self.bundle_to_seal_to(requester, requester_bundle)?;
        let to = ShareTo {
            user_id: requester,
            served: prekeys,
            except: None,
            room_id,
            channel_id,
            version,
            made_at,
            purpose: SharePurpose::Request { request_id },
            now,
        };
        let mut approved = Approved {
            shares: Vec::new(),
            skipped: Vec::new(),
        };
        if !self.seal_to_person(
            &to,
            &bundle,
            &key,
            &mut approved.shares,
            &mut approved.skipped,
        )? {
            return Err(Refusal::NoDeviceToSealTo { user_id: requester });
        }
        Ok(approved)
    }
}

#[cfg(test)]
mod tests {
    use securechat_crypto::{
        Action, DeviceKey, DeviceList, Identity, MembershipEntry, MembershipLog, PrekeySecret, Role,
    };

    use super::*;
    use crate::State;

    const NOW: u64 = 1_700_000_000;
    const ROOM: i64 = 10;
    const CHANNEL: i64 = 100;

    /// Alice (1) owns room 10 with bob (2) and carol (3); her machine
    /// pins both and holds version 1 of channel 100 (made at seq 2, for
    /// the three of them) and version 2 of channel 101, of format 1. Bob's
    /// list, as alice verified it, names his phone only: his laptop was
    /// revoked. Carol has no devices.
    struct Room {
        alice: Machine,
        bob: Identity,
        carol: Identity,
        entries: Vec<String>,
        phone: PrekeySecret,
        laptop: PrekeySecret,
    }

    fn room() -> Room {
        let (a, b, c) = (
            Identity::generate(1).unwrap(),
            Identity::generate(2).unwrap(),
            Identity::generate(3).unwrap(),
        );
        let mut log = MembershipLog::create(&a, ROOM, false, NOW);
        for subject in [2, 3] {
            let add = Action::Add {
                subject,
                role: Role::Member,
            };
            log.append(&a, add, NOW).unwrap();
        }
        let entries = log.entries().iter().map(MembershipEntry::to_wire).collect();
        let mut state = State::new("http://x/", 1);
        state.identity = Some(a.export().to_string());
        let mut alice = Machine::new(state).unwrap();
        for other in [&b, &c] {
            let bundle = other.bundle().to_wire();
            alice.observe_bundle(other.user_id(), &bundle, &[]).unwrap();
        }
        let key = ChannelKey::generate().unwrap();
        alice.store_key(CHANNEL, 1, &key, NOW, Some(2), vec![1, 2, 3]);
        alice.store_key(101, 2, &key, NOW, None, Vec::new());
        let (phone, laptop) = (
            DeviceKey::generate(2).unwrap(),
            DeviceKey::generate(2).unwrap(),
        );
        let list = DeviceList::sign(&b, 2, NOW * 1000, &[phone.entry()]).unwrap();
        alice.observe_device_list(2, &list.to_wire()).unwrap();
        Room {
            alice,
            entries,
            phone: PrekeySecret::generate(&phone, 1, NOW * 1000).unwrap(),
            laptop: PrekeySecret::generate(&laptop, 1, NOW * 1000).unwrap(),
            bob: b,
            carol: c,
        }
    }

    fn request(request_id: i64, channel_id: i64, requester_id: i64) -> KeyRequest {
        KeyRequest {
            request_id,
            channel_id,
            requester_id,
            requester_username: String::new(),
            key_version: None,
        }
    }

    #[test]
    fn a_request_of_someone_with_devices_is_answered_to_the_listed_devices_only() {
        let Room {
            mut alice,
            bob,
            entries,
            phone,
            laptop,
            ..
        } = room();
        alice.queue_request(request(7, CHANNEL, 2));
        let bundle = bob.bundle().to_wire();
        let served = [phone.public().to_wire(), laptop.public().to_wire()];
        let approved = alice
            .approve_request(7, ROOM, &entries, &bundle, &served, None, NOW + 60)
            .unwrap();
        // The phone's copy, bound to the request; nothing for the revoked
        // laptop, and nothing for bob's identity, which the laptop holds.
        assert_eq!(approved.shares.len(), 1);
        let share = &approved.shares[0];
        let laptop_id = laptop.public().device_id();
        assert_eq!(
            (share.user_id, share.key_version, share.is_key_rotation),
            (2, 1, false)
        );
        assert_eq!(share.device_id, Some(phone.public().device_id()));
        let sealed = SealedShare::parse(&share.encrypted_key).unwrap();
        assert_eq!(sealed.format(), 3);
        assert_eq!(
            sealed.context().purpose,
            SharePurpose::Request { request_id: 7 }
        );
        assert_eq!(
            sealed.prekey().map(|p| p.device_id),
            Some(phone.public().device_id())
        );
        assert_eq!(approved.skipped.len(), 1);
        assert_eq!(approved.skipped[0].device_id, Some(laptop_id));
        // The server serves no prekey (or only the laptop's): no fall back
        // to the identity.
        for served in [&[][..], &[laptop.public().to_wire()][..]] {
            let refused = alice
                .approve_request(7, ROOM, &entries, &bundle, served, None, NOW + 60)
                .unwrap_err();
            assert_eq!(refused, Refusal::NoDeviceToSealTo { user_id: 2 });
            assert_eq!(refused.code(), "no_device_prekey");
        }
        // A version of format 1 goes to no device, nor to the identity.
        alice.queue_request(request(8, 101, 2));
        let refused = alice
            .approve_request(8, ROOM, &entries, &bundle, &served, None, NOW + 60)
            .unwrap_err();
        assert_eq!(refused.code(), "format1_to_devices");
        // The requests stay queued until dismissed.
        assert_eq!(alice.pending_requests().len(), 2);
    }

    #[test]
    fn a_request_of_someone_without_devices_is_sealed_to_their_identity() {
        let Room {
            mut alice,
            carol,
            entries,
            ..
        } = room();
        let bundle = carol.bundle().to_wire();
        for (request_id, channel_id, format) in [(9, CHANNEL, 2), (10, 101, 1)] {
            alice.queue_request(request(request_id, channel_id, 3));
            let approved = alice
                .approve_request(request_id, ROOM, &entries, &bundle, &[], None, NOW)
                .unwrap();
            assert_eq!(approved.shares.len(), 1);
            assert!(approved.skipped.is_empty());
            let share = &approved.shares[0];
            assert_eq!((share.user_id, share.device_id), (3, None));
            let sealed = SealedShare::parse(&share.encrypted_key).unwrap();
            assert_eq!(sealed.format(), format);
            assert_eq!(
                sealed.context().purpose,
                SharePurpose::Request { request_id }
            );
        }
    }

    #[test]
    fn a_version_already_held_is_sealed_under_never_made_again() {
        let mut machine = Machine::new(State::new("s", 1)).unwrap();
        machine.create_identity(None).unwrap();
        let key = ChannelKey::generate().unwrap();
        machine.store_key(5, 3, &key, 100, Some(0), vec![1]);
        // A listing that still shows version 3 pending after I made it.
        let stale = ChannelFacts {
            id: 5,
            room_id: 9,
            is_encrypted: true,
            key_version: 2,
            pending_version: Some(3),
        };
        assert_eq!(
            machine.plan_send(&stale, 100).unwrap(),
            SendPlan::Seal { version: 3 }
        );
        assert!(matches!(
            machine.make_version(&stale, 3, &[], &BTreeMap::new(), &BTreeMap::new(), None, 0),
            Err(Refusal::DifferentKey { version: 3, .. })
        ));
    }
}
