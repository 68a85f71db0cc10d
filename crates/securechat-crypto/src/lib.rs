//! Securechat's end-to-end encryption, in one pure-Rust implementation used
//! natively by the server (to check what it stores) and Rust clients, and
//! compiled to WebAssembly for the browser.
//!
//! The crate does no I/O and keeps no global state: callers pass bytes and
//! strings in and get bytes and strings out. Every object is a strictly
//! parsed, versioned binary format that travels as an unpadded base64url
//! string in the seed's REST and Socket.IO fields. The protocol is specified
//! byte by byte in `docs/PROTOCOL.md`.
//!
//! - [`identity`]: a user's secret keys (Ed25519 signing + X25519 agreement).
//! - [`bundle`]: the self-signed public bundle, the seed's `public_key`.
//! - [`device`]: a person's devices, listed and signed by their identity.
//! - [`prekey`]: the rotating, device-signed keys that shares are sealed to.
//! - [`link`]: linking a new device, authenticated by a short string.
//! - [`share`]: a channel key sealed to one member, the seed's `encrypted_key`.
//! - [`message`]: the signed, encrypted channel message envelope.
//! - [`policy`]: the forward-secrecy policy (rotation by count and age).
//! - [`replay`]: detection of messages delivered twice.
//! - [`membership`]: the signed, hash-chained membership log and its verifier.
//! - [`safety`]: 60-digit safety numbers.
//! - [`backup`]: the identity sealed under a recovery passphrase (Argon2id).
//! - [`file`]: chunked encryption of attachments under a random per-file key.
//! - [`labels`], [`encoding`], [`kdf`]: domain separation, wire encoding,
//!   derivations (public so test vectors can pin them).
//! - `wasm` (wasm32 only): the JavaScript API.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod backup;
pub mod bundle;
pub mod channel_key;
pub mod device;
pub mod encoding;
pub mod error;
pub mod file;
pub mod identity;
pub mod kdf;
pub mod labels;
pub mod link;
pub mod membership;
pub mod message;
pub mod policy;
pub mod prekey;
pub mod replay;
pub mod safety;
pub mod share;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use backup::{Backup, BackupParams};
pub use bundle::PublicBundle;
pub use channel_key::ChannelKey;
pub use device::{DeviceEntry, DeviceKey, DeviceList};
pub use error::{ContextField, Error, ObjectKind, Result};
pub use identity::Identity;
pub use link::{LinkEphemeral, LinkOffer, LinkSession};
pub use membership::{
    Action, DISAPPEARING_MAX_SECONDS, DISAPPEARING_MIN_SECONDS, EntryFields, KeyRing,
    MembershipEntry, MembershipError, MembershipLog, Op, Role, RoomState, TimerChange,
};
pub use message::{Envelope, MessageBinding, MessageHeader, MessageKind};
pub use policy::{
    ForwardSecrecyPolicy, RotationReason, SendCounter, counter_device, counter_sequence,
    device_counter,
};
pub use prekey::{PrekeySecret, SignedPrekey};
pub use replay::ReplayGuard;
pub use safety::SafetyNumber;
pub use share::{SealedShare, ShareBinding, ShareContext, SharePurpose};
