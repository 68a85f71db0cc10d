//! What a connection delivers to its reader: server events, in order, and
//! finally why the connection ended.

use std::fmt;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{mpsc, watch};

use super::packet::RawArg;

/// An event the server emitted to this socket.
///
/// Its arguments arrive checked but unparsed: [`Event::parse`] reads the
/// payload straight into a type, [`Event::data`] builds (once) a JSON
/// value, and an event nobody looks into costs no parsing at all.
#[derive(Debug, Clone)]
pub struct Event {
    pub name: String,
    /// Set when the server waits for an answer: reply with
    /// [`Socket::ack`](super::Socket::ack).
    pub ack_id: Option<u64>,
    args: Vec<RawArg>,
    /// The first argument as a value, built on first use.
    data: OnceLock<Value>,
}

impl Event {
    pub(crate) fn new(name: String, args: Vec<RawArg>, ack_id: Option<u64>) -> Self {
        Self {
            name,
            ack_id,
            args,
            data: OnceLock::new(),
        }
    }

    /// Every argument after the name, as JSON text; Securechat events carry
    /// exactly one.
    pub fn args(&self) -> &[RawArg] {
        &self.args
    }

    /// The first argument (`null` if there is none): the payload of every
    /// Securechat event.
    pub fn data(&self) -> &Value {
        self.data.get_or_init(|| {
            self.args
                .first()
                // The text was checked to be JSON when the packet was decoded.
                .and_then(|arg| serde_json::from_str(arg.get()).ok())
                .unwrap_or(Value::Null)
        })
    }

    /// The first argument as `T`, read straight from its text.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        match self.args.first() {
            Some(arg) => serde_json::from_str(arg.get()),
            None => T::deserialize(Value::Null),
        }
    }
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, self.ack_id, &self.args) == (&other.name, other.ack_id, &other.args)
    }
}

/// Why a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// [`Socket::close`](super::Socket::close) was called, or every
    /// `Socket` handle was dropped.
    ClientClosed,
    /// The server disconnected the socket (Socket.IO `DISCONNECT`).
    ServerDisconnected,
    /// The server closed the Engine.IO session.
    EngineClosed,
    /// No ping (nor anything else) arrived within `pingInterval + pingTimeout`:
    /// the server or the network is dead.
    PingTimeout,
    /// The websocket was closed under us.
    TransportClosed,
    /// The websocket failed.
    TransportError(String),
    /// The server sent something this client cannot accept.
    ProtocolError(String),
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ClientClosed => f.write_str("closed by the client"),
            Self::ServerDisconnected => f.write_str("disconnected by the server"),
            Self::EngineClosed => f.write_str("session closed by the server"),
            Self::PingTimeout => f.write_str("no heartbeat from the server (ping timeout)"),
            Self::TransportClosed => f.write_str("connection closed"),
            Self::TransportError(e) => write!(f, "transport error: {e}"),
            Self::ProtocolError(e) => write!(f, "protocol error: {e}"),
        }
    }
}

/// The events of one connection, in the order the server sent them.
///
/// A [`futures_core::Stream`], or call [`EventStream::recv`]. It ends when
/// the connection does; [`EventStream::disconnect_reason`] then says why.
/// Dropping it does not close the connection: later events are discarded.
#[derive(Debug)]
pub struct EventStream {
    events: mpsc::Receiver<Event>,
    state: watch::Receiver<Option<DisconnectReason>>,
}

impl EventStream {
    pub(crate) fn new(
        events: mpsc::Receiver<Event>,
        state: watch::Receiver<Option<DisconnectReason>>,
    ) -> Self {
        Self { events, state }
    }

    /// The next event, or `None` once the connection has ended and every
    /// event received before that has been returned.
    pub async fn recv(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Why the connection ended, once it has.
    pub fn disconnect_reason(&self) -> Option<DisconnectReason> {
        self.state.borrow().clone()
    }
}

impl futures_core::Stream for EventStream {
    type Item = Event;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.events.poll_recv(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decoded(packet: &str) -> Event {
        match super::super::packet::decode(packet).unwrap() {
            super::super::packet::Packet::Event {
                name, args, ack_id, ..
            } => Event::new(name, args, ack_id),
            other => panic!("not an event: {other:?}"),
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Id {
        id: u32,
    }

    #[test]
    fn data_is_the_first_argument_or_null() {
        let event = decoded(r#"2["x",{"id":3},1]"#);
        assert_eq!(event.data(), &json!({"id": 3}));
        assert_eq!(event.parse::<Id>().unwrap().id, 3);
        assert_eq!(event.args().len(), 2);
        assert_eq!(event.args()[1].get(), "1");
        let bare = decoded(r#"2["x"]"#);
        assert_eq!(bare.data(), &Value::Null);
        assert!(bare.parse::<Id>().is_err());
    }

    #[test]
    fn a_payload_of_the_wrong_shape_fails_to_parse_not_to_decode() {
        let event = decoded(r#"2["x",{"id":"three"}]"#);
        assert!(event.parse::<Id>().is_err());
        assert_eq!(event.data(), &json!({"id": "three"}));
    }
}
