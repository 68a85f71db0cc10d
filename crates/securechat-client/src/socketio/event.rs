//! What a connection delivers to its reader: server events, in order, and
//! finally why the connection ended.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::{mpsc, watch};

/// An event the server emitted to this socket.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    /// Every argument after the name; Securechat events carry exactly one.
    pub args: Vec<Value>,
    /// Set when the server waits for an answer: reply with
    /// [`Socket::ack`](super::Socket::ack).
    pub ack_id: Option<u64>,
}

static NULL: Value = Value::Null;

impl Event {
    /// The first argument (`null` if there is none): the payload of every
    /// Securechat event.
    pub fn data(&self) -> &Value {
        self.args.first().unwrap_or(&NULL)
    }

    /// The first argument as `T`.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(self.data())
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

    #[test]
    fn data_is_the_first_argument_or_null() {
        let mut event = Event {
            name: "x".into(),
            args: vec![json!({"id": 3}), json!(1)],
            ack_id: None,
        };
        assert_eq!(event.data(), &json!({"id": 3}));
        #[derive(serde::Deserialize)]
        struct Id {
            id: u32,
        }
        assert_eq!(event.parse::<Id>().unwrap().id, 3);
        event.args.clear();
        assert_eq!(event.data(), &Value::Null);
        assert!(event.parse::<Id>().is_err());
    }
}
