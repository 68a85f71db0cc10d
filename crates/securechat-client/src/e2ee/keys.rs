//! Channel keys, as I/O around the core: posting the versions it makes
//! (first key, rotation), feeding it the shares pushed to me, asking for a
//! key and posting its answers to others' requests, and the event handler
//! that ties them to `key_rotation_needed`, `channel_key_share`,
//! `channel_key_request` and `public_key_changed`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use securechat_e2ee::{KeyRequest, Observed, ShareFacts, ShareOutcome};

use super::{SecureClient, now};
use crate::error::{Error, Result};
use crate::socketio::Event;

/// Who got a new key version, and who did not and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    pub channel_id: i64,
    pub version: u32,
    /// Recipients whose share the server accepted (me included).
    pub shared_with: Vec<i64>,
    /// Candidates left out: not in the verified log, key changed, no key …
    pub skipped: Vec<(i64, String)>,
}

/// What [`SecureClient::handle_event`] did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Not an end-to-end event, or not mine to act on.
    Ignored(String),
    /// I rotated the channel key.
    Rotated(Distribution),
    /// A share was verified, opened and stored.
    KeyAccepted { channel_id: i64, version: u32 },
    /// The event failed verification (forged, replayed, from a non-member);
    /// nothing was stored.
    Rejected(String),
    /// A key request now waits for explicit approval.
    RequestQueued(KeyRequest),
    /// A user's key changed: they get no key until accepted with `trust`.
    KeyChanged { user_id: i64 },
}

#[derive(Deserialize)]
struct RotationNeeded {
    channel_id: i64,
    new_version: u32,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    members: Vec<MemberHint>,
    #[serde(default)]
    rotator_id: Option<i64>,
}

#[derive(Deserialize)]
struct MemberHint {
    id: i64,
}

#[derive(Deserialize)]
struct ShareEvent {
    channel_id: i64,
    encrypted_key: String,
    key_version: u32,
    is_key_rotation: bool,
    sender_id: i64,
}

#[derive(Deserialize)]
struct RequestEvent {
    channel_id: i64,
    requester_id: i64,
    #[serde(default)]
    requester_username: String,
    request_id: i64,
    #[serde(default)]
    key_version: Option<u32>,
}

#[derive(Deserialize)]
struct KeyChangedEvent {
    user_id: i64,
}

impl SecureClient {
    /// Handles one server event. Security refusals are
    /// [`Handled::Rejected`] (the event is dropped); `Err` is left for
    /// transport and storage failures.
    pub async fn handle_event(&mut self, event: &Event) -> Result<Handled> {
        self.handle(&event.name, event.data()).await
    }

    /// [`SecureClient::handle_event`] by name and payload.
    pub async fn handle(&mut self, name: &str, data: &Value) -> Result<Handled> {
        let parse_error =
            |e: serde_json::Error| Handled::Rejected(format!("malformed {name}: {e}"));
        let outcome = match name {
            "key_rotation_needed" => match RotationNeeded::deserialize(data) {
                Ok(event) => self.on_rotation_needed(event).await,
                Err(e) => return Ok(parse_error(e)),
            },
            "channel_key_share" => match ShareEvent::deserialize(data) {
                Ok(event) => self.on_share(event).await,
                Err(e) => return Ok(parse_error(e)),
            },
            "channel_key_request" => match RequestEvent::deserialize(data) {
                Ok(event) => self.on_request(event),
                Err(e) => return Ok(parse_error(e)),
            },
            "public_key_changed" => match KeyChangedEvent::deserialize(data) {
                Ok(event) => self.on_key_changed(event.user_id).await,
                Err(e) => return Ok(parse_error(e)),
            },
            other => return Ok(Handled::Ignored(format!("{other} is not a key event"))),
        };
        match outcome {
            Ok(handled) => Ok(handled),
            Err(error) if is_refusal(&error) => Ok(Handled::Rejected(error.to_string())),
            Err(error) => Err(error),
        }
    }

    async fn on_rotation_needed(&mut self, event: RotationNeeded) -> Result<Handled> {
        if event.rotator_id != Some(self.user_id()) {
            return Ok(Handled::Ignored(format!(
                "rotation of channel {} is for another member",
                event.channel_id
            )));
        }
        if self
            .machine
            .channel_key(event.channel_id, event.new_version)
            .is_ok()
        {
            return Ok(Handled::Ignored(format!(
                "version {} of channel {} is already made",
                event.new_version, event.channel_id
            )));
        }
        tracing::info!(channel_id = event.channel_id, version = event.new_version, reason = %event.reason, "rotating");
        let hint: Vec<i64> = event.members.iter().map(|m| m.id).collect();
        let distribution = self
            .make_version(event.channel_id, event.new_version, Some(&hint))
            .await?;
        Ok(Handled::Rotated(distribution))
    }

    /// Makes version `version` of a channel: the core makes a fresh key and
    /// seals it to every member of the verified membership log (∩ `hint`,
    /// the server's member list of the event, when given) whose current
    /// bundle matches the pin. My own copy is posted first: it claims the
    /// version on the server (another member's claim answers
    /// `rotation_taken`, and my key is dropped).
    pub(crate) async fn make_version(
        &mut self,
        channel_id: i64,
        version: u32,
        hint: Option<&[i64]>,
    ) -> Result<Distribution> {
        let facts = self.channel_facts(channel_id, false).await?;
        let entries = self.log_for_keys(facts.room_id).await?;
        let entries = self
            .register_with(facts.room_id, channel_id, entries)
            .await?;
        let members = match self.machine.verify_log(facts.room_id, &entries) {
            Ok(log) => log.members().keys().copied().collect::<Vec<_>>(),
            Err(refusal) => {
                self.save()?;
                return Err(refusal.into());
            }
        };
        let mut bundles = BTreeMap::new();
        for member in members.into_iter().filter(|id| *id != self.user_id()) {
            if hint.is_some_and(|h| !h.contains(&member)) {
                continue;
            }
            match self.client.public_key(member).await {
                Ok(published) => {
                    bundles.insert(member, published.public_key);
                }
                Err(error) if error.status() == Some(404) => {}
                Err(error) => return Err(error),
            }
        }
        let mut device_owners: Vec<i64> = bundles.keys().copied().collect();
        if self.machine.device_id().is_some() {
            device_owners.push(self.user_id());
        }
        let prekeys = self.served_prekeys(&device_owners).await?;
        let made = self.machine.make_version(
            &facts,
            version,
            &entries,
            &bundles,
            &prekeys,
            hint,
            super::now(),
        );
        self.save()?;
        let made = made?;
        let own = &made.own;
        if let Err(error) = self
            .client
            .share_key(
                channel_id,
                own.user_id,
                version,
                own.is_key_rotation,
                &own.encrypted_key,
            )
            .await
        {
            self.machine.abandon_version(channel_id, version);
            return Err(error);
        }
        self.machine.confirm_version(channel_id, version, now())?;
        self.save()?;
        let mut distribution = Distribution {
            channel_id,
            version,
            shared_with: vec![self.user_id()],
            skipped: made
                .skipped
                .iter()
                .map(|s| (s.user_id, s.reason.clone()))
                .collect(),
        };
        for share in &made.shares {
            match self
                .client
                .share_key(
                    channel_id,
                    share.user_id,
                    version,
                    share.is_key_rotation,
                    &share.encrypted_key,
                )
                .await
            {
                Ok(()) => distribution.shared_with.push(share.user_id),
                Err(error @ (Error::Api(_) | Error::Rejected(_))) => {
                    distribution
                        .skipped
                        .push((share.user_id, error.to_string()));
                }
                Err(error) => return Err(error),
            }
        }
        Ok(distribution)
    }

    async fn on_share(&mut self, event: ShareEvent) -> Result<Handled> {
        self.accept_share(
            event.channel_id,
            event.key_version,
            event.sender_id,
            event.is_key_rotation,
            &event.encrypted_key,
        )
        .await
    }

    /// Has the core verify and open a share addressed to me, and store its
    /// key. What it must be comes from local state: the channel and version
    /// announced, me as recipient, the purpose (`request` only with the id
    /// of a request I made); the sender must be a member of the verified log.
    pub async fn accept_share(
        &mut self,
        channel_id: i64,
        version: u32,
        sender_id: i64,
        is_key_rotation: bool,
        encrypted_key: &str,
    ) -> Result<Handled> {
        let facts = self.channel_facts(channel_id, false).await?;
        self.ensure_pinned(sender_id).await?;
        let entries = self.log_entries(facts.room_id).await?;
        let share = ShareFacts {
            channel_id,
            key_version: version,
            sender_id,
            is_key_rotation,
            encrypted_key: encrypted_key.to_string(),
        };
        let outcome = self
            .machine
            .accept_share(&share, facts.room_id, &entries, now());
        self.save()?;
        match outcome? {
            ShareOutcome::Accepted {
                channel_id,
                version,
            } => Ok(Handled::KeyAccepted {
                channel_id,
                version,
            }),
            ShareOutcome::AlreadyHeld {
                channel_id,
                version,
            } => Ok(Handled::Ignored(format!(
                "version {version} of channel {channel_id} is already held"
            ))),
        }
    }

    /// Fetches my sealed copy of a version from the server and accepts it.
    /// A device that is set up looks in its mailbox first.
    pub async fn fetch_key(&mut self, channel_id: i64, version: u32) -> Result<Handled> {
        if self.machine.device_id().is_some() {
            self.sync_device().await?;
            if self.machine.channel_key(channel_id, version).is_ok() {
                return Ok(Handled::KeyAccepted {
                    channel_id,
                    version,
                });
            }
        }
        let share = self.client.my_share(channel_id, Some(version)).await?;
        let outcome = self
            .accept_share(
                channel_id,
                version,
                share.sender_id,
                share.is_key_rotation,
                &share.encrypted_key,
            )
            .await;
        match outcome {
            Err(error) if is_refusal(&error) => Ok(Handled::Rejected(error.to_string())),
            other => other,
        }
    }

    /// Asks the room's admins for the channel's key; the answer is a share
    /// bound to the returned request id, accepted only by this client.
    pub async fn request_key(&mut self, channel_id: i64) -> Result<i64> {
        let request_id = self.client.post_key_request(channel_id).await?;
        self.machine.record_request(channel_id, request_id);
        self.save()?;
        Ok(request_id)
    }

    fn on_request(&mut self, event: RequestEvent) -> Result<Handled> {
        let request = KeyRequest {
            request_id: event.request_id,
            channel_id: event.channel_id,
            requester_id: event.requester_id,
            requester_username: event.requester_username,
            key_version: event.key_version,
        };
        self.machine.queue_request(request.clone());
        self.save()?;
        Ok(Handled::RequestQueued(request))
    }

    /// Key requests waiting for my approval.
    pub fn pending_requests(&self) -> Vec<KeyRequest> {
        self.machine.pending_requests()
    }

    /// Approves a queued key request: the core checks the requester is a
    /// member of the verified log and their bundle matches the pin, and
    /// seals my newest version to them, bound to the request (never an older
    /// one on the server's word). When the requester has a device list, it
    /// is fetched and verified first, and the key goes to each listed
    /// device's fresh prekey only — never to their identity, which a
    /// revoked device still holds. The request stays queued if no share
    /// could be posted.
    pub async fn approve(&mut self, request_id: i64) -> Result<Distribution> {
        let request = self
            .pending_requests()
            .into_iter()
            .find(|r| r.request_id == request_id)
            .ok_or(Error::UnknownRequest { request_id })?;
        let requester = request.requester_id;
        let facts = self.channel_facts(request.channel_id, false).await?;
        self.ensure_pinned(requester).await?;
        let entries = self.log_entries(facts.room_id).await?;
        let served = self.client.public_key(requester).await?;
        let prekeys = self
            .served_prekeys(&[requester])
            .await?
            .remove(&requester)
            .unwrap_or_default();
        let approved = self.machine.approve_request(
            request_id,
            facts.room_id,
            &entries,
            &served.public_key,
            &prekeys,
            None,
            now(),
        );
        self.save()?;
        let approved = approved?;
        let mut distribution = Distribution {
            channel_id: facts.id,
            version: approved.shares.first().map_or(0, |s| s.key_version),
            shared_with: Vec::new(),
            skipped: approved
                .skipped
                .iter()
                .map(|s| (s.user_id, s.reason.clone()))
                .collect(),
        };
        let mut failed = None;
        for share in &approved.shares {
            match self
                .client
                .share_key(
                    share.channel_id,
                    share.user_id,
                    share.key_version,
                    false,
                    &share.encrypted_key,
                )
                .await
            {
                Ok(()) => {
                    if !distribution.shared_with.contains(&share.user_id) {
                        distribution.shared_with.push(share.user_id);
                    }
                }
                Err(error @ (Error::Api(_) | Error::Rejected(_))) => {
                    distribution
                        .skipped
                        .push((share.user_id, error.to_string()));
                    failed.get_or_insert(error);
                }
                Err(error) => return Err(error),
            }
        }
        if distribution.shared_with.is_empty()
            && let Some(error) = failed
        {
            return Err(error);
        }
        self.machine.dismiss_request(request_id);
        self.save()?;
        Ok(distribution)
    }

    async fn on_key_changed(&mut self, user_id: i64) -> Result<Handled> {
        if !self.machine.is_pinned(user_id) {
            return Ok(Handled::Ignored(format!(
                "user {user_id} is not pinned yet"
            )));
        }
        match self.observe(user_id).await? {
            Observed::Changed { .. } => Ok(Handled::KeyChanged { user_id }),
            _ => Ok(Handled::Ignored(format!(
                "user {user_id}'s key is the pinned one"
            ))),
        }
    }
}

/// Errors that mean "this does not verify" rather than "something broke".
pub(crate) fn is_refusal(error: &Error) -> bool {
    matches!(
        error,
        Error::Crypto(_)
            | Error::Refused(_)
            | Error::NotVerifiedMember { .. }
            | Error::NoMembershipLog { .. }
            | Error::NoChannelKey { .. }
    )
}
