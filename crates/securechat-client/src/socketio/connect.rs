//! Opening a connection: TCP (optionally from a chosen local address),
//! TLS, the websocket upgrade, Engine.IO's `open` and Socket.IO's
//! `CONNECT` with the auth payload, all under one timeout.

use std::io;
use std::net::SocketAddr;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use url::Host;

use super::codec_error::PacketError;
use super::engine::{self, EnginePacket, OpenInfo};
use super::event::DisconnectReason;
use super::options::SocketOptions;
use super::packet::{self, DEFAULT_NAMESPACE, Packet};
use crate::error::{Error, Result};

pub(crate) type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A connection that has completed every handshake.
pub(crate) struct Handshake {
    pub ws: WsStream,
    pub open: OpenInfo,
    /// The Socket.IO socket id from the server's `CONNECT`.
    pub socket_id: Option<String>,
    /// Socket.IO packets that arrived before the `CONNECT` answer (a server
    /// may put the socket in its rooms first, so a broadcast can overtake
    /// the answer); delivered first, in order, as the official client does.
    pub early: Vec<String>,
}

/// Packets kept while waiting for the `CONNECT` answer; more is an error.
const MAX_EARLY: usize = 1024;

/// Connects and completes the handshakes within `options.connect_timeout`.
pub(crate) async fn handshake(options: &SocketOptions) -> Result<Handshake> {
    let after = options.connect_timeout;
    tokio::time::timeout(after, run(options))
        .await
        .map_err(|_| Error::Timeout {
            what: "the Socket.IO handshake",
            after,
        })?
}

async fn run(options: &SocketOptions) -> Result<Handshake> {
    let mut request = options.url.as_str().into_client_request()?;
    for (name, value) in &options.headers {
        request.headers_mut().append(name.clone(), value.clone());
    }
    let tcp = dial(options).await?;
    let connector = options.tls.clone().map(Connector::Rustls);
    let (mut ws, _response) = tokio_tungstenite::client_async_tls_with_config(
        request,
        tcp,
        Some(options.websocket),
        connector,
    )
    .await?;

    let open = loop {
        match engine::decode(&next_text(&mut ws).await?)? {
            EnginePacket::Open(info) => break info,
            EnginePacket::Noop => {}
            _ => return Err(PacketError::Unexpected("expected the Engine.IO open packet").into()),
        }
    };

    let mut frame = vec![engine::MESSAGE];
    packet::write_connect(&mut frame, options.auth.as_ref())?;
    ws.send(Message::text(frame_text(frame)?)).await?;

    let mut early = Vec::new();
    loop {
        let text = next_text(&mut ws).await?;
        match engine::decode(&text)? {
            EnginePacket::Ping(data) => ws.send(Message::text(engine::pong(data))).await?,
            EnginePacket::Pong(_) | EnginePacket::Noop => {}
            EnginePacket::Close => return Err(Error::Disconnected(DisconnectReason::EngineClosed)),
            EnginePacket::Open(_) | EnginePacket::Upgrade => {
                return Err(PacketError::Unexpected("a second handshake packet").into());
            }
            EnginePacket::Message(data) => match packet::decode(data)? {
                packet if packet.namespace() != DEFAULT_NAMESPACE => {
                    tracing::debug!(
                        namespace = packet.namespace(),
                        "packet for another namespace ignored"
                    );
                }
                Packet::Connect { data, .. } => {
                    let socket_id = data
                        .as_ref()
                        .and_then(|d| d.get("sid"))
                        .and_then(|sid| sid.as_str())
                        .map(str::to_owned);
                    return Ok(Handshake {
                        ws,
                        open,
                        socket_id,
                        early,
                    });
                }
                Packet::ConnectError { message, data, .. } => {
                    return Err(Error::ConnectRefused { message, data });
                }
                _ if early.len() < MAX_EARLY => early.push(data.to_owned()),
                _ => {
                    return Err(PacketError::Unexpected(
                        "more than 1024 packets before CONNECT was answered",
                    )
                    .into());
                }
            },
        }
    }
}

/// The next text frame; websocket control frames and binary frames are
/// skipped (tungstenite answers websocket pings itself).
async fn next_text(ws: &mut WsStream) -> Result<Utf8Bytes> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Ok(text),
            Some(Ok(Message::Close(_))) | None => {
                return Err(Error::Disconnected(DisconnectReason::TransportClosed));
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
        }
    }
}

/// The frame the codec wrote, as the text a websocket frame needs.
pub(crate) fn frame_text(frame: Vec<u8>) -> Result<String> {
    // The codec writes ASCII and serde_json output, so this never fails;
    // it is checked rather than assumed because `unsafe` is forbidden.
    String::from_utf8(frame).map_err(|e| Error::Io(io::Error::new(io::ErrorKind::InvalidData, e)))
}

/// Resolves the host and connects to the first address that answers.
async fn dial(options: &SocketOptions) -> Result<TcpStream> {
    let url = &options.url;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| Error::InvalidUrl {
            url: url.to_string(),
            reason: "no port".into(),
        })?;
    let addresses: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::from((ip, port))],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::from((ip, port))],
        Some(Host::Domain(name)) => tokio::net::lookup_host((name, port)).await?.collect(),
        None => {
            return Err(Error::InvalidUrl {
                url: url.to_string(),
                reason: "no host".into(),
            });
        }
    };
    let mut last_error = None;
    for address in addresses {
        if options
            .local_addr
            .is_some_and(|local| local.is_ipv4() != address.is_ipv4())
        {
            continue;
        }
        match connect_one(address, options).await {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error
        .unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::NotFound, "no usable address for the host")
        })
        .into())
}

async fn connect_one(address: SocketAddr, options: &SocketOptions) -> io::Result<TcpStream> {
    let Some(local) = options.local_addr else {
        return TcpStream::connect(address).await;
    };
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(address).await
}
