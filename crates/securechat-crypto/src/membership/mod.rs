//! The signed, hash-chained membership log of a room.
//!
//! The server decides nothing about who may receive a channel key: a client
//! hands keys only to members proven by this log (property 4 of the design
//! brief; the fix for the Matrix and WhatsApp "server adds a member" breaks).
//! Each entry is signed by the acting user and carries the hash of the
//! previous entry, so the server can neither invent, drop, reorder nor
//! rewrite entries without the verifier noticing, and a client that pinned a
//! head hash detects a forked history.
//!
//! - [`entry`]: the entry format and its signature.
//! - [`rules`]: who may do what (roles owner/admin/member).
//! - [`log`]: the verifier, which replays a log into the member set.

pub mod entry;
pub mod log;
pub mod rules;

pub use entry::{
    DISAPPEARING_MAX_SECONDS, DISAPPEARING_MIN_SECONDS, EntryFields, MembershipEntry, Op, Role,
};
pub use log::{KeyRing, MembershipLog, RoomState, TimerChange};
pub use rules::Action;

/// Why a membership log (or one entry of it) was rejected. Every variant
/// names the sequence number of the offending entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MembershipError {
    /// The log has no entries.
    #[error("the log is empty")]
    EmptyLog,
    /// The first entry is not `create`, or a `create` appears later.
    #[error("entry {seq}: only the first entry may (and must) be create")]
    NotGenesis {
        /// The offending entry.
        seq: u64,
    },
    /// The entry belongs to another room.
    #[error("entry {seq}: belongs to another room")]
    WrongRoom {
        /// The offending entry.
        seq: u64,
    },
    /// Entries are missing, duplicated or reordered.
    #[error("expected entry {expected}, found entry {found}")]
    OutOfOrder {
        /// The sequence number that should come next.
        expected: u64,
        /// The one that came.
        found: u64,
    },
    /// The entry does not chain onto the known history: it was built on
    /// another branch (the server showed different logs to different people).
    #[error("entry {seq}: forks from the known history")]
    Fork {
        /// The first entry that differs.
        seq: u64,
    },
    /// The entry is already in the log.
    #[error("entry {seq}: already applied")]
    Duplicate {
        /// The duplicated entry.
        seq: u64,
    },
    /// An entry that must be signed carries no signature.
    #[error("entry {seq}: unsigned")]
    Unsigned {
        /// The offending entry.
        seq: u64,
    },
    /// No trusted bundle is known for the actor.
    #[error("entry {seq}: no trusted key for actor {actor_id}")]
    UnknownSigner {
        /// The offending entry.
        seq: u64,
        /// Its claimed actor.
        actor_id: i64,
    },
    /// The signature does not verify under any trusted key of the actor.
    #[error("entry {seq}: bad signature")]
    BadSignature {
        /// The offending entry.
        seq: u64,
    },
    /// The actor is not allowed to perform this operation.
    #[error("entry {seq}: actor {actor_id} is not authorized: {reason}")]
    Unauthorized {
        /// The offending entry.
        seq: u64,
        /// Its actor.
        actor_id: i64,
        /// Which rule forbids it.
        reason: &'static str,
    },
    /// The operation makes no sense in the current state (adding a member
    /// twice, removing a non-member…).
    #[error("entry {seq}: invalid transition: {reason}")]
    InvalidTransition {
        /// The offending entry.
        seq: u64,
        /// What is wrong.
        reason: &'static str,
    },
}

impl MembershipError {
    /// A stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            MembershipError::EmptyLog => "log_empty",
            MembershipError::NotGenesis { .. } => "log_not_genesis",
            MembershipError::WrongRoom { .. } => "log_wrong_room",
            MembershipError::OutOfOrder { .. } => "log_out_of_order",
            MembershipError::Fork { .. } => "log_fork",
            MembershipError::Duplicate { .. } => "log_duplicate",
            MembershipError::Unsigned { .. } => "log_unsigned",
            MembershipError::UnknownSigner { .. } => "log_unknown_signer",
            MembershipError::BadSignature { .. } => "log_bad_signature",
            MembershipError::Unauthorized { .. } => "log_unauthorized",
            MembershipError::InvalidTransition { .. } => "log_invalid_transition",
        }
    }
}
