//! The Socket.IO client against a real Socket.IO server: `socketioxide`
//! (the library the Securechat server uses), started in-process on a free
//! port with a namespace that exercises every feature the client has.

// Helpers outside #[test] functions panic on purpose: a failed set-up is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::Duration;

use securechat_client::Error;
use securechat_client::socketio::{DisconnectReason, Event, EventStream, Socket, SocketOptions};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(5);

/// A running socketioxide server.
struct Server {
    url: String,
    /// The disconnect reasons the server recorded, in order.
    disconnects: mpsc::UnboundedReceiver<String>,
}

#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Accepts only auth `{"token": "secret"}`, like Securechat's handshake check.
async fn authenticate(TryData(auth): TryData<Value>) -> Result<(), Refused> {
    match auth.ok().as_ref().and_then(|auth| auth.get("token")) {
        Some(token) if token == "secret" => Ok(()),
        Some(_) => Err(Refused("invalid token".into())),
        None => Err(Refused("authentication required".into())),
    }
}

async fn start(
    configure: impl FnOnce(socketioxide::SocketIoBuilder) -> socketioxide::SocketIoBuilder,
) -> Server {
    let (layer, io) = configure(SocketIo::builder()).build_layer();
    let (record, disconnects) = mpsc::unbounded_channel();
    let on_connect = async move |s: SocketRef| {
        let header = |name: &str| {
            s.req_parts()
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let welcome = json!({
            "sid": s.id.to_string(),
            "origin": header("origin"),
            "cookie": header("cookie"),
        });
        s.emit("welcome", &welcome).unwrap();
        s.on("echo", async |Data(data): Data<Value>, ack: AckSender| {
            ack.send(&data).unwrap();
        });
        s.on("ignore", async || {});
        s.on("push", async |s: SocketRef, Data(count): Data<u32>| {
            for n in 0..count {
                s.emit("tick", &json!({ "n": n })).unwrap();
            }
        });
        s.on("kick", async |s: SocketRef| {
            s.disconnect().unwrap();
        });
        s.on("ask", async |s: SocketRef, Data(question): Data<Value>| {
            let answer: Value = s
                .emit_with_ack::<_, Value>("question", &question)
                .unwrap()
                .await
                .unwrap();
            s.emit("answer", &answer).unwrap();
        });
        let record = record.clone();
        s.on_disconnect(
            async move |reason: socketioxide::socket::DisconnectReason| {
                let _ = record.send(format!("{reason:?}"));
            },
        );
    };
    io.ns("/", on_connect.with(authenticate));
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Server {
        url: format!("http://{address}"),
        disconnects,
    }
}

async fn default_server() -> Server {
    start(|builder| builder).await
}

fn options(server: &Server) -> SocketOptions {
    SocketOptions::new(&server.url).unwrap().token("secret")
}

async fn connect(server: &Server) -> (Socket, EventStream) {
    Socket::connect(options(server)).await.unwrap()
}

async fn next(events: &mut EventStream) -> Event {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("no event in time")
        .expect("the stream ended")
}

async fn next_disconnect(server: &mut Server) -> String {
    tokio::time::timeout(WAIT, server.disconnects.recv())
        .await
        .expect("the server saw no disconnect")
        .unwrap()
}

#[tokio::test]
async fn connects_with_auth_and_headers_and_receives_events_sent_on_connect() {
    let server = default_server().await;
    let options = options(&server)
        .header("Origin", "http://chat.test")
        .unwrap()
        .header("Cookie", "session=abc")
        .unwrap();
    let (socket, mut events) = Socket::connect(options).await.unwrap();
    let welcome = next(&mut events).await;
    assert_eq!(welcome.name, "welcome");
    assert_eq!(welcome.data()["origin"], "http://chat.test");
    assert_eq!(welcome.data()["cookie"], "session=abc");
    assert_eq!(Some(welcome.data()["sid"].as_str().unwrap()), socket.id());
    assert!(socket.is_connected());
}

#[tokio::test]
async fn ack_round_trip_including_many_concurrent_acks() {
    let server = default_server().await;
    let (socket, _events) = connect(&server).await;
    let reply = socket
        .emit_with_ack("echo", &json!({"text": "héllo \"world\""}), WAIT)
        .await
        .unwrap();
    assert_eq!(reply, json!({"text": "héllo \"world\""}));

    let calls = (0..50).map(|n| {
        let socket = socket.clone();
        tokio::spawn(async move { (n, socket.emit_with_ack("echo", &n, WAIT).await.unwrap()) })
    });
    for call in calls {
        let (n, reply) = call.await.unwrap();
        assert_eq!(reply, json!(n));
    }
}

#[tokio::test]
async fn server_pushed_events_arrive_in_order() {
    // socketioxide queues at most 128 packets per socket by default.
    let server = start(|b| b.max_buffer_size(1_000)).await;
    let (socket, mut events) = connect(&server).await;
    assert_eq!(next(&mut events).await.name, "welcome");
    socket.emit("push", &200).await.unwrap();
    for n in 0..200 {
        let tick = next(&mut events).await;
        assert_eq!((tick.name.as_str(), &tick.data()["n"]), ("tick", &json!(n)));
    }
}

#[tokio::test]
async fn answers_the_servers_acks() {
    let server = default_server().await;
    let (socket, mut events) = connect(&server).await;
    assert_eq!(next(&mut events).await.name, "welcome");
    socket.emit("ask", &json!({"q": 6})).await.unwrap();
    let question = next(&mut events).await;
    assert_eq!(question.name, "question");
    assert_eq!(question.data(), &json!({"q": 6}));
    let ack_id = question.ack_id.expect("the server asked for an ack");
    socket.ack(ack_id, &json!({"a": 42})).await.unwrap();
    let answer = next(&mut events).await;
    assert_eq!(
        (answer.name.as_str(), answer.data()),
        ("answer", &json!({"a": 42}))
    );
}

#[tokio::test]
async fn a_server_side_disconnect_ends_the_stream_and_later_emits_fail() {
    let mut server = default_server().await;
    let (socket, mut events) = connect(&server).await;
    socket.emit("kick", &()).await.unwrap();
    assert_eq!(next(&mut events).await.name, "welcome");
    assert!(
        tokio::time::timeout(WAIT, events.recv())
            .await
            .unwrap()
            .is_none(),
        "the stream should end"
    );
    assert_eq!(
        events.disconnect_reason(),
        Some(DisconnectReason::ServerDisconnected)
    );
    assert_eq!(socket.closed().await, DisconnectReason::ServerDisconnected);
    assert!(!socket.is_connected());
    assert!(matches!(
        socket.emit("echo", &1).await,
        Err(Error::Disconnected(DisconnectReason::ServerDisconnected))
    ));
    assert!(matches!(
        socket.emit_with_ack("echo", &1, WAIT).await,
        Err(Error::Disconnected(DisconnectReason::ServerDisconnected))
    ));
    assert_eq!(next_disconnect(&mut server).await, "ServerNSDisconnect");
}

#[tokio::test]
async fn keeps_the_connection_alive_over_a_short_ping_interval() {
    // The timeout leaves room for a loaded machine (the suites run side by
    // side on two cores, and a stall of over half a second was seen) to
    // schedule the answer; a client that never answered would still be
    // dropped within the first 2.1 s.
    let mut server = start(|b| {
        b.ping_interval(Duration::from_millis(100))
            .ping_timeout(Duration::from_millis(2000))
    })
    .await;
    let (socket, _events) = connect(&server).await;
    // Thirty ping intervals: without pongs the server would have dropped us
    // after the first one's timeout.
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert!(socket.is_connected());
    assert_eq!(
        socket
            .emit_with_ack("echo", "still here", WAIT)
            .await
            .unwrap(),
        "still here"
    );
    assert!(
        server.disconnects.try_recv().is_err(),
        "the server dropped us"
    );
}

#[tokio::test]
async fn a_refused_connection_is_an_error_with_the_servers_message() {
    let server = default_server().await;
    let wrong = SocketOptions::new(&server.url).unwrap().token("wrong");
    match Socket::connect(wrong).await {
        Err(Error::ConnectRefused { message, .. }) => assert_eq!(message, "invalid token"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    let anonymous = SocketOptions::new(&server.url).unwrap();
    match Socket::connect(anonymous).await {
        Err(Error::ConnectRefused { message, .. }) => {
            assert_eq!(message, "authentication required");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn close_disconnects_on_the_server_and_ends_the_stream() {
    let mut server = default_server().await;
    let (socket, mut events) = connect(&server).await;
    assert_eq!(next(&mut events).await.name, "welcome");
    assert_eq!(socket.close().await, DisconnectReason::ClientClosed);
    assert_eq!(next_disconnect(&mut server).await, "ClientNSDisconnect");
    assert!(events.recv().await.is_none());
    assert_eq!(
        events.disconnect_reason(),
        Some(DisconnectReason::ClientClosed)
    );
    assert!(matches!(
        socket.emit("echo", &1).await,
        Err(Error::Disconnected(DisconnectReason::ClientClosed))
    ));
}

#[tokio::test]
async fn close_is_heard_while_the_reader_lags_behind() {
    let mut server = start(|b| b.max_buffer_size(1_000)).await;
    let options = options(&server).event_buffer(1);
    let (socket, _unread) = Socket::connect(options).await.unwrap();
    socket.emit("push", &100).await.unwrap();
    // Let the driver fill the one-event buffer and block on the next one.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let reason = tokio::time::timeout(WAIT, socket.close())
        .await
        .expect("close hung");
    assert_eq!(reason, DisconnectReason::ClientClosed);
    assert_eq!(next_disconnect(&mut server).await, "ClientNSDisconnect");
}

#[tokio::test]
async fn dropping_every_handle_closes_the_connection() {
    let mut server = default_server().await;
    let (socket, events) = connect(&server).await;
    let clone = socket.clone();
    drop(socket);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(clone.is_connected(), "a remaining clone keeps it open");
    drop(clone);
    assert_eq!(next_disconnect(&mut server).await, "ClientNSDisconnect");
    drop(events);
}

#[tokio::test]
async fn an_unanswered_ack_times_out_and_the_connection_stays_usable() {
    let server = default_server().await;
    let (socket, _events) = connect(&server).await;
    let short = Duration::from_millis(200);
    assert!(matches!(
        socket.emit_with_ack("ignore", &1, short).await,
        Err(Error::Timeout {
            what: "the ack",
            ..
        })
    ));
    assert_eq!(socket.emit_with_ack("echo", &2, WAIT).await.unwrap(), 2);
}

#[tokio::test]
async fn refuses_locally_what_exceeds_the_servers_max_payload() {
    let server = start(|b| b.max_payload(1_000)).await;
    let (socket, _events) = connect(&server).await;
    let big = "x".repeat(2_000);
    assert!(matches!(
        socket.emit("echo", &big).await,
        Err(Error::PayloadTooLarge { max: 1_000, .. })
    ));
    assert_eq!(
        socket.emit_with_ack("echo", "small", WAIT).await.unwrap(),
        "small"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_an_io_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let options = SocketOptions::new(&format!("http://{address}")).unwrap();
    assert!(matches!(Socket::connect(options).await, Err(Error::Io(_))));
}

#[tokio::test]
async fn connects_from_a_chosen_local_address() {
    let server = default_server().await;
    let options = options(&server).local_addr("127.0.0.2".parse().unwrap());
    let (socket, _events) = Socket::connect(options).await.unwrap();
    assert_eq!(socket.emit_with_ack("echo", &1, WAIT).await.unwrap(), 1);
}
