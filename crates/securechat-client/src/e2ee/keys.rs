//! Channel keys: making a new version and sealing it to the verified
//! members (first key, rotation), accepting shares pushed to me, asking for
//! a key and approving others' requests, and the event handler that ties
//! them to `key_rotation_needed`, `channel_key_share`, `channel_key_request`
//! and `public_key_changed`.

use serde::Deserialize;
use serde_json::Value;

use securechat_crypto::{ChannelKey, SealedShare, ShareContext, SharePurpose};

use super::{SecureClient, now};
use crate::error::{Error, Result};
use crate::keystore::{KeyRequest, StoredKey};
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
            .store
            .key(event.channel_id, event.new_version)
            .is_some()
        {
            return Ok(Handled::Ignored(format!(
                "version {} of channel {} is already made",
                event.new_version, event.channel_id
            )));
        }
        tracing::info!(channel_id = event.channel_id, version = event.new_version, reason = %event.reason, "rotating");
        let hint: Vec<i64> = event.members.iter().map(|m| m.id).collect();
        let distribution = self
            .make_version(
                event.channel_id,
                event.new_version,
                SharePurpose::Rotation,
                Some(&hint),
            )
            .await?;
        Ok(Handled::Rotated(distribution))
    }

    /// Makes version `version` of a channel: a fresh random key, sealed to
    /// every member of the verified membership log (∩ `hint`, the server's
    /// member list of the event, when given) whose current bundle matches
    /// the pin, then to me (my copy makes a pending version current).
    pub(crate) async fn make_version(
        &mut self,
        channel_id: i64,
        version: u32,
        purpose: SharePurpose,
        hint: Option<&[i64]>,
    ) -> Result<Distribution> {
        let info = self.channel_info(channel_id).await?;
        let log = self.log_for_keys(info.room_id).await?;
        let key = ChannelKey::generate()?;
        let mut distribution = Distribution {
            channel_id,
            version,
            shared_with: Vec::new(),
            skipped: Vec::new(),
        };
        let me = self.user_id();
        if let Some(hint) = hint {
            for &outsider in hint.iter().filter(|id| !log.state().is_member(**id)) {
                distribution
                    .skipped
                    .push((outsider, "not a member in the verified log".into()));
            }
        }
        let recipients: Vec<i64> = log
            .members()
            .keys()
            .copied()
            .filter(|id| *id != me && hint.is_none_or(|h| h.contains(id)))
            .collect();
        for recipient in recipients {
            let bundle = match self.bundle_to_seal_to(recipient).await {
                Ok(bundle) => bundle,
                Err(error) => {
                    distribution.skipped.push((recipient, error.to_string()));
                    continue;
                }
            };
            let sealed =
                SealedShare::seal(&self.identity, &bundle, channel_id, version, purpose, &key)?;
            match self
                .client
                .share_key(
                    channel_id,
                    recipient,
                    version,
                    purpose.is_key_rotation(),
                    &sealed.to_wire(),
                )
                .await
            {
                Ok(()) => distribution.shared_with.push(recipient),
                Err(error @ (Error::Api(_) | Error::Rejected(_))) => {
                    distribution.skipped.push((recipient, error.to_string()));
                }
                Err(error) => return Err(error),
            }
        }
        let mine = SealedShare::seal(
            &self.identity,
            &self.identity.bundle(),
            channel_id,
            version,
            purpose,
            &key,
        )?;
        self.client
            .share_key(
                channel_id,
                me,
                version,
                purpose.is_key_rotation(),
                &mine.to_wire(),
            )
            .await?;
        distribution.shared_with.push(me);
        self.store_key(channel_id, version, &key)?;
        Ok(distribution)
    }

    fn store_key(&mut self, channel_id: i64, version: u32, key: &ChannelKey) -> Result<()> {
        self.store
            .channel_keys
            .entry(channel_id)
            .or_default()
            .insert(
                version,
                StoredKey {
                    key: key.export().to_string(),
                    obtained_at: now(),
                    next_counter: 0,
                },
            );
        self.save()
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

    /// Verifies and opens a share addressed to me, and stores its key. The
    /// expected context comes from local state: the channel and version
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
        let share = SealedShare::parse(encrypted_key)?;
        let info = self.channel_info(channel_id).await?;
        let log = self.verified_log(info.room_id).await?;
        if !log.state().is_member(sender_id) {
            return Err(Error::NotVerifiedMember {
                user_id: sender_id,
                room_id: info.room_id,
            });
        }
        let purpose = if is_key_rotation {
            SharePurpose::Rotation
        } else {
            match share.context().purpose {
                SharePurpose::Request { request_id }
                    if self
                        .store
                        .my_requests
                        .get(&channel_id)
                        .is_some_and(|ids| ids.contains(&request_id)) =>
                {
                    SharePurpose::Request { request_id }
                }
                _ => SharePurpose::Initial,
            }
        };
        let expected = ShareContext {
            channel_id,
            key_version: version,
            sender_id,
            recipient_id: self.user_id(),
            purpose,
        };
        let sender = self.pinned_bundle(sender_id).await?;
        let key = share.open(&self.identity, &sender, &expected)?;
        if let Some(held) = self.store.key(channel_id, version) {
            if ChannelKey::import(&held.key)?.as_bytes() == key.as_bytes() {
                return Ok(Handled::Ignored(format!(
                    "version {version} of channel {channel_id} is already held"
                )));
            }
            return Ok(Handled::Rejected(format!(
                "a different key for version {version} of channel {channel_id}, which I already hold"
            )));
        }
        if let SharePurpose::Request { request_id } = purpose
            && let Some(ids) = self.store.my_requests.get_mut(&channel_id)
        {
            ids.remove(&request_id);
        }
        self.store_key(channel_id, version, &key)?;
        Ok(Handled::KeyAccepted {
            channel_id,
            version,
        })
    }

    /// Fetches my sealed copy of a version from the server and accepts it.
    pub async fn fetch_key(&mut self, channel_id: i64, version: u32) -> Result<Handled> {
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
        self.store
            .my_requests
            .entry(channel_id)
            .or_default()
            .insert(request_id);
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
        self.store.inbox.insert(request.request_id, request.clone());
        self.save()?;
        Ok(Handled::RequestQueued(request))
    }

    /// Key requests waiting for my approval.
    pub fn pending_requests(&self) -> Vec<KeyRequest> {
        self.store.inbox.values().cloned().collect()
    }

    /// Approves a queued key request: after checking the requester is a
    /// member of the verified log and their bundle matches the pin, seals
    /// the requested version (or my newest) to them, bound to the request.
    pub async fn approve(&mut self, request_id: i64) -> Result<Distribution> {
        let request = self
            .store
            .inbox
            .get(&request_id)
            .cloned()
            .ok_or(Error::UnknownRequest { request_id })?;
        let channel_id = request.channel_id;
        let info = self.channel_info(channel_id).await?;
        let log = self.verified_log(info.room_id).await?;
        if !log.state().is_member(request.requester_id) {
            return Err(Error::NotVerifiedMember {
                user_id: request.requester_id,
                room_id: info.room_id,
            });
        }
        let version = request
            .key_version
            .filter(|v| self.store.key(channel_id, *v).is_some())
            .or_else(|| self.store.latest_version(channel_id))
            .ok_or(Error::NoChannelKey {
                channel_id,
                version: request.key_version.unwrap_or(0),
            })?;
        let key = self.key_of(channel_id, version)?;
        let bundle = self.bundle_to_seal_to(request.requester_id).await?;
        let purpose = SharePurpose::Request { request_id };
        let sealed =
            SealedShare::seal(&self.identity, &bundle, channel_id, version, purpose, &key)?;
        self.client
            .share_key(
                channel_id,
                request.requester_id,
                version,
                false,
                &sealed.to_wire(),
            )
            .await?;
        self.store.inbox.remove(&request_id);
        self.save()?;
        Ok(Distribution {
            channel_id,
            version,
            shared_with: vec![request.requester_id],
            skipped: Vec::new(),
        })
    }

    pub(crate) fn key_of(&self, channel_id: i64, version: u32) -> Result<ChannelKey> {
        let stored = self
            .store
            .key(channel_id, version)
            .ok_or(Error::NoChannelKey {
                channel_id,
                version,
            })?;
        Ok(ChannelKey::import(&stored.key)?)
    }

    async fn on_key_changed(&mut self, user_id: i64) -> Result<Handled> {
        if !self.store.pins.contains_key(&user_id) {
            return Ok(Handled::Ignored(format!(
                "user {user_id} is not pinned yet"
            )));
        }
        match self.bundle_to_seal_to(user_id).await {
            Ok(_) => Ok(Handled::Ignored(format!(
                "user {user_id}'s key is the pinned one"
            ))),
            Err(Error::KeyChanged { user_id, .. }) => Ok(Handled::KeyChanged { user_id }),
            Err(error) => Err(error),
        }
    }
}

/// Errors that mean "this does not verify" rather than "something broke".
pub(crate) fn is_refusal(error: &Error) -> bool {
    matches!(
        error,
        Error::Crypto(_)
            | Error::KeyChanged { .. }
            | Error::NotVerifiedMember { .. }
            | Error::NoMembershipLog { .. }
            | Error::NoChannelKey { .. }
    )
}
