//! The one task that owns a connection's websocket.
//!
//! It reads frames (answering pings, resolving acks, forwarding events),
//! writes what the [`Socket`](super::Socket) handles queue (batching
//! whatever is already queued into one flush), and watches the heartbeat:
//! if nothing arrives within `pingInterval + pingTimeout`, the server is
//! considered dead. One task per connection and no per-frame allocation
//! beyond the decoded JSON is what lets a load generator hold thousands.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message};

use super::codec_error::PacketError;
use super::connect::WsStream;
use super::engine::{self, EnginePacket};
use super::event::{DisconnectReason, Event};
use super::packet::{self, DEFAULT_NAMESPACE, Packet};
use super::shared::{AckReply, Shared};

/// How many queued frames one flush may carry.
const MAX_BATCH: usize = 64;

/// How long a polite close waits for the server's closing frame.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Engine.IO `message` carrying Socket.IO `DISCONNECT` for `/`.
const DISCONNECT_FRAME: &str = "41";

/// What a handle asks the driver to do.
pub(crate) enum Command {
    /// Send one encoded Engine.IO frame.
    Send(String),
}

pub(crate) struct Driver {
    pub ws: WsStream,
    pub shared: Arc<Shared>,
    pub commands: mpsc::Receiver<Command>,
    pub events: mpsc::Sender<Event>,
    /// `pingInterval + pingTimeout`.
    pub heartbeat: Duration,
    /// Packets that overtook the `CONNECT` answer, handled first.
    pub early: Vec<String>,
}

impl Driver {
    /// Serves the connection until it ends, then records why and releases
    /// everyone waiting on it.
    pub async fn run(mut self) {
        let reason = self.serve().await;
        tracing::debug!(sid = %self.shared.engine_sid, %reason, "Socket.IO connection ended");
        self.shared.state.send_replace(Some(reason));
        // Refuse new commands before failing pending acks, so an ack
        // registered concurrently either sees the closed queue or is failed
        // here: none can wait for its full timeout on a dead connection.
        self.commands.close();
        self.shared.pending().clear();
    }

    async fn serve(&mut self) -> DisconnectReason {
        for data in std::mem::take(&mut self.early) {
            if let Some(reason) = self.on_packet(&data).await {
                return reason;
            }
        }
        let deadline = tokio::time::sleep(self.heartbeat);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                frame = self.ws.next() => {
                    deadline.as_mut().reset(Instant::now() + self.heartbeat);
                    if let Some(reason) = self.on_frame(frame).await {
                        return reason;
                    }
                }
                command = self.commands.recv() => {
                    if let Some(reason) = self.on_command(command).await {
                        return reason;
                    }
                }
                () = self.shared.close.notified() => return self.close().await,
                () = &mut deadline => return DisconnectReason::PingTimeout,
            }
        }
    }

    async fn on_frame(
        &mut self,
        frame: Option<Result<Message, tungstenite::Error>>,
    ) -> Option<DisconnectReason> {
        match frame {
            Some(Ok(Message::Text(text))) => self.on_text(&text).await,
            Some(Ok(Message::Binary(_))) => {
                tracing::debug!("binary frame ignored (binary packets are not supported)");
                None
            }
            Some(Ok(Message::Close(_))) | None => Some(DisconnectReason::TransportClosed),
            Some(Ok(_)) => None,
            Some(Err(error)) => Some(DisconnectReason::TransportError(error.to_string())),
        }
    }

    async fn on_text(&mut self, text: &str) -> Option<DisconnectReason> {
        let packet = match engine::decode(text) {
            Ok(packet) => packet,
            Err(error) => return Some(self.protocol_error(&error).await),
        };
        match packet {
            EnginePacket::Ping(data) => {
                let pong = engine::pong(data);
                self.ws
                    .send(Message::text(pong))
                    .await
                    .err()
                    .map(|e| DisconnectReason::TransportError(e.to_string()))
            }
            EnginePacket::Pong(_) | EnginePacket::Noop => None,
            EnginePacket::Close => {
                self.shutdown(false).await;
                Some(DisconnectReason::EngineClosed)
            }
            EnginePacket::Open(_) | EnginePacket::Upgrade => Some(
                self.protocol_error(&PacketError::Unexpected(
                    "handshake packet after the handshake",
                ))
                .await,
            ),
            EnginePacket::Message(data) => self.on_packet(data).await,
        }
    }

    async fn on_packet(&mut self, data: &str) -> Option<DisconnectReason> {
        let packet = match packet::decode(data) {
            Ok(packet) => packet,
            Err(PacketError::Binary { ack_id }) => {
                tracing::debug!("binary packet ignored");
                if let Some(id) = ack_id {
                    self.resolve_ack(id, AckReply::Binary);
                }
                return None;
            }
            Err(error) => return Some(self.protocol_error(&error).await),
        };
        if packet.namespace() != DEFAULT_NAMESPACE {
            tracing::debug!(
                namespace = packet.namespace(),
                "packet for another namespace ignored"
            );
            return None;
        }
        match packet {
            Packet::Event {
                ack_id, name, args, ..
            } => {
                let event = Event::new(name, args, ack_id);
                let shared = Arc::clone(&self.shared);
                tokio::select! {
                    // A reader that dropped its stream no longer wants
                    // events; the connection stays up for emitting.
                    _ = self.events.send(event) => None,
                    () = shared.close.notified() => Some(self.close().await),
                }
            }
            Packet::Ack { ack_id, args, .. } => {
                self.resolve_ack(ack_id, AckReply::Args(args));
                None
            }
            Packet::Disconnect { .. } => {
                self.shutdown(false).await;
                Some(DisconnectReason::ServerDisconnected)
            }
            Packet::Connect { .. } => {
                tracing::debug!("repeated CONNECT ignored");
                None
            }
            Packet::ConnectError { .. } => Some(
                self.protocol_error(&PacketError::Unexpected(
                    "CONNECT_ERROR on an open connection",
                ))
                .await,
            ),
        }
    }

    fn resolve_ack(&self, id: u64, reply: AckReply) {
        match self.shared.pending().remove(&id) {
            // The caller may have given up (timeout) in the meantime.
            Some(waiter) => {
                let _ = waiter.send(reply);
            }
            None => tracing::debug!(id, "ack for no pending emit ignored"),
        }
    }

    async fn on_command(&mut self, command: Option<Command>) -> Option<DisconnectReason> {
        let mut next = command;
        let mut batched = 0;
        loop {
            match next {
                Some(Command::Send(frame)) => {
                    if let Err(error) = self.ws.feed(Message::text(frame)).await {
                        return Some(DisconnectReason::TransportError(error.to_string()));
                    }
                    batched += 1;
                }
                // Every handle is gone.
                None => return Some(self.close().await),
            }
            if batched >= MAX_BATCH {
                break;
            }
            match self.commands.try_recv() {
                Ok(command) => next = Some(command),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => next = None,
            }
        }
        self.ws
            .flush()
            .await
            .err()
            .map(|e| DisconnectReason::TransportError(e.to_string()))
    }

    async fn close(&mut self) -> DisconnectReason {
        self.shutdown(true).await;
        DisconnectReason::ClientClosed
    }

    async fn protocol_error(&mut self, error: &PacketError) -> DisconnectReason {
        tracing::warn!(%error, "Socket.IO protocol error; closing the connection");
        self.shutdown(false).await;
        DisconnectReason::ProtocolError(error.to_string())
    }

    /// Closes politely: Socket.IO `DISCONNECT` if we are the one leaving,
    /// then the websocket closing handshake, bounded by [`CLOSE_GRACE`].
    async fn shutdown(&mut self, send_disconnect: bool) {
        let polite = async {
            if send_disconnect {
                self.ws.send(Message::text(DISCONNECT_FRAME)).await?;
            }
            self.ws.close(None).await?;
            while let Some(frame) = self.ws.next().await {
                frame?;
            }
            Ok::<(), tungstenite::Error>(())
        };
        match tokio::time::timeout(CLOSE_GRACE, polite).await {
            Ok(Ok(())) | Err(_) => {}
            Ok(Err(error)) => tracing::debug!(%error, "error while closing the websocket"),
        }
    }
}

/// The value `emit_with_ack` returns: the single argument Securechat acks
/// carry, `null` for none, or every argument as an array when there are
/// several.
pub(crate) fn ack_value(mut args: Vec<Value>) -> Value {
    match args.len() {
        0 => Value::Null,
        1 => args.pop().unwrap_or(Value::Null),
        _ => Value::Array(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_disconnect_frame_is_what_the_codec_writes() {
        let mut frame = vec![engine::MESSAGE];
        packet::write_disconnect(&mut frame);
        assert_eq!(frame, DISCONNECT_FRAME.as_bytes());
    }

    #[test]
    fn ack_values() {
        assert_eq!(ack_value(vec![]), Value::Null);
        assert_eq!(
            ack_value(vec![json!({"success": true})]),
            json!({"success": true})
        );
        assert_eq!(ack_value(vec![json!(1), json!(2)]), json!([1, 2]));
    }
}
