//! Securechat's end-to-end encryption client core.
//!
//! A sans-I/O state machine, in the manner of matrix-sdk-crypto's
//! `OlmMachine`: [`Machine`] takes what the server said (bundles and key
//! histories, membership-log entries, room and channel facts, key shares,
//! key requests, message envelopes) and answers with decisions (accept,
//! refuse and why, what to show) and with what to send (shares to post, log
//! entries to post, envelopes) or fetch first. It never touches the network
//! or storage, and takes the time as an argument.
//!
//! This crate is the only place where the client's trust rules live. The
//! Rust SDK (`securechat-client`) calls it natively; the browser calls the
//! same code compiled to WebAssembly (`wasm.rs`, through [`call`]).
//!
//! Modules:
//! - `state.rs`: the [`State`] document a client keeps, and [`StateStore`];
//! - `machine.rs`: the machine, my identity, pinning (TOFU), key changes
//!   and safety numbers;
//! - `backup.rs`: the key backup (recovery key or passphrase) of my
//!   identity, pins, log heads and channel keys, kept up to date, and its
//!   merging restore;
//! - `history.rs`: the channel keys a link or a backup carries to another
//!   device, and how they merge;
//! - `disappearing.rs`: disappearing messages — each encrypted channel's
//!   timer from the signed log, and when a message disappears (the server
//!   may only make it sooner);
//! - `log.rs`: verifying, starting and extending the membership log;
//! - `devices.rs`: this device's keys and prekeys, and verifying other
//!   people's device lists and prekeys;
//! - `link.rs`: linking a new device (offer, short authentication string,
//!   the payload that carries the identity, pins, log heads and chosen keys);
//! - `keys.rs`: send planning (rotation when a version is used up), making
//!   versions, accepting shares, key requests;
//! - `messages.rs`: sealing and reading messages;
//! - `mention.rs`: whether a message mentions me, a channel-wide mention
//!   counted only from someone the verified log lets use one;
//! - `outbox.rs`: the outbox of encrypted channels, sealed in the state;
//! - `retention.rs`: deleting channel keys past the retention a client
//!   states;
//! - `call.rs`: the same operations by name with JSON in and out (the
//!   WebAssembly boundary and the lying-server scenarios);
//! - `search.rs`: the search rules of `securechat-search` in the page's
//!   shapes, exported to the browser next to the machine, so its local
//!   search of encrypted channels runs the server's rules.

mod backup;
mod call;
mod devices;
mod disappearing;
mod error;
mod history;
mod keys;
mod link;
mod log;
mod machine;
mod mention;
mod messages;
mod outbox;
mod retention;
#[cfg(any(target_arch = "wasm32", test))]
mod search;
mod state;
#[cfg(target_arch = "wasm32")]
mod wasm;

pub use backup::{Restored, SealedBackup, backup_kind};
pub use call::call;
pub use devices::{DeviceListView, DeviceSetup};
pub use disappearing::TimerView;
pub use error::{Refusal, Result};
pub use keys::{
    Approved, ChannelFacts, NewVersion, OutShare, SendPlan, ShareFacts, ShareOutcome, Skipped,
};
pub use log::{LogView, MemberFact, RoomFacts};
pub use machine::{Machine, Observed, SafetyInfo, fingerprint};
pub use mention::Mention;
pub use messages::{MessageFacts, SealAs, Shown};
pub use retention::{DEFAULT_KEY_RETENTION_DAYS, MIN_KEY_RETENTION_DAYS};
pub use state::{
    FORMAT, KeyRequest, LogPin, LogRoles, PendingLink, Pin, State, StoredKey, seen_key,
};

/// Where a shell keeps the [`State`] document: a private file for the SDK
/// and the CLI, IndexedDB in the browser (the TypeScript glue implements
/// the same two operations). Save after every call that left the machine
/// dirty ([`Machine::take_dirty`]).
pub trait StateStore {
    /// The error of this store.
    type Error;
    /// The saved document, if any.
    fn load(&self) -> std::result::Result<Option<State>, Self::Error>;
    /// Replaces the saved document (atomically).
    fn save(&self, state: &State) -> std::result::Result<(), Self::Error>;
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 64 hex digits as 32 bytes.
pub(crate) fn unhex32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}
