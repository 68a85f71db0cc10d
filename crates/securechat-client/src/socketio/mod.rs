//! A small websocket-only Socket.IO v5 client (Engine.IO v4 underneath).
//!
//! - `engine`, `packet`: the wire codec, pure and unit-tested;
//! - `options`: where and how to connect;
//! - `connect`: TCP, TLS, websocket upgrade and both handshakes;
//! - `driver`: the one task per connection (heartbeat, acks, events, writes);
//! - `socket`: the [`Socket`] handle (`emit`, `emit_with_ack`, `ack`, `close`);
//! - `event`: the [`EventStream`] of server events and [`DisconnectReason`].
//!
//! Only the default namespace `/` and JSON payloads are supported: binary
//! packets are rejected cleanly and ignored, HTTP long-polling is not
//! implemented (every Securechat deployment accepts websockets).

mod codec_error;
mod connect;
mod driver;
pub mod engine;
mod event;
mod options;
pub mod packet;
mod shared;
mod socket;

pub use codec_error::PacketError;
pub use event::{DisconnectReason, Event, EventStream};
pub use options::SocketOptions;
pub use packet::RawArg;
pub use socket::Socket;
