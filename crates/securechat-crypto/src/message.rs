//! The channel message envelope: what an encrypted channel's message
//! `content` carries instead of plaintext.
//!
//! Each message gets its own AES-256-GCM key and nonce from
//! `HKDF(salt = random 16 bytes, ikm = channel key, info = label || header)`.
//! A random salt rather than a counter-derived nonce: two browser tabs of the
//! same user, or a client that lost its counter, would otherwise reuse a GCM
//! nonce, which is catastrophic; with a fresh salt a repeated counter is only
//! a replay-detection matter. The header (channel id, key version, sender id,
//! counter, salt) is the associated data, and the sender signs header and
//! ciphertext with its identity key, so members cannot forge each other and
//! the server cannot forge anyone or move a message to another channel or
//! key version.
//!
//! Format 2 also binds the room, what the message is (a new message, an
//! edit of `target_id`, a file note, a channel resource, a reply in the
//! thread whose root is `target_id`, shown in the channel too or not — kinds
//! 5 and 6, added without a new format: older clients refuse them as an
//! unknown kind rather than show them out of their thread), the message it
//! replies to, and a commitment to the channel key (AES-GCM does not commit
//! to its key; with the commitment under the signature an envelope opens
//! under one key only, so a rotator cannot give members different keys that
//! show them different texts for one message):
//! ```text
//! 0x03 0x02 | room_id i64 | channel_id i64 | key_version u32 | sender_id i64
//! | counter u32 | kind u8 | target_id i64 | reply_to i64 | key commitment [32]
//! | salt [16] | AES-GCM ciphertext (plaintext length + 16) | Ed25519 signature [64]
//! ```
//! Format 1 (made before format 2; still read so history stays readable):
//! ```text
//! 0x03 0x01 | channel_id i64 | key_version u32 | sender_id i64 | counter u32
//! | salt [16] | AES-GCM ciphertext (plaintext length + 16) | Ed25519 signature [64]
//! ```

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::bundle::PublicBundle;
use crate::channel_key::ChannelKey;
use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{ContextField, Error, ObjectKind, Result};
use crate::identity::Identity;
use crate::kdf;
use crate::labels::{FORMAT_V1, FORMAT_V2, SIG_MESSAGE, TAG_MESSAGE};

const KIND: ObjectKind = ObjectKind::Message;
/// The largest plaintext an envelope carries (1 MiB); files use [`crate::file`].
pub const MAX_PLAINTEXT: usize = 1 << 20;
const TAG_LEN: usize = 16;
const SIG_LEN: usize = 64;

/// The authenticated metadata of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    /// The channel the message was sent to.
    pub channel_id: i64,
    /// The channel key version it is encrypted under.
    pub key_version: u32,
    /// The sender's user id.
    pub sender_id: i64,
    /// The sender's message counter within this channel and key version,
    /// starting at 0 (see [`crate::policy`]).
    pub counter: u32,
}

/// What a message is (format 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A new chat message.
    Message,
    /// The new text of the message `target_id`.
    Edit,
    /// A file note: the key and name of an encrypted attachment.
    File,
    /// A resource of the channel (title, link, description).
    Resource,
    /// A reply in the thread whose root is `target_id`, not shown in the
    /// channel itself.
    ThreadReply,
    /// A reply in the thread whose root is `target_id`, also shown in the
    /// channel.
    ThreadReplyInChannel,
}

impl MessageKind {
    fn tag(self) -> u8 {
        match self {
            MessageKind::Message => 1,
            MessageKind::Edit => 2,
            MessageKind::File => 3,
            MessageKind::Resource => 4,
            MessageKind::ThreadReply => 5,
            MessageKind::ThreadReplyInChannel => 6,
        }
    }

    /// Whether `target_id` names a message for this kind: the edited
    /// message, or a thread's root. Every other kind has target 0.
    pub fn has_target(self) -> bool {
        matches!(
            self,
            MessageKind::Edit | MessageKind::ThreadReply | MessageKind::ThreadReplyInChannel
        )
    }

    /// For a thread reply: whether it is also shown in the channel.
    pub fn thread(self) -> Option<bool> {
        match self {
            MessageKind::ThreadReply => Some(false),
            MessageKind::ThreadReplyInChannel => Some(true),
            _ => None,
        }
    }

    fn from_tag(tag: u8) -> Option<Self> {
        Some(match tag {
            1 => MessageKind::Message,
            2 => MessageKind::Edit,
            3 => MessageKind::File,
            4 => MessageKind::Resource,
            5 => MessageKind::ThreadReply,
            6 => MessageKind::ThreadReplyInChannel,
            _ => return None,
        })
    }

    /// A stable lower-case name (`message`, `edit`, `file`, `resource`).
    pub fn name(self) -> &'static str {
        match self {
            MessageKind::Message => "message",
            MessageKind::Edit => "edit",
            MessageKind::File => "file",
            MessageKind::Resource => "resource",
            MessageKind::ThreadReply => "thread_reply",
            MessageKind::ThreadReplyInChannel => "thread_reply_in_channel",
        }
    }

    /// Parses [`MessageKind::name`].
    pub fn parse(name: &str) -> Option<Self> {
        [
            MessageKind::Message,
            MessageKind::Edit,
            MessageKind::File,
            MessageKind::Resource,
            MessageKind::ThreadReply,
            MessageKind::ThreadReplyInChannel,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// What a format-2 envelope binds besides the format-1 header, all of it
/// authenticated (associated data and signature).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageBinding {
    /// The room of the channel.
    pub room_id: i64,
    /// What the message is.
    pub kind: MessageKind,
    /// The message an edit replaces, or the root of a thread reply's
    /// thread (0 for any other kind).
    pub target_id: i64,
    /// The message this one replies to (0: none).
    pub reply_to: i64,
}

/// A parsed (not yet verified) message envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    header: MessageHeader,
    /// Format 2: the binding and the key commitment; `None` for format 1.
    bound: Option<(MessageBinding, [u8; 32])>,
    salt: [u8; 16],
    ciphertext: Vec<u8>,
    signature: [u8; 64],
}

impl Envelope {
    /// Encrypts and signs `plaintext` as `sender` under `key` (format 2).
    pub fn encrypt(
        sender: &Identity,
        key: &ChannelKey,
        channel_id: i64,
        key_version: u32,
        counter: u32,
        binding: &MessageBinding,
        plaintext: &[u8],
    ) -> Result<Self> {
        Self::encrypt_with_rng(
            sender,
            key,
            channel_id,
            key_version,
            counter,
            binding,
            plaintext,
            &mut rand_core::OsRng,
        )
    }

    /// [`Envelope::encrypt`] with a caller-supplied RNG for the salt.
    /// Only test vectors should pass anything but the OS RNG.
    #[allow(clippy::too_many_arguments)]
    pub fn encrypt_with_rng(
        sender: &Identity,
        key: &ChannelKey,
        channel_id: i64,
        key_version: u32,
        counter: u32,
        binding: &MessageBinding,
        plaintext: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        if !binding.kind.has_target() && binding.target_id != 0 {
            return Err(Error::InvalidField {
                object: KIND,
                reason: "only an edit or a thread reply has a target",
            });
        }
        if binding.kind.thread().is_some() && binding.target_id <= 0 {
            return Err(Error::InvalidField {
                object: KIND,
                reason: "a thread reply names its thread's root",
            });
        }
        let commitment = key.commitment(binding.room_id, channel_id, key_version);
        Self::seal(
            sender,
            key,
            channel_id,
            key_version,
            counter,
            Some((*binding, commitment)),
            plaintext,
            rng,
        )
    }

    /// A format-1 envelope, as clients made them before format 2. Clients
    /// no longer make these; tests use them to build the history an upgrade
    /// starts from.
    pub fn encrypt_format1(
        sender: &Identity,
        key: &ChannelKey,
        channel_id: i64,
        key_version: u32,
        counter: u32,
        plaintext: &[u8],
    ) -> Result<Self> {
        Self::encrypt_format1_with_rng(
            sender,
            key,
            channel_id,
            key_version,
            counter,
            plaintext,
            &mut rand_core::OsRng,
        )
    }

    /// [`Envelope::encrypt_format1`] with a caller-supplied RNG.
    pub fn encrypt_format1_with_rng(
        sender: &Identity,
        key: &ChannelKey,
        channel_id: i64,
        key_version: u32,
        counter: u32,
        plaintext: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        Self::seal(
            sender,
            key,
            channel_id,
            key_version,
            counter,
            None,
            plaintext,
            rng,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn seal(
        sender: &Identity,
        key: &ChannelKey,
        channel_id: i64,
        key_version: u32,
        counter: u32,
        bound: Option<(MessageBinding, [u8; 32])>,
        plaintext: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        if plaintext.len() > MAX_PLAINTEXT {
            return Err(Error::TooLarge(KIND));
        }
        let header = MessageHeader {
            channel_id,
            key_version,
            sender_id: sender.user_id(),
            counter,
        };
        let mut salt = [0u8; 16];
        rng.try_fill_bytes(&mut salt).map_err(|_| Error::Rng)?;
        let head = header_bytes(&header, bound.as_ref(), &salt);
        let mk = kdf::message_key(key.as_bytes(), &salt, &head)?;
        let ciphertext = kdf::seal(&mk, &head, plaintext, KIND)?;
        let signature = sender.sign(SIG_MESSAGE, &signed_bytes(&head, &ciphertext));
        Ok(Envelope {
            header,
            bound,
            salt,
            ciphertext,
            signature,
        })
    }

    /// Parses the binary form (structure only).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (mut r, format) =
            Reader::open_versions(bytes, TAG_MESSAGE, KIND, &[FORMAT_V1, FORMAT_V2])?;
        let room_id = if format == FORMAT_V2 { r.i64()? } else { 0 };
        let header = MessageHeader {
            channel_id: r.i64()?,
            key_version: r.u32()?,
            sender_id: r.i64()?,
            counter: r.u32()?,
        };
        let bound = if format == FORMAT_V2 {
            let kind = MessageKind::from_tag(r.u8()?).ok_or(r.invalid("unknown message kind"))?;
            let target_id = r.i64()?;
            if !kind.has_target() && target_id != 0 {
                return Err(r.invalid("only an edit or a thread reply has a target"));
            }
            if kind.thread().is_some() && target_id <= 0 {
                return Err(r.invalid("a thread reply names its thread's root"));
            }
            let reply_to = r.i64()?;
            let commitment = r.array()?;
            Some((
                MessageBinding {
                    room_id,
                    kind,
                    target_id,
                    reply_to,
                },
                commitment,
            ))
        } else {
            None
        };
        let salt = r.array()?;
        let body_len = r
            .remaining()
            .checked_sub(SIG_LEN)
            .ok_or(Error::Truncated(KIND))?;
        if body_len < TAG_LEN {
            return Err(Error::Truncated(KIND));
        }
        if body_len > MAX_PLAINTEXT + TAG_LEN {
            return Err(Error::TooLarge(KIND));
        }
        let ciphertext = r.take(body_len)?.to_vec();
        let signature = r.array()?;
        r.finish()?;
        Ok(Envelope {
            header,
            bound,
            salt,
            ciphertext,
            signature,
        })
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Result<Self> {
        Self::from_bytes(&from_wire(s)?)
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = signed_bytes(&self.head(), &self.ciphertext);
        out.extend_from_slice(&self.signature);
        out
    }

    /// The wire string.
    pub fn to_wire(&self) -> String {
        to_wire(&self.to_bytes())
    }

    /// The claimed header. Unauthenticated until [`Envelope::decrypt`]
    /// succeeds; use it to pick the key version and the sender's bundle.
    pub fn header(&self) -> &MessageHeader {
        &self.header
    }

    /// The format: 1 or 2.
    pub fn format(&self) -> u8 {
        if self.bound.is_some() {
            FORMAT_V2
        } else {
            FORMAT_V1
        }
    }

    /// What a format-2 envelope binds besides the header. Unauthenticated
    /// until [`Envelope::decrypt`] succeeds.
    pub fn binding(&self) -> Option<&MessageBinding> {
        self.bound.as_ref().map(|(binding, _)| binding)
    }

    fn head(&self) -> Vec<u8> {
        header_bytes(&self.header, self.bound.as_ref(), &self.salt)
    }

    /// Verifies the sender's signature only (no key needed). The server uses
    /// this with the sender's stored bundle to refuse forged envelopes.
    pub fn verify_signature(&self, sender: &PublicBundle) -> Result<()> {
        if sender.user_id() != self.header.sender_id {
            return Err(Error::SignerMismatch);
        }
        let head = self.head();
        sender.verify(
            SIG_MESSAGE,
            &signed_bytes(&head, &self.ciphertext),
            &self.signature,
            KIND,
        )
    }

    /// Checks channel and key version against what the reader expects,
    /// verifies the sender's signature, checks a format-2 envelope's
    /// commitment against `key` (`context_mismatch key_commitment`: it was
    /// made under another key for this version), then decrypts.
    pub fn decrypt(
        &self,
        key: &ChannelKey,
        sender: &PublicBundle,
        channel_id: i64,
        key_version: u32,
    ) -> Result<Zeroizing<Vec<u8>>> {
        if self.header.channel_id != channel_id {
            return Err(Error::ContextMismatch {
                field: ContextField::ChannelId,
            });
        }
        if self.header.key_version != key_version {
            return Err(Error::ContextMismatch {
                field: ContextField::KeyVersion,
            });
        }
        self.verify_signature(sender)?;
        if let Some((binding, commitment)) = &self.bound
            && key.commitment(binding.room_id, channel_id, key_version) != *commitment
        {
            return Err(Error::ContextMismatch {
                field: ContextField::KeyCommitment,
            });
        }
        let head = self.head();
        let mk = kdf::message_key(key.as_bytes(), &self.salt, &head)?;
        kdf::open(&mk, &head, &self.ciphertext, KIND)
    }
}

fn header_bytes(
    h: &MessageHeader,
    bound: Option<&(MessageBinding, [u8; 32])>,
    salt: &[u8; 16],
) -> Vec<u8> {
    let Some((b, commitment)) = bound else {
        let mut w = Writer::new(TAG_MESSAGE);
        w.i64(h.channel_id)
            .u32(h.key_version)
            .i64(h.sender_id)
            .u32(h.counter)
            .bytes(salt);
        return w.finish();
    };
    let mut w = Writer::with_version(TAG_MESSAGE, FORMAT_V2);
    w.i64(b.room_id)
        .i64(h.channel_id)
        .u32(h.key_version)
        .i64(h.sender_id)
        .u32(h.counter)
        .u8(b.kind.tag())
        .i64(b.target_id)
        .i64(b.reply_to)
        .bytes(commitment)
        .bytes(salt);
    w.finish()
}

fn signed_bytes(head: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + ciphertext.len() + SIG_LEN);
    out.extend_from_slice(head);
    out.extend_from_slice(ciphertext);
    out
}
