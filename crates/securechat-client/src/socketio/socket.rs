//! `Socket`: the handle a program holds to emit on a connection.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};

use super::connect::{self, Handshake, frame_text};
use super::driver::{Command, Driver, ack_value};
use super::engine;
use super::event::{DisconnectReason, EventStream};
use super::options::SocketOptions;
use super::packet;
use super::shared::{AckReply, Shared};
use crate::error::{Error, Result};

/// A connected Socket.IO client on the default namespace `/`.
///
/// Cheap to clone; every clone drives the same connection. The connection
/// is served by one background task and closes when [`Socket::close`] is
/// called, when the server ends it, or when the last handle is dropped.
#[derive(Clone)]
pub struct Socket {
    shared: Arc<Shared>,
    commands: mpsc::Sender<Command>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.shared.socket_id)
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl Socket {
    /// Connects, authenticates with the options' auth payload and starts the
    /// connection's task. Fails with [`Error::ConnectRefused`] when the
    /// server answers `CONNECT_ERROR`.
    pub async fn connect(options: SocketOptions) -> Result<(Socket, EventStream)> {
        let Handshake {
            ws,
            open,
            socket_id,
            early,
        } = connect::handshake(&options).await?;
        let (state, state_rx) = watch::channel(None);
        let shared = Arc::new(Shared::new(socket_id, open.sid, open.max_payload, state));
        let (commands, commands_rx) = mpsc::channel(options.command_buffer);
        let (events, events_rx) = mpsc::channel(options.event_buffer);
        let driver = Driver {
            ws,
            shared: Arc::clone(&shared),
            commands: commands_rx,
            events,
            heartbeat: Duration::from_millis(open.ping_interval.saturating_add(open.ping_timeout)),
            early,
        };
        tokio::spawn(driver.run());
        Ok((
            Socket { shared, commands },
            EventStream::new(events_rx, state_rx),
        ))
    }

    /// The Socket.IO socket id the server assigned, if it sent one.
    pub fn id(&self) -> Option<&str> {
        self.shared.socket_id.as_deref()
    }

    /// Whether the connection is still up.
    pub fn is_connected(&self) -> bool {
        self.shared.state.borrow().is_none()
    }

    /// Emits `event` with `data` as its one argument.
    pub async fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<()> {
        let frame = self.encode(|out| packet::write_event(out, event, None, data))?;
        self.send(frame).await
    }

    /// Emits `event` and waits up to `timeout` for the server's ack. Returns
    /// the ack's argument (`null` if none; an array if there are several).
    ///
    /// Fails with [`Error::Timeout`] if no ack comes in time and with
    /// [`Error::Disconnected`] if the connection ends first. Dropping the
    /// future forgets the ack.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<Value> {
        let id = self.shared.next_ack.fetch_add(1, Ordering::Relaxed);
        let frame = self.encode(|out| packet::write_event(out, event, Some(id), data))?;
        let (reply, answer) = oneshot::channel();
        self.shared.pending().insert(id, reply);
        let _forget = ForgetAck {
            shared: &self.shared,
            id,
        };
        let exchange = async {
            self.send(frame).await?;
            match answer.await {
                Ok(AckReply::Args(args)) => Ok(ack_value(args)),
                Ok(AckReply::Binary) => Err(Error::BinaryUnsupported),
                Err(_) => Err(Error::Disconnected(self.shared.reason())),
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| Error::Timeout {
                what: "the ack",
                after: timeout,
            })?
    }

    /// Answers a server event that asked for an ack ([`Event::ack_id`](super::Event::ack_id)).
    pub async fn ack<T: Serialize + ?Sized>(&self, ack_id: u64, data: &T) -> Result<()> {
        let frame = self.encode(|out| packet::write_ack(out, ack_id, data))?;
        self.send(frame).await
    }

    /// Disconnects politely and waits until the connection has ended.
    pub async fn close(&self) -> DisconnectReason {
        // Stored as a permit if the driver is busy: it cannot be missed.
        self.shared.close.notify_one();
        self.closed().await
    }

    /// Waits until the connection ends, and says why.
    pub async fn closed(&self) -> DisconnectReason {
        let mut state = self.shared.state.subscribe();
        match state.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or(DisconnectReason::TransportClosed),
            Err(_) => self.shared.reason(),
        }
    }

    /// One Engine.IO `message` frame, refused locally if the server would
    /// refuse it for its size.
    fn encode(&self, write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>) -> Result<String> {
        let mut frame = Vec::with_capacity(128);
        frame.push(engine::MESSAGE);
        write(&mut frame)?;
        let max = self.shared.max_payload;
        if u64::try_from(frame.len()).is_ok_and(|size| size > max) {
            return Err(Error::PayloadTooLarge {
                size: frame.len(),
                max,
            });
        }
        frame_text(frame)
    }

    async fn send(&self, frame: String) -> Result<()> {
        self.commands
            .send(Command::Send(frame))
            .await
            .map_err(|_| Error::Disconnected(self.shared.reason()))
    }
}

/// Removes an ack from the pending table however `emit_with_ack` ends
/// (answer, timeout, disconnect or the caller dropping the future), so
/// unanswered acks cannot accumulate on a long-lived connection.
struct ForgetAck<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for ForgetAck<'_> {
    fn drop(&mut self) {
        self.shared.pending().remove(&self.id);
    }
}
