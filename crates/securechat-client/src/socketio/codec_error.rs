//! What the packet parsers reject.
//!
//! The parsers have their own small error type rather than the crate's
//! [`Error`](crate::Error): they run on every frame, and a cheap, comparable
//! value is what both the hot path and the tests want.

use thiserror::Error;

/// Why a frame is not a valid Engine.IO v4 / Socket.IO v5 packet.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PacketError {
    #[error("empty packet")]
    Empty,
    #[error("unknown Engine.IO packet type {0:#04x}")]
    UnknownEngineType(u8),
    #[error("unknown Socket.IO packet type {0:#04x}")]
    UnknownType(u8),
    #[error("invalid Engine.IO open packet: {0}")]
    InvalidOpen(String),
    #[error("unexpected data after the packet")]
    TrailingData,
    #[error("namespace not terminated by ','")]
    UnterminatedNamespace,
    #[error("ack id too large")]
    AckIdOverflow,
    #[error("this packet type carries no ack id")]
    UnexpectedAckId,
    #[error("ACK packet without an ack id")]
    MissingAckId,
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("EVENT data must be a JSON array starting with the event name")]
    InvalidEvent,
    #[error("CONNECT data must be a JSON object")]
    InvalidConnect,
    #[error("CONNECT_ERROR data must be an object with a string `message`")]
    InvalidConnectError,
    #[error("binary packets are not supported by this client")]
    Binary {
        /// The ack id of a BINARY_ACK, so the caller waiting for that ack
        /// can be told at once. `None` for a BINARY_EVENT.
        ack_id: Option<u64>,
    },
    #[error("unexpected packet: {0}")]
    Unexpected(&'static str),
    #[error("malformed attachment count in a binary packet")]
    InvalidAttachments,
}
