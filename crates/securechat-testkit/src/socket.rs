//! Socket.IO from tests, through the Rust client: connecting, waiting for
//! events (or their absence), acks, and members with published identities.

use std::time::Duration;

use super::http::{call, token};
use super::server::Server;

/// How long socket tests wait for an ack or an event.
pub const WAIT: Duration = Duration::from_secs(5);

/// A Socket.IO connection authenticated with `token`, via the Rust client.
pub async fn connect(
    server: &Server,
    token: &str,
) -> (securechat_client::Socket, securechat_client::EventStream) {
    let options = securechat_client::SocketOptions::new(&server.base)
        .unwrap()
        .token(token);
    securechat_client::Socket::connect(options).await.unwrap()
}

/// The next event called `name`, skipping others.
pub async fn next_event(
    events: &mut securechat_client::EventStream,
    name: &str,
) -> serde_json::Value {
    let found = tokio::time::timeout(WAIT, async {
        loop {
            let event = events.recv().await.expect("connection ended");
            if event.name == name {
                return event.data().clone();
            }
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no {name} event within {WAIT:?}"))
}

/// A signed-in user with an identity whose bundle is published.
pub struct Member {
    pub id: i64,
    pub token: String,
    pub identity: securechat_crypto::Identity,
}

pub async fn member(server: &Server, name: &str, password: &str) -> Member {
    let token = token(server, name, password).await;
    let (_, me) = call(server, Some(&token), "GET", "/api/auth/me", None).await;
    let id = me["user"]["id"].as_i64().unwrap();
    let identity = securechat_crypto::Identity::generate(id).unwrap();
    let (s, body) = call(
        server,
        Some(&token),
        "PUT",
        "/api/users/me/public_key",
        Some(serde_json::json!({"public_key": identity.bundle().to_wire()})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    Member {
        id,
        token,
        identity,
    }
}

/// The ids of the room named `room` and of its `channel`, as `token` sees them.
pub async fn room_and_channel(
    server: &Server,
    token: &str,
    room: &str,
    channel: &str,
) -> (i64, i64) {
    let (_, mine) = call(server, Some(token), "GET", "/api/rooms", None).await;
    let room = mine["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == room)
        .unwrap()
        .clone();
    let id = room["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == channel)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    (room["id"].as_i64().unwrap(), id)
}

/// Asserts no event called `name` arrives within `window`.
pub async fn no_event(
    events: &mut securechat_client::EventStream,
    name: &str,
    window: std::time::Duration,
) {
    let seen = tokio::time::timeout(window, async {
        loop {
            match events.recv().await {
                Some(e) if e.name == name => return e,
                Some(_) => {}
                None => std::future::pending::<()>().await,
            }
        }
    })
    .await;
    if let Ok(event) = seen {
        panic!("unexpected {name}: {}", event.data());
    }
}

/// Emits `event` and returns its ack.
pub async fn ask(
    socket: &securechat_client::Socket,
    event: &str,
    data: serde_json::Value,
) -> serde_json::Value {
    socket.emit_with_ack(event, &data, WAIT).await.unwrap()
}

/// Sends `text` to `channel` over `socket`, waiting out the send rate
/// limit; returns the message id.
pub async fn post_text(socket: &securechat_client::Socket, channel: i64, text: &str) -> i64 {
    let id: String = (0..32)
        .map(|_| char::from(b"0123456789abcdef"[rand::random_range(0..16)]))
        .collect();
    loop {
        let ack = ask(
            socket,
            "send_message",
            serde_json::json!({"channel_id": channel, "content": text, "client_msg_id": id}),
        )
        .await;
        if ack["code"] == "rate_limited" {
            let wait = ack["retry_after_ms"].as_u64().unwrap_or(50);
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
            continue;
        }
        assert_eq!(ack["success"], true, "{ack}");
        return ack["message"]["id"].as_i64().unwrap();
    }
}
