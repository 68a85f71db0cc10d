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
//! Layout (base64url on the wire):
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
use crate::labels::{SIG_MESSAGE, TAG_MESSAGE};

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

/// A parsed (not yet verified) message envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    header: MessageHeader,
    salt: [u8; 16],
    ciphertext: Vec<u8>,
    signature: [u8; 64],
}

impl Envelope {
    /// Encrypts and signs `plaintext` as `sender` under `key`.
    pub fn encrypt(
        sender: &Identity,
        key: &ChannelKey,
        channel_id: i64,
        key_version: u32,
        counter: u32,
        plaintext: &[u8],
    ) -> Result<Self> {
        Self::encrypt_with_rng(
            sender,
            key,
            channel_id,
            key_version,
            counter,
            plaintext,
            &mut rand_core::OsRng,
        )
    }

    /// [`Envelope::encrypt`] with a caller-supplied RNG for the salt.
    /// Only test vectors should pass anything but the OS RNG.
    pub fn encrypt_with_rng(
        sender: &Identity,
        key: &ChannelKey,
        channel_id: i64,
        key_version: u32,
        counter: u32,
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
        let head = header_bytes(&header, &salt);
        let mk = kdf::message_key(key.as_bytes(), &salt, &head)?;
        let ciphertext = kdf::seal(&mk, &head, plaintext, KIND)?;
        let signature = sender.sign(SIG_MESSAGE, &signed_bytes(&head, &ciphertext));
        Ok(Envelope {
            header,
            salt,
            ciphertext,
            signature,
        })
    }

    /// Parses the binary form (structure only).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::open(bytes, TAG_MESSAGE, KIND)?;
        let header = MessageHeader {
            channel_id: r.i64()?,
            key_version: r.u32()?,
            sender_id: r.i64()?,
            counter: r.u32()?,
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
        let mut out = signed_bytes(&header_bytes(&self.header, &self.salt), &self.ciphertext);
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

    /// Verifies the sender's signature only (no key needed). The server uses
    /// this with the sender's stored bundle to refuse forged envelopes.
    pub fn verify_signature(&self, sender: &PublicBundle) -> Result<()> {
        if sender.user_id() != self.header.sender_id {
            return Err(Error::SignerMismatch);
        }
        let head = header_bytes(&self.header, &self.salt);
        sender.verify(
            SIG_MESSAGE,
            &signed_bytes(&head, &self.ciphertext),
            &self.signature,
            KIND,
        )
    }

    /// Checks channel and key version against what the reader expects,
    /// verifies the sender's signature, then decrypts.
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
        let head = header_bytes(&self.header, &self.salt);
        let mk = kdf::message_key(key.as_bytes(), &self.salt, &head)?;
        kdf::open(&mk, &head, &self.ciphertext, KIND)
    }
}

fn header_bytes(h: &MessageHeader, salt: &[u8; 16]) -> Vec<u8> {
    let mut w = Writer::new(TAG_MESSAGE);
    w.i64(h.channel_id)
        .u32(h.key_version)
        .i64(h.sender_id)
        .u32(h.counter)
        .bytes(salt);
    w.finish()
}

fn signed_bytes(head: &[u8], ciphertext: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len() + ciphertext.len() + SIG_LEN);
    out.extend_from_slice(head);
    out.extend_from_slice(ciphertext);
    out
}
