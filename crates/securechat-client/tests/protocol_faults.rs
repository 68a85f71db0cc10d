//! The Socket.IO client against a scripted fake server speaking raw
//! Engine.IO frames: what a real server never does on purpose (go silent,
//! send garbage, send binary packets) and what the client must survive.

// Helpers outside #[test] functions panic on purpose: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use securechat_client::Error;
use securechat_client::socketio::{DisconnectReason, PacketError, Socket, SocketOptions};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{Bytes, Message};

type Ws = WebSocketStream<TcpStream>;

const WAIT: Duration = Duration::from_secs(5);

/// Serves one connection with `script`; returns the URL to connect to.
async fn fake<F, Fut>(script: F) -> String
where
    F: FnOnce(Ws) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        script(ws).await;
    });
    url
}

async fn send(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text)).await.unwrap();
}

async fn receive(ws: &mut Ws) -> String {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
            Some(Ok(Message::Text(text))) => return text.as_str().to_owned(),
            Some(Ok(_)) => {}
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The server side of both handshakes, with the given heartbeat.
async fn handshake(ws: &mut Ws, ping_interval_ms: u64, ping_timeout_ms: u64) {
    send(
        ws,
        &format!(
            r#"0{{"sid":"fake","upgrades":[],"pingInterval":{ping_interval_ms},"pingTimeout":{ping_timeout_ms},"maxPayload":100000}}"#
        ),
    )
    .await;
    assert_eq!(receive(ws).await, "40");
    send(ws, r#"40{"sid":"socket-1"}"#).await;
}

/// Keeps the connection open (and silent) long after the test ends.
async fn hold(ws: Ws) {
    tokio::time::sleep(Duration::from_secs(30)).await;
    drop(ws);
}

async fn connect(url: &str) -> (Socket, securechat_client::EventStream) {
    Socket::connect(SocketOptions::new(url).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn detects_a_silent_server_by_the_ping_timeout() {
    let url = fake(async |mut ws| {
        handshake(&mut ws, 100, 100).await;
        hold(ws).await;
    })
    .await;
    let (socket, _events) = connect(&url).await;
    assert_eq!(socket.id(), Some("socket-1"));
    let reason = tokio::time::timeout(WAIT, socket.closed()).await.unwrap();
    assert_eq!(reason, DisconnectReason::PingTimeout);
}

#[tokio::test]
async fn answers_pings_with_pongs_carrying_the_same_data() {
    let (done, seen) = tokio::sync::oneshot::channel();
    let url = fake(async |mut ws| {
        handshake(&mut ws, 25_000, 20_000).await;
        send(&mut ws, "2").await;
        let first = receive(&mut ws).await;
        send(&mut ws, "2probe").await;
        let second = receive(&mut ws).await;
        let _ = done.send((first, second));
        hold(ws).await;
    })
    .await;
    let (_socket, _events) = connect(&url).await;
    let (first, second) = tokio::time::timeout(WAIT, seen).await.unwrap().unwrap();
    assert_eq!((first.as_str(), second.as_str()), ("3", "3probe"));
}

#[tokio::test]
async fn a_malformed_packet_ends_the_connection_with_a_protocol_error() {
    let url = fake(async |mut ws| {
        handshake(&mut ws, 25_000, 20_000).await;
        send(&mut ws, r#"42{"not":"an array"}"#).await;
        hold(ws).await;
    })
    .await;
    let (socket, mut events) = connect(&url).await;
    assert!(
        tokio::time::timeout(WAIT, events.recv())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        socket.closed().await,
        DisconnectReason::ProtocolError(PacketError::InvalidEvent.to_string())
    );
}

#[tokio::test]
async fn binary_packets_are_skipped_and_a_binary_ack_fails_its_emit() {
    let url = fake(async |mut ws| {
        handshake(&mut ws, 25_000, 20_000).await;
        assert_eq!(receive(&mut ws).await, r#"420["question",1]"#);
        send(&mut ws, r#"461-0[{"_placeholder":true,"num":0}]"#).await;
        ws.send(Message::Binary(Bytes::from_static(b"\x01\x02")))
            .await
            .unwrap();
        send(&mut ws, r#"451-["blob",{"_placeholder":true,"num":0}]"#).await;
        ws.send(Message::Binary(Bytes::from_static(b"\x03")))
            .await
            .unwrap();
        send(&mut ws, r#"42/admin,["elsewhere"]"#).await;
        send(&mut ws, r#"42["after",{"ok":true}]"#).await;
        hold(ws).await;
    })
    .await;
    let (socket, mut events) = connect(&url).await;
    assert!(matches!(
        socket.emit_with_ack("question", &1, WAIT).await,
        Err(Error::BinaryUnsupported)
    ));
    let event = tokio::time::timeout(WAIT, events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        event.name, "after",
        "binary and other-namespace packets are skipped"
    );
    assert!(socket.is_connected());
}

#[tokio::test]
async fn an_engine_close_packet_ends_the_connection() {
    let url = fake(async |mut ws| {
        handshake(&mut ws, 25_000, 20_000).await;
        send(&mut ws, "1").await;
        hold(ws).await;
    })
    .await;
    let (socket, _events) = connect(&url).await;
    let reason = tokio::time::timeout(WAIT, socket.closed()).await.unwrap();
    assert_eq!(reason, DisconnectReason::EngineClosed);
}

#[tokio::test]
async fn a_server_that_never_opens_times_out() {
    let url = fake(hold).await;
    let options = SocketOptions::new(&url)
        .unwrap()
        .connect_timeout(Duration::from_millis(300));
    assert!(matches!(
        Socket::connect(options).await,
        Err(Error::Timeout { .. })
    ));
}

#[tokio::test]
async fn a_handshake_out_of_order_is_a_protocol_error() {
    let url = fake(async |mut ws| {
        send(&mut ws, r#"40{"sid":"too-early"}"#).await;
        hold(ws).await;
    })
    .await;
    assert!(matches!(
        Socket::connect(SocketOptions::new(&url).unwrap()).await,
        Err(Error::Protocol(PacketError::Unexpected(_)))
    ));
}

#[tokio::test]
async fn events_that_overtake_the_connect_answer_are_delivered_first_in_order() {
    let url = fake(async |mut ws| {
        send(
            &mut ws,
            r#"0{"sid":"fake","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100000}"#,
        )
        .await;
        assert_eq!(receive(&mut ws).await, "40");
        // A broadcast to a room the socket was just put in, before the answer.
        send(&mut ws, r#"42["presence",{"user_id":2,"online":true}]"#).await;
        send(&mut ws, r#"42["new_message",{"id":7}]"#).await;
        send(&mut ws, r#"40{"sid":"socket-1"}"#).await;
        send(&mut ws, r#"42["new_message",{"id":8}]"#).await;
        hold(ws).await;
    })
    .await;
    let (socket, mut events) = connect(&url).await;
    assert_eq!(socket.id(), Some("socket-1"));
    let mut seen = Vec::new();
    for _ in 0..3 {
        let event = tokio::time::timeout(WAIT, events.recv())
            .await
            .unwrap()
            .unwrap();
        seen.push((event.name.clone(), event.data().clone()));
    }
    assert_eq!(
        seen,
        vec![
            (
                "presence".to_owned(),
                serde_json::json!({"user_id": 2, "online": true})
            ),
            ("new_message".to_owned(), serde_json::json!({"id": 7})),
            ("new_message".to_owned(), serde_json::json!({"id": 8})),
        ]
    );
}
