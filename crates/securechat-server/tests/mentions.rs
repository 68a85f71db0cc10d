//! Channel-wide mentions against the real binary, on every configured
//! storage backend: who may use `@channel`, `@here`, `@everyone` and `@room`
//! in plaintext rooms on both sides of the owner's size, who may set it,
//! its bounds, the live `room_settings_updated` event and the room JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use testkit::{Server, ask, backends, call, connect, next_event, room_and_channel, token};

/// Sends `text` to `channel`, waiting out the send rate limit: the ack.
async fn send(socket: &securechat_client::Socket, channel: i64, text: &str) -> Value {
    static SENT: AtomicUsize = AtomicUsize::new(0);
    let n = SENT.fetch_add(1, Ordering::Relaxed);
    loop {
        let ack = ask(
            socket,
            "send_message",
            json!({"channel_id": channel, "content": text, "client_msg_id": format!("mention-{n}")}),
        )
        .await;
        if ack["code"] == "rate_limited" {
            let wait = ack["retry_after_ms"].as_u64().unwrap_or(50);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            continue;
        }
        return ack;
    }
}

async fn set_max(server: &Server, token: &str, room: i64, max: Value) -> (u16, Value) {
    call(
        server,
        Some(token),
        "PUT",
        &format!("/api/rooms/{room}/mention_settings"),
        Some(json!({"everyone_mention_max_members": max})),
    )
    .await
}

#[tokio::test]
async fn only_admins_use_channel_wide_mentions_above_the_owners_size() {
    for backend in backends() {
        let server = Server::start(backend).await;
        // Project X: alice owns it, bob is an admin, charlie a member; 3 people.
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (project, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (_a, _a_events) = connect(&server, &alice).await;
        let (b, _b_events) = connect(&server, &bob).await;
        let (c, mut c_events) = connect(&server, &charlie).await;

        // No setting: anyone may.
        let ack = send(&c, general, "@channel lunch?").await;
        assert_eq!(ack["success"], true, "{backend:?}: {ack}");
        let room = call(
            &server,
            Some(&charlie),
            "GET",
            &format!("/api/rooms/{project}"),
            None,
        )
        .await
        .1;
        assert_eq!(
            room["room"]["everyone_mention_max_members"],
            Value::Null,
            "{room}"
        );
        assert_eq!(room["room"]["members_may_pin"], false);

        // Only the owner sets the size, within its bounds.
        assert_eq!(set_max(&server, &charlie, project, json!(2)).await.0, 403);
        assert_eq!(set_max(&server, &bob, project, json!(2)).await.0, 403);
        for bad in [json!(0), json!(-1), json!(100_001), json!("2")] {
            let (s, body) = set_max(&server, &alice, project, bad.clone()).await;
            assert_eq!(s, 422, "{backend:?}: {bad} {body}");
        }
        // At the size, members still may.
        assert_eq!(set_max(&server, &alice, project, json!(3)).await.0, 200);
        let event = next_event(&mut c_events, "room_settings_updated").await;
        assert_eq!(event["room_id"], project);
        let ack = send(&c, general, "@here standup").await;
        assert_eq!(ack["success"], true, "{backend:?}: {ack}");

        // Above it, a member is refused with a 403 saying who may; the
        // owner and admins are not, and code or a name is no channel mention.
        assert_eq!(set_max(&server, &alice, project, json!(2)).await.0, 200);
        next_event(&mut c_events, "room_settings_updated").await;
        let (_, rooms) = call(&server, Some(&charlie), "GET", "/api/rooms", None).await;
        let listed = rooms["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == project)
            .unwrap();
        assert_eq!(listed["everyone_mention_max_members"], 2, "{listed}");
        for text in ["@channel lunch?", "hi @HERE", "@everyone!", "(@room)"] {
            let ack = send(&c, general, text).await;
            assert_eq!(ack["success"], false, "{backend:?}: {text} {ack}");
            assert_eq!(ack["code"], "channel_mention_not_allowed", "{ack}");
            assert!(
                ack["message"]
                    .as_str()
                    .unwrap()
                    .contains("owner and admins"),
                "{ack}"
            );
        }
        for text in [
            "`@channel` is how you ping all",
            "@alice @bob",
            "mail me@channel.example",
        ] {
            let ack = send(&c, general, text).await;
            assert_eq!(ack["success"], true, "{backend:?}: {text} {ack}");
        }
        let from_bob = send(&b, general, "@channel release at five").await;
        assert_eq!(from_bob["success"], true, "{backend:?}: {from_bob}");
        let mine = send(&c, general, "nothing to see").await;
        let id = mine["message"]["id"].as_i64().unwrap();
        // An edit cannot slip one in either.
        let edit = ask(
            &c,
            "edit_message",
            json!({"message_id": id, "content": "@channel now"}),
        )
        .await;
        assert_eq!(
            edit["code"], "channel_mention_not_allowed",
            "{backend:?}: {edit}"
        );
        let history = call(
            &server,
            Some(&alice),
            "GET",
            &format!("/api/channels/{general}/messages?limit=50"),
            None,
        )
        .await
        .1;
        let texts: Vec<&str> = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect();
        assert!(texts.contains(&"nothing to see"), "{texts:?}");
        assert!(!texts.contains(&"@channel now"));
        assert!(!texts.contains(&"hi @HERE"));

        // Null lets anyone again.
        assert_eq!(set_max(&server, &alice, project, Value::Null).await.0, 200);
        let ack = send(&c, general, "@room all good").await;
        assert_eq!(ack["success"], true, "{backend:?}: {ack}");
    }
}
