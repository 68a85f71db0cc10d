//! The crate's one error type, and the server's own refusals (`ApiError`).
//!
//! Callers mostly match on two things: "the server said no, and why"
//! ([`Error::Api`], with the HTTP status and the stable `code` the server
//! documents) and "the connection is gone" ([`Error::Disconnected`]).
//! Everything else is a transport or protocol failure to report, not to
//! branch on.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use thiserror::Error;

use crate::socketio::{DisconnectReason, PacketError};

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the SDK and the Socket.IO client can fail with.
#[derive(Debug, Error)]
pub enum Error {
    /// The server answered with its error envelope `{success: false, message, code}`.
    #[error(transparent)]
    Api(#[from] ApiError),

    /// The server refused a Socket.IO request in its ack
    /// `{success: false, message, code}` (`channel_not_found`, `rate_limited` …).
    #[error(transparent)]
    Rejected(#[from] Rejection),

    /// A Socket.IO ack that is neither a success nor a documented refusal.
    #[error("unexpected answer to `{event}`: {detail}")]
    UnexpectedAck { event: String, detail: String },

    /// The server answered something that is not the documented envelope.
    #[error("unexpected response from the server (HTTP {status}): {detail}")]
    UnexpectedResponse { status: u16, detail: String },

    /// A call that needs a session was made before `login`.
    #[error("not logged in")]
    NotLoggedIn,

    /// A URL given to the client is unusable.
    #[error("invalid URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// A header given for the websocket upgrade is not valid HTTP.
    #[error("invalid header `{name}`")]
    InvalidHeader { name: String },

    /// HTTP transport failure (connection refused, TLS, timeout …).
    #[error("HTTP request failed: {0}")]
    Http(#[from] reqwest::Error),

    /// WebSocket transport failure. Boxed: the tungstenite error is large
    /// and would otherwise inflate every `Result` on the emit path.
    #[error("websocket: {0}")]
    WebSocket(#[from] Box<tokio_tungstenite::tungstenite::Error>),

    /// The server broke the Engine.IO / Socket.IO protocol.
    #[error("Socket.IO protocol error: {0}")]
    Protocol(#[from] PacketError),

    /// The server refused the Socket.IO connection (`CONNECT_ERROR`),
    /// typically because the token is missing, expired or revoked.
    #[error("the server refused the Socket.IO connection: {message}")]
    ConnectRefused {
        message: String,
        data: Option<Value>,
    },

    /// Nothing came back in time; `what` says what was awaited.
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { what: &'static str, after: Duration },

    /// The Socket.IO connection has ended.
    #[error("disconnected: {0}")]
    Disconnected(DisconnectReason),

    /// An emit larger than the server's `maxPayload`; sending it would only
    /// get the connection closed.
    #[error("packet of {size} bytes exceeds the server's limit of {max} bytes")]
    PayloadTooLarge { size: usize, max: u64 },

    /// The server answered an ack with binary data, which this client does
    /// not support.
    #[error("the server answered with a binary packet, which this client does not support")]
    BinaryUnsupported,

    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),

    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),

    /// A cryptographic check failed (bad signature, wrong context, replay …);
    /// `code()` of the inner error is the protocol's stable code.
    #[error("crypto: {0}")]
    Crypto(#[from] securechat_crypto::Error),

    /// The E2EE core refused (a trust rule, a missing key, a used-up
    /// version …); `code()` is the core's stable code.
    #[error("{0}")]
    Refused(securechat_e2ee::Refusal),

    /// The local key store cannot be read or written.
    #[error("key store {}: {detail}", path.display())]
    KeyStore { path: PathBuf, detail: String },

    /// The server has a key bundle for me but this device has no identity.
    #[error(
        "the server already has a public key for you (fingerprint {fingerprint}) but this device \
         has no identity: restore it from your backup (`securechat-cli keys restore`)"
    )]
    IdentityElsewhere { fingerprint: String },

    /// The room has no membership log yet, and I may not start it: no key
    /// is shared in it until its owner does.
    #[error("room {room_id} has no signed membership log yet; its owner must start it")]
    NoMembershipLog { room_id: i64 },

    /// Someone the server presents as a member is not one in the verified
    /// membership log.
    #[error("user {user_id} is not a member of room {room_id} in its verified membership log")]
    NotVerifiedMember { user_id: i64, room_id: i64 },

    /// I hold no key for this channel version.
    #[error("no key for channel {channel_id} version {version}; request it")]
    NoChannelKey { channel_id: i64, version: u32 },

    /// A request id I have not seen (`channel_key_request` never arrived here).
    #[error("no pending key request {request_id}")]
    UnknownRequest { request_id: i64 },

    /// A backup passphrase refused before anything is sealed: too easy to
    /// guess, or the login password. The message says what to do.
    #[error("{message}")]
    WeakPassphrase {
        /// `weak_passphrase` or `passphrase_is_password`.
        code: &'static str,
        message: String,
    },
}

impl From<securechat_e2ee::Refusal> for Error {
    fn from(refusal: securechat_e2ee::Refusal) -> Self {
        use securechat_e2ee::Refusal as R;
        match refusal {
            R::NoLog { room_id } => Self::NoMembershipLog { room_id },
            R::NotAMember { user_id, room_id } => Self::NotVerifiedMember { user_id, room_id },
            R::NoKey {
                channel_id,
                version,
            } => Self::NoChannelKey {
                channel_id,
                version,
            },
            R::UnknownRequest { request_id } => Self::UnknownRequest { request_id },
            other => Self::Refused(other),
        }
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(error: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::WebSocket(Box::new(error))
    }
}

impl Error {
    /// The server's error code (`invalid_credentials`, `username_taken` …)
    /// when the server refused the request, over HTTP or in a Socket.IO ack.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api(api) => Some(&api.code),
            Self::Rejected(rejection) => Some(&rejection.code),
            Self::Crypto(error) => Some(error.code()),
            Self::Refused(refusal) => Some(refusal.code()),
            Self::WeakPassphrase { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The HTTP status when the server answered at all.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(api) => Some(api.status),
            Self::UnexpectedResponse { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A refusal from the server: its HTTP status, stable `code` and
/// human-readable `message` (which says what to do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// From `Retry-After` on `429 Too Many Requests` (login lockout).
    pub retry_after: Option<Duration>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, HTTP {})", self.message, self.code, self.status)
    }
}

impl std::error::Error for ApiError {}

/// A refusal in a Socket.IO ack: the event, the server's stable `code` and
/// its `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub event: String,
    pub code: String,
    pub message: String,
    /// From `retry_after_ms` on `rate_limited`.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, {})", self.message, self.code, self.event)
    }
}

impl std::error::Error for Rejection {}
