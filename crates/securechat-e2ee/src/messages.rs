//! Messages in encrypted channels: sealing under this device's counter, and
//! reading each message back as exactly one of verified, a warning with its
//! reason, or what is missing to decide (a key, a sender's bundle).
//! Nothing that fails a check is ever shown as an encrypted message.

use securechat_crypto::{Envelope, MessageBinding, MessageKind, SendCounter};
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
    /// The message the server shows it replying to.
    #[serde(default)]
    pub reply_to: Option<i64>,
    /// The server shows it as a resource of the channel, not a message.
    #[serde(default)]
    pub resource: bool,
    /// The thread the server shows it replying in.
    #[serde(default)]
    pub thread_root_id: Option<i64>,
    /// The server shows the thread reply in the channel too.
    #[serde(default)]
    pub also_send_to_channel: bool,
}

/// What the sender says a sealed message is, beyond its text.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SealAs {
    /// `message` (default), `edit`, `file`, `resource`, `thread_reply` or
    /// `thread_reply_in_channel`.
    #[serde(default)]
    pub kind: Option<String>,
    /// The message an edit replaces, or a thread reply's root.
    #[serde(default)]
    pub target_id: Option<i64>,
    /// The message this one replies to.
    #[serde(default)]
    pub reply_to: Option<i64>,
}

/// How to show a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shown {
    /// Deleted.
    Deleted,
    /// A plaintext channel's text (not end-to-end encrypted, as expected).
    Plain { text: String },
    /// Decrypted and verified: `sender_id` wrote exactly this, as `what`
    /// (`message`, `edit`, `file`, `resource`; `None` for an envelope of
    /// format 1, which does not say), replying to `reply_to`.
    Verified {
        text: String,
        sender_id: i64,
        what: Option<String>,
        reply_to: Option<i64>,
    },
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
    /// `what` says what the message is (a new message by default); it is
    /// bound into the envelope with the channel's room.
    pub fn seal(
        &mut self,
        channel_id: i64,
        version: u32,
        text: &str,
        what: &SealAs,
        now: u64,
    ) -> Result<String> {
        let kind = match what.kind.as_deref() {
            None => MessageKind::Message,
            Some(name) => MessageKind::parse(name)
                .ok_or_else(|| Refusal::BadInput(format!("unknown message kind {name}")))?,
        };
        let room_id = *self.state.channel_rooms.get(&channel_id).ok_or_else(|| {
            Refusal::BadInput("plan the send first: the channel's room is not known".into())
        })?;
        let binding = MessageBinding {
            room_id,
            kind,
            target_id: if kind.has_target() {
                what.target_id.ok_or_else(|| {
                    Refusal::BadInput(
                        "an edit names the message it edits, a thread reply its thread's root"
                            .into(),
                    )
                })?
            } else {
                0
            },
            reply_to: what.reply_to.unwrap_or(0),
        };
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
            &binding,
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
        let format2_key = self
            .state
            .key(channel_id, filed)
            .is_some_and(|k| k.made_at.is_some());
        match envelope.binding() {
            None if format2_key => {
                return warning(
                    "old_format",
                    "An envelope of the format from before version 2 under a key made since: no current client writes it.",
                );
            }
            None => {}
            Some(b) => {
                if let Some(shown) = self.check_binding(message, b) {
                    return shown;
                }
            }
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
        // The version was made for the members at one log entry: anyone
        // else writing under it got the key by some other way.
        let made_for = self
            .state
            .key(channel_id, filed)
            .map(|k| &k.members)
            .filter(|m| !m.is_empty());
        if made_for.is_some_and(|m| !m.contains(&header.sender_id)) {
            return warning(
                "not_a_member_then",
                "The sender was not a member of the room when this key version was made.",
            );
        }
        let Some(sender) = self.pinned(header.sender_id) else {
            return Shown::NeedBundle {
                user_id: header.sender_id,
            };
        };
        let plain = match envelope.decrypt(&key, &sender, channel_id, filed) {
            Ok(plain) => plain,
            Err(securechat_crypto::Error::ContextMismatch {
                field: securechat_crypto::ContextField::KeyCommitment,
            }) => {
                return warning(
                    "key_mismatch",
                    "This message was encrypted under another key for this version than the one you were given: whoever made the version gave members different keys.",
                );
            }
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
        match self.state.latest_edits.get(&message.id) {
            Some(latest) if header.counter < *latest => {
                return warning(
                    "rollback",
                    "An earlier version of this edited message was served again.",
                );
            }
            Some(latest) if header.counter == *latest => {}
            _ => {
                self.state.latest_edits.insert(message.id, header.counter);
                self.touch();
            }
        }
        let binding = envelope.binding();
        match String::from_utf8(plain.to_vec()) {
            Ok(text) => Shown::Verified {
                text,
                sender_id: header.sender_id,
                what: binding.map(|b| b.kind.name().to_string()),
                reply_to: binding.map(|b| b.reply_to).filter(|r| *r != 0),
            },
            Err(_) => warning("not_utf8", "The decrypted text is not valid UTF-8."),
        }
    }
}

impl Machine {
    /// Checks what a format-2 envelope binds against what the server shows:
    /// the channel's room, a message versus a resource, an edit's target,
    /// the message replied to. `None` when all agree.
    fn check_binding(&mut self, message: &MessageFacts, b: &MessageBinding) -> Option<Shown> {
        let room = self.state.channel_rooms.get(&message.channel_id).copied();
        match room {
            Some(room) if room != b.room_id => {
                return Some(warning(
                    "wrong_room",
                    "The encrypted message was written in another room than the one this channel is in.",
                ));
            }
            Some(_) => {}
            None => {
                self.state
                    .channel_rooms
                    .insert(message.channel_id, b.room_id);
                self.touch();
            }
        }
        if message.resource != (b.kind == MessageKind::Resource) {
            return Some(warning(
                "wrong_kind",
                "The server shows this as something else than its sender wrote (a message as a resource, or a resource as a message).",
            ));
        }
        if b.kind == MessageKind::Edit && b.target_id != message.id {
            return Some(warning(
                "misplaced_edit",
                "The server shows the edit of another message here.",
            ));
        }
        if let Some(shown) = check_thread(message, b) {
            return Some(shown);
        }
        if b.reply_to != message.reply_to.unwrap_or(0) {
            return Some(warning(
                "reply_mismatch",
                "The server shows this message replying to another message than its sender chose.",
            ));
        }
        None
    }
}

/// The thread rule: a thread reply is shown in the thread its sender
/// chose, in the channel too exactly when its sender said so, and a message
/// or file note is never shown inside a thread. An edit carries no thread
/// of its own (its target's first envelope bound it). `None` when the
/// server's placement agrees.
fn check_thread(message: &MessageFacts, b: &MessageBinding) -> Option<Shown> {
    let agrees = match b.kind.thread() {
        Some(in_channel) => {
            message.thread_root_id == Some(b.target_id)
                && message.also_send_to_channel == in_channel
        }
        None if b.kind == MessageKind::Edit => true,
        None => message.thread_root_id.is_none() && !message.also_send_to_channel,
    };
    (!agrees).then(|| {
        warning(
            "wrong_thread",
            "The server shows this message in another place than its sender wrote it: in another thread, out of its thread, or in the channel when it was a thread reply (or the reverse).",
        )
    })
}
