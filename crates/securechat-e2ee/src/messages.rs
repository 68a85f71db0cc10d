//! Messages in encrypted channels: sealing under this device's counter, and
//! reading each message back as exactly one of verified, a warning with its
//! reason, or what is missing to decide (a key, a sender's bundle).
//! Nothing that fails a check is ever shown as an encrypted message.

use securechat_crypto::{Envelope, SendCounter};
use serde::{Deserialize, Serialize};

use crate::error::{Refusal, Result};
use crate::machine::Machine;
use crate::state::seen_key;

/// A message as the server delivers it (history, `new_message`, edits).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MessageFacts {
    /// The server's message id.
    pub id: i64,
    /// The channel it was filed in.
    pub channel_id: i64,
    /// The sender the server names.
    #[serde(default)]
    pub sender_id: Option<i64>,
    /// Plaintext content (plaintext channels only).
    #[serde(default)]
    pub content: Option<String>,
    /// The envelope (encrypted channels).
    #[serde(default)]
    pub envelope: Option<String>,
    /// The key version the server filed it under.
    #[serde(default)]
    pub key_version: Option<i64>,
    /// Deleted by its sender or a moderator.
    #[serde(default)]
    pub deleted: bool,
}

/// How to show a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shown {
    /// Deleted.
    Deleted,
    /// A plaintext channel's text (not end-to-end encrypted, as expected).
    Plain { text: String },
    /// Decrypted and verified: `sender_id` wrote exactly this.
    Verified { text: String, sender_id: i64 },
    /// In an encrypted channel without an envelope: put there by the server
    /// (or a tool writing to its database). Never shown as encrypted.
    Injected { content: Option<String> },
    /// Does not verify; `reason` says why, for the person.
    Warning { code: String, reason: String },
    /// I hold no key for this version: fetch my copy, or request it.
    NeedKey { channel_id: i64, version: u32 },
    /// The sender's bundle is not pinned yet: fetch it, then read again.
    NeedBundle { user_id: i64 },
    /// This device has no identity: restore the backup to read.
    Locked,
}

fn warning(code: &str, reason: impl Into<String>) -> Shown {
    Shown::Warning {
        code: code.to_string(),
        reason: reason.into(),
    }
}

impl Machine {
    /// Seals `text` under `version` of `channel_id` with this device's next
    /// counter, which is advanced (and saved by the shell) first, so a
    /// counter is never used twice. A used-up version is refused with the
    /// crypto crate's `rotation_required`: plan the send again.
    pub fn seal(&mut self, channel_id: i64, version: u32, text: &str, now: u64) -> Result<String> {
        let key = self.channel_key(channel_id, version)?;
        let device = self.state.device;
        let policy = self.policy;
        let stored = self
            .state
            .channel_keys
            .get_mut(&channel_id)
            .and_then(|keys| keys.get_mut(&version))
            .ok_or(Refusal::NoKey {
                channel_id,
                version,
            })?;
        let mut counter = SendCounter {
            key_obtained_at: stored.obtained_at,
            next_counter: stored.next_counter,
            device,
        };
        let this = counter.next(&policy, now)?;
        stored.next_counter = counter.next_counter;
        self.touch();
        let envelope = Envelope::encrypt(
            self.identity()?,
            &key,
            channel_id,
            version,
            this,
            text.as_bytes(),
        )?;
        Ok(envelope.to_wire())
    }

    /// Decides how to show one message. `encrypted` is what the server says
    /// about the channel; a channel this client saw encrypted is read as
    /// encrypted whatever the server says now.
    pub fn read(&mut self, message: &MessageFacts, encrypted: bool) -> Shown {
        if message.deleted {
            return Shown::Deleted;
        }
        let channel_id = message.channel_id;
        if !encrypted && !self.state.encrypted_channels.contains(&channel_id) {
            return Shown::Plain {
                text: message.content.clone().unwrap_or_default(),
            };
        }
        self.note_encrypted(channel_id);
        let Some(wire) = message.envelope.as_deref() else {
            return Shown::Injected {
                content: message.content.clone(),
            };
        };
        let Ok(envelope) = Envelope::parse(wire) else {
            return Shown::Injected {
                content: Some(wire.to_string()),
            };
        };
        if self.identity.is_none() {
            return Shown::Locked;
        }
        let header = *envelope.header();
        let Some(filed) = message.key_version.and_then(|v| u32::try_from(v).ok()) else {
            return warning("no_version", "The server filed it under no key version.");
        };
        if header.channel_id != channel_id
            || Some(header.sender_id) != message.sender_id
            || header.key_version != filed
        {
            return warning(
                "context_mismatch",
                "The encrypted message names another channel, sender or key version than the server claims.",
            );
        }
        if self.policy.check_received(header.counter).is_err() {
            return warning(
                "policy_violation",
                "The sender went past the key's message limit (forward-secrecy policy).",
            );
        }
        let Ok(key) = self.channel_key(channel_id, filed) else {
            return Shown::NeedKey {
                channel_id,
                version: filed,
            };
        };
        let Some(sender) = self.pinned(header.sender_id) else {
            return Shown::NeedBundle {
                user_id: header.sender_id,
            };
        };
        let plain = match envelope.decrypt(&key, &sender, channel_id, filed) {
            Ok(plain) => plain,
            Err(_) => {
                let changed = self
                    .state
                    .pins
                    .get(&header.sender_id)
                    .is_some_and(|p| p.offered.is_some());
                return if changed {
                    warning(
                        "key_changed",
                        "The sender's key changed; this message is signed with the new key, which you have not accepted.",
                    )
                } else {
                    warning(
                        "bad_signature",
                        "Bad signature: this message was not written by the sender the server names, or was altered.",
                    )
                };
            }
        };
        let seen = seen_key(channel_id, filed, header.sender_id, header.counter);
        match self.state.seen.get(&seen) {
            Some(id) if *id != message.id => {
                return warning("replay", "A replay of an earlier message.");
            }
            Some(_) => {}
            None => {
                self.state.seen.insert(seen, message.id);
                self.touch();
            }
        }
        // Each edit is sealed with a later counter: an older envelope of the
        // same message is a rollback.
        match self.latest_counter.get(&message.id) {
            Some(latest) if header.counter < *latest => {
                return warning(
                    "rollback",
                    "An earlier version of this edited message was served again.",
                );
            }
            _ => {
                self.latest_counter.insert(message.id, header.counter);
            }
        }
        match String::from_utf8(plain.to_vec()) {
            Ok(text) => Shown::Verified {
                text,
                sender_id: header.sender_id,
            },
            Err(_) => warning("not_utf8", "The decrypted text is not valid UTF-8."),
        }
    }
}
