//! Messages in encrypted channels: sending envelopes (making or fetching
//! the key the server asks for) and reading them back verified — the
//! sender's pinned key, the version the server filed, the counter cap and
//! replay detection. Nothing that fails is ever shown as encrypted.

use serde::Serialize;

use securechat_crypto::{Envelope, SendCounter, SharePurpose};

use super::{SecureClient, now};
use crate::error::{Error, Result};
use crate::keystore::seen_key;
use crate::messages::{HistoryQuery, Message, OutgoingMessage, SendOptions, new_client_msg_id};
use crate::socketio::Socket;

/// A message as the reader should present it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMessage {
    pub message: Message,
    pub body: Body,
}

/// What a message turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A plaintext channel's text (not end-to-end encrypted, as expected).
    Plain(String),
    /// Decrypted and verified: `sender_id` wrote exactly this.
    Verified { text: String, sender_id: i64 },
    /// In an encrypted channel but not an envelope: put there by the
    /// server (or a tool writing to its database). Never encrypted.
    Injected { content: Option<String> },
    /// An envelope that cannot be read or does not verify, and why.
    Undecryptable { reason: String },
    /// Deleted by its sender or a moderator.
    Deleted,
}

impl Body {
    /// Whether the reader may trust this as an end-to-end encrypted message.
    pub fn is_verified(&self) -> bool {
        matches!(self, Self::Verified { .. })
    }
}

#[derive(Serialize)]
struct EnvelopeMessage<'a> {
    channel_id: i64,
    envelope: &'a str,
    key_version: u32,
    client_msg_id: &'a str,
}

impl SecureClient {
    /// Sends `text` to a channel: encrypted under its current key when the
    /// channel is encrypted (making version 1, performing a pending
    /// rotation or fetching a newer key as the server answers), plaintext
    /// otherwise.
    pub async fn send(&mut self, socket: &Socket, channel_id: i64, text: &str) -> Result<Message> {
        let info = self.channel_info(channel_id).await?;
        if !info.encrypted {
            return socket
                .send_message(&OutgoingMessage::new(channel_id, text))
                .await;
        }
        let client_msg_id = new_client_msg_id();
        let mut last_error = None;
        for _ in 0..3 {
            let version = match self.store.latest_version(channel_id) {
                Some(version) => version,
                None => self.obtain_current_key(channel_id).await?,
            };
            let envelope = self.seal_message(channel_id, version, text)?;
            let body = EnvelopeMessage {
                channel_id,
                envelope: &envelope,
                key_version: version,
                client_msg_id: &client_msg_id,
            };
            match socket.send_body(&body, &SendOptions::default()).await {
                Ok(message) => return Ok(message),
                Err(error) => {
                    match error.code() {
                        Some("no_channel_key") => {
                            self.make_version(channel_id, 1, SharePurpose::Initial, None)
                                .await?;
                        }
                        // The seed's "first speaks" rule: I perform the rotation.
                        Some("key_rotation_pending") => {
                            let current = self.server_version(channel_id).await?;
                            self.make_version(
                                channel_id,
                                current + 1,
                                SharePurpose::Rotation,
                                None,
                            )
                            .await?;
                        }
                        Some("stale_key_version") => {
                            self.obtain_current_key(channel_id).await?;
                        }
                        _ => return Err(error),
                    }
                    last_error = Some(error);
                }
            }
        }
        Err(last_error.unwrap_or(Error::NoChannelKey {
            channel_id,
            version: 0,
        }))
    }

    /// The channel's current version as the server lists it.
    async fn server_version(&mut self, channel_id: i64) -> Result<u32> {
        let info = self.channel_info(channel_id).await?;
        let room = self.client.room(info.room_id).await?;
        let version = room
            .channels
            .iter()
            .find(|c| c.id == channel_id)
            .map_or(0, |c| c.key_version);
        Ok(u32::try_from(version).unwrap_or(0))
    }

    /// Makes version 1 if the channel has no key yet, else fetches and
    /// accepts my copy of the current version.
    async fn obtain_current_key(&mut self, channel_id: i64) -> Result<u32> {
        let current = self.server_version(channel_id).await?;
        if current == 0 {
            self.make_version(channel_id, 1, SharePurpose::Initial, None)
                .await?;
            return Ok(1);
        }
        if self.store.key(channel_id, current).is_none() {
            match self.fetch_key(channel_id, current).await? {
                super::Handled::KeyAccepted { .. } => {}
                super::Handled::Rejected(reason) => {
                    return Err(Error::UnexpectedResponse {
                        status: 200,
                        detail: format!("my copy of version {current} does not verify: {reason}"),
                    });
                }
                _ => {}
            }
        }
        Ok(current)
    }

    /// Encrypts under `version`, advancing (and saving) the send counter
    /// first so a counter is never used twice.
    fn seal_message(&mut self, channel_id: i64, version: u32, text: &str) -> Result<String> {
        let key = self.key_of(channel_id, version)?;
        let stored = self
            .store
            .channel_keys
            .get_mut(&channel_id)
            .and_then(|keys| keys.get_mut(&version))
            .ok_or(Error::NoChannelKey {
                channel_id,
                version,
            })?;
        let mut counter = SendCounter {
            key_obtained_at: stored.obtained_at,
            next_counter: stored.next_counter,
        };
        let this = counter.next(&self.policy, now())?;
        stored.next_counter = counter.next_counter;
        self.save()?;
        let envelope = Envelope::encrypt(
            &self.identity,
            &key,
            channel_id,
            version,
            this,
            text.as_bytes(),
        )?;
        Ok(envelope.to_wire())
    }

    /// A page of history, each message read as [`SecureClient::read`] does.
    pub async fn history(
        &mut self,
        channel_id: i64,
        query: HistoryQuery,
    ) -> Result<Vec<ReadMessage>> {
        let page = self.client.history(channel_id, query).await?;
        let mut out = Vec::with_capacity(page.messages.len());
        for message in page.messages {
            out.push(self.read(message).await?);
        }
        Ok(out)
    }

    /// Decrypts and verifies one message (history, `new_message`, acks).
    pub async fn read(&mut self, message: Message) -> Result<ReadMessage> {
        let body = self.read_body(&message).await?;
        Ok(ReadMessage { message, body })
    }

    async fn read_body(&mut self, message: &Message) -> Result<Body> {
        if message.deleted {
            return Ok(Body::Deleted);
        }
        let info = self.channel_info(message.channel_id).await?;
        if !info.encrypted {
            return Ok(Body::Plain(message.content.clone().unwrap_or_default()));
        }
        let undecryptable = |reason: String| Ok(Body::Undecryptable { reason });
        let envelope = match (&message.envelope, &message.content) {
            (Some(wire), None) => match Envelope::parse(wire) {
                Ok(envelope) => envelope,
                Err(_) => {
                    return Ok(Body::Injected {
                        content: Some(wire.clone()),
                    });
                }
            },
            (_, content) => {
                return Ok(Body::Injected {
                    content: content.clone(),
                });
            }
        };
        let header = *envelope.header();
        let Some(filed) = message.key_version.and_then(|v| u32::try_from(v).ok()) else {
            return undecryptable("the server filed it under no key version".into());
        };
        if message.sender_id != Some(header.sender_id) {
            return undecryptable(format!(
                "the server names sender {:?} but the envelope is signed as {}",
                message.sender_id, header.sender_id
            ));
        }
        if self.store.key(message.channel_id, filed).is_none() {
            let fetched = self.fetch_key(message.channel_id, filed).await;
            if !matches!(fetched, Ok(super::Handled::KeyAccepted { .. })) {
                return undecryptable(format!(
                    "no key for version {filed} (request it: `securechat-cli request-key`)"
                ));
            }
        }
        let key = self.key_of(message.channel_id, filed)?;
        let sender = match self.pinned_bundle(header.sender_id).await {
            Ok(bundle) => bundle,
            Err(error) => return undecryptable(format!("no trusted key for the sender: {error}")),
        };
        let plain = match envelope.decrypt(&key, &sender, message.channel_id, filed) {
            Ok(plain) => plain,
            Err(error) => {
                return undecryptable(format!("does not verify: {error} ({})", error.code()));
            }
        };
        if let Err(error) = self.policy.check_received(header.counter) {
            return undecryptable(format!("{error}"));
        }
        let seen = seen_key(
            header.channel_id,
            header.key_version,
            header.sender_id,
            header.counter,
        );
        match self.store.seen.get(&seen) {
            Some(id) if *id == message.id => {}
            Some(id) => {
                return undecryptable(format!("a replay of message {id}"));
            }
            None => {
                if let Err(error) = self.replay.check_and_record(&header) {
                    return undecryptable(format!("{error}"));
                }
                self.store.seen.insert(seen, message.id);
                self.save()?;
            }
        }
        match String::from_utf8(plain.to_vec()) {
            Ok(text) => Ok(Body::Verified {
                text,
                sender_id: header.sender_id,
            }),
            Err(_) => undecryptable("the plaintext is not UTF-8".into()),
        }
    }
}
