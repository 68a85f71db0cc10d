//! Real-time messaging over Socket.IO against the real binary, driven by
//! the project's Rust client, on every configured backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::time::Duration;

use securechat_client::{Socket, SocketOptions};
use serde_json::{Value, json};
use testkit::{
    Backend, Server, WAIT, ask, backends, call, connect, db_count, new_user, next_event, no_event,
    rss_kib, token,
};

/// Channel id by room and channel name, as `user` sees it.
async fn channel_id(server: &Server, token: &str, room: &str, channel: &str) -> i64 {
    testkit::room_and_channel(server, token, room, channel)
        .await
        .1
}

async fn send(socket: &Socket, channel: i64, content: &str, client_id: &str) -> Value {
    ask(
        socket,
        "send_message",
        json!({"channel_id": channel, "content": content, "client_msg_id": client_id}),
    )
    .await
}

/// Sends like a well-behaved client: waits out `rate_limited` and retries
/// with the same `client_msg_id`.
async fn send_paced(socket: &Socket, channel: i64, content: &str, client_id: &str) -> Value {
    loop {
        let ack = send(socket, channel, content, client_id).await;
        match ack["retry_after_ms"].as_u64() {
            Some(ms) if ack["code"] == "rate_limited" => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            _ => return ack,
        }
    }
}

#[tokio::test]
async fn two_users_chat_live_and_acks_follow_commits() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let general = channel_id(&server, &alice, "Lobby", "general").await;
        let (a, mut a_events) = connect(&server, &alice).await;
        let (b, mut b_events) = connect(&server, &bob).await;
        for s in [&a, &b] {
            let joined = ask(s, "join_channel", json!({"channel_id": general})).await;
            assert_eq!(joined["success"], true, "{backend:?} {joined}");
        }

        let ack = send(&a, general, "hello bob", "c-1").await;
        assert_eq!(ack["success"], true, "{ack}");
        let id = ack["message"]["id"].as_i64().unwrap();
        assert_eq!(
            db_count(&server, "SELECT COUNT(*) FROM messages WHERE id = $1", id).await,
            1,
            "the message is committed when the ack arrives"
        );
        let received = next_event(&mut b_events, "new_message").await;
        for field in [
            "id",
            "channel_id",
            "sender_id",
            "sender_username",
            "content",
            "created_at",
            "edited_at",
            "reply_to",
            "client_msg_id",
        ] {
            assert!(
                received.get(field).is_some(),
                "new_message lacks {field}: {received}"
            );
        }
        assert_eq!(received["content"], "hello bob");
        assert_eq!(received["sender_username"], "alice");
        assert_eq!(received["id"], id);
        assert_eq!(
            next_event(&mut a_events, "new_message").await["id"],
            id,
            "the sender sees it too"
        );

        let reply = ask(
            &b,
            "send_message",
            json!({"channel_id": general, "content": "hi", "client_msg_id": "b-1", "reply_to": id}),
        )
        .await;
        assert_eq!(reply["message"]["reply_to"], id);
        assert!(reply["message"]["id"].as_i64().unwrap() > id, "ids grow");

        // History over HTTP, newest first, with keyset paging.
        let (s, page) = call(
            &server,
            Some(&bob),
            "GET",
            &format!("/api/channels/{general}/messages?limit=1"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(page["messages"][0]["content"], "hi");
        assert_eq!(page["has_more"], true);
        let (_, older) = call(
            &server,
            Some(&bob),
            "GET",
            &format!(
                "/api/channels/{general}/messages?before={}",
                page["messages"][0]["id"]
            ),
            None,
        )
        .await;
        assert_eq!(older["messages"][0]["content"], "hello bob");
        assert_eq!(older["has_more"], false);
    }
}

#[tokio::test]
async fn duplicate_client_msg_id_gives_one_message() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let general = channel_id(&server, &alice, "Lobby", "general").await;
        let (a, _a_events) = connect(&server, &alice).await;
        let (b, mut b_events) = connect(&server, &bob).await;
        ask(&b, "join_channel", json!({"channel_id": general})).await;
        let first = send(&a, general, "once", "same-id").await;
        let second = send(&a, general, "once", "same-id").await;
        assert_eq!(
            first["message"]["id"], second["message"]["id"],
            "{backend:?}"
        );
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM messages WHERE channel_id = $1",
                general
            )
            .await,
            1
        );
        next_event(&mut b_events, "new_message").await;
        no_event(&mut b_events, "new_message", Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn reconnect_with_after_resumes_without_gaps_or_duplicates() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let general = channel_id(&server, &alice, "Lobby", "general").await;
        let (a, _a_events) = connect(&server, &alice).await;
        let last_seen = send(&a, general, "before the gap", "gap-0").await["message"]["id"]
            .as_i64()
            .unwrap();

        let (b, _) = connect(&server, &bob).await;
        let joined = ask(&b, "join_channel", json!({"channel_id": general})).await;
        assert_eq!(
            joined["messages"].as_array().unwrap().last().unwrap()["id"],
            last_seen
        );
        b.close().await;

        let mut sent = Vec::new();
        for i in 0..100 {
            let ack = send_paced(
                &a,
                general,
                &format!("missed {i}"),
                &format!("gap-{}", i + 1),
            )
            .await;
            sent.push(ack["message"]["id"].as_i64().unwrap());
        }
        let (b, _) = connect(&server, &bob).await;
        let resumed = ask(
            &b,
            "join_channel",
            json!({"channel_id": general, "after": last_seen}),
        )
        .await;
        let got: Vec<i64> = resumed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        assert_eq!(got, sent, "{backend:?}: exactly the 100 missed, in order");
        assert_eq!(resumed["has_more"], false);
        let contents: Vec<&str> = resumed["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        assert_eq!(contents[0], "missed 0");
        assert_eq!(contents[99], "missed 99");
    }
}

#[tokio::test]
async fn kicked_member_stops_receiving_at_once() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let charlie = token(&server, "charlie", "password789").await;
        let general = channel_id(&server, &alice, "Project X", "general").await;
        let (_, mine) = call(&server, Some(&alice), "GET", "/api/rooms", None).await;
        let room = mine["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "Project X")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let (_, me) = call(&server, Some(&charlie), "GET", "/api/auth/me", None).await;
        let charlie_id = me["user"]["id"].as_i64().unwrap();

        let (a, _a_events) = connect(&server, &alice).await;
        let (c1, mut c1_events) = connect(&server, &charlie).await;
        let (c2, mut c2_events) = connect(&server, &charlie).await;
        ask(&a, "join_channel", json!({"channel_id": general})).await;
        for c in [&c1, &c2] {
            assert_eq!(
                ask(c, "join_channel", json!({"channel_id": general})).await["success"],
                true
            );
        }
        send(&a, general, "before the kick", "k-0").await;
        next_event(&mut c1_events, "new_message").await;
        next_event(&mut c2_events, "new_message").await;

        let (s, _) = call(
            &server,
            Some(&alice),
            "DELETE",
            &format!("/api/rooms/{room}/members/{charlie_id}"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{backend:?}");
        let left = next_event(&mut c1_events, "member_left").await;
        assert_eq!(left["reason"], "kicked");
        send(&a, general, "after the kick", "k-1").await;
        no_event(&mut c1_events, "new_message", Duration::from_millis(500)).await;
        no_event(&mut c2_events, "new_message", Duration::from_millis(100)).await;

        let rejoin = ask(&c1, "join_channel", json!({"channel_id": general})).await;
        assert_eq!(
            (rejoin["success"].as_bool(), rejoin["code"].as_str()),
            (Some(false), Some("channel_not_found"))
        );
        // The channel is known plaintext by now (alice sent): this send
        // takes the short way, where the insert itself checks membership.
        let sent = send(&c2, general, "still here?", "k-2").await;
        assert_eq!(
            (sent["success"].as_bool(), sent["code"].as_str()),
            (Some(false), Some("channel_not_found")),
            "{backend:?}"
        );
        let stored = db_count(
            &server,
            "SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND client_msg_id = 'k-2'",
            general,
        )
        .await;
        assert_eq!(stored, 0, "{backend:?}");
    }
}

#[tokio::test]
async fn non_members_cannot_join_send_or_read() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let secret_general = channel_id(&server, &alice, "Project X", "general").await;
        let (_, eve) = new_user(&server, "eve").await;
        let admin = token(&server, "admin", "admin123").await;
        for outsider in [&eve, &admin] {
            let (s, mut _events) = connect(&server, outsider).await;
            let join = ask(&s, "join_channel", json!({"channel_id": secret_general})).await;
            assert_eq!(join["code"], "channel_not_found", "{backend:?} {join}");
            let sent = send(&s, secret_general, "let me in", "x-1").await;
            assert_eq!(sent["code"], "channel_not_found");
            let typing = ask(&s, "typing", json!({"channel_id": secret_general})).await;
            assert_eq!(typing["success"], false);
            let (status, _) = call(
                &server,
                Some(outsider),
                "GET",
                &format!("/api/channels/{secret_general}/messages"),
                None,
            )
            .await;
            assert_eq!(status, 404, "site admins read no messages either");
        }
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM messages WHERE channel_id = $1",
                secret_general
            )
            .await,
            0
        );
    }
}

#[tokio::test]
async fn edits_deletes_reactions_typing_and_read_markers() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let general = channel_id(&server, &alice, "Project X", "general").await;
        let (a, mut a_events) = connect(&server, &alice).await;
        let (b, mut b_events) = connect(&server, &bob).await;
        for s in [&a, &b] {
            ask(s, "join_channel", json!({"channel_id": general})).await;
        }
        let charlie = token(&server, "charlie", "password789").await;
        let (c, _c_events) = connect(&server, &charlie).await;
        ask(&c, "join_channel", json!({"channel_id": general})).await;
        let from_charlie = send(&c, general, "charlie's", "c-1").await["message"]["id"]
            .as_i64()
            .unwrap();
        let mine = send(&a, general, "typo", "a-1").await["message"]["id"]
            .as_i64()
            .unwrap();

        // Edit own; not others'.
        let edited = ask(
            &a,
            "edit_message",
            json!({"message_id": mine, "content": "fixed"}),
        )
        .await;
        assert_eq!(edited["message"]["content"], "fixed", "{backend:?}");
        assert!(edited["message"]["edited_at"].is_string());
        assert_eq!(
            next_event(&mut b_events, "message_edited").await["content"],
            "fixed"
        );
        let refused = ask(
            &a,
            "edit_message",
            json!({"message_id": from_charlie, "content": "mine now"}),
        )
        .await;
        assert_eq!(refused["code"], "not_your_message");

        // Reactions toggle.
        let on = ask(&b, "react", json!({"message_id": mine, "emoji": "👍"})).await;
        assert_eq!(on["on"], true);
        let update = next_event(&mut a_events, "reaction_updated").await;
        assert_eq!(update["reactions"][0], json!({"emoji": "👍", "count": 1}));
        // History and join answers carry the reactions, with whether the reader is among them.
        let reaction_of = |messages: &Value| {
            messages
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["id"] == mine)
                .unwrap()["reactions"]
                .clone()
        };
        let path = format!("/api/channels/{general}/messages");
        let (_, page) = call(&server, Some(&alice), "GET", &path, None).await;
        assert_eq!(
            reaction_of(&page["messages"]),
            json!([{"emoji": "👍", "count": 1, "me": false}]),
            "{backend:?}"
        );
        let (_, page) = call(&server, Some(&bob), "GET", &path, None).await;
        assert_eq!(
            reaction_of(&page["messages"]),
            json!([{"emoji": "👍", "count": 1, "me": true}])
        );
        let joined = ask(&b, "join_channel", json!({"channel_id": general})).await;
        assert_eq!(
            reaction_of(&joined["messages"]),
            json!([{"emoji": "👍", "count": 1, "me": true}])
        );
        let unreacted = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == from_charlie)
            .unwrap();
        assert!(unreacted.get("reactions").is_none());
        let off = ask(&b, "react", json!({"message_id": mine, "emoji": "👍"})).await;
        assert_eq!(off["on"], false);
        assert_eq!(
            ask(
                &b,
                "react",
                json!({"message_id": mine, "emoji": "two words"})
            )
            .await["code"],
            "invalid_emoji"
        );

        // Typing reaches others, throttled.
        assert_eq!(
            ask(&b, "typing", json!({"channel_id": general})).await["forwarded"],
            true
        );
        let typing = next_event(&mut a_events, "typing").await;
        assert_eq!(typing["username"], "bob");
        assert_eq!(
            ask(&b, "typing", json!({"channel_id": general})).await["forwarded"],
            false
        );

        // Unread counts and read markers; the user's other sockets hear of it.
        let (_, rooms) = call(&server, Some(&bob), "GET", "/api/rooms", None).await;
        let unread = |rooms: &Value| {
            rooms["rooms"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r["channels"].as_array().unwrap().clone())
                .find(|c| c["id"] == general)
                .unwrap()["unread"]
                .as_i64()
                .unwrap()
        };
        assert_eq!(unread(&rooms), 2);
        let (b2, mut b2_events) = connect(&server, &bob).await;
        let marked = ask(
            &b,
            "mark_read",
            json!({"channel_id": general, "message_id": mine}),
        )
        .await;
        assert_eq!(marked["unread"], 0);
        assert_eq!(next_event(&mut b2_events, "unread").await["unread"], 0);
        let (_, rooms) = call(&server, Some(&bob), "GET", "/api/rooms", None).await;
        assert_eq!(unread(&rooms), 0);
        b2.close().await;

        // Deletes: own, or any for admins (bob is an admin of Project X).
        let deleted = ask(&b, "delete_message", json!({"message_id": from_charlie})).await;
        assert_eq!(deleted["success"], true, "{deleted}");
        assert_eq!(
            next_event(&mut a_events, "message_deleted").await["id"],
            from_charlie
        );
        let denied = ask(&c, "delete_message", json!({"message_id": mine})).await;
        assert_eq!(denied["code"], "not_your_message");
        let (_, page) = call(
            &server,
            Some(&alice),
            "GET",
            &format!("/api/channels/{general}/messages"),
            None,
        )
        .await;
        let tomb = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == from_charlie)
            .unwrap()
            .clone();
        assert_eq!(tomb["deleted"], true);
        assert!(tomb["content"].is_null());
    }
}

#[tokio::test]
async fn presence_follows_first_and_last_socket() {
    let server = Server::start(Backend::Sqlite).await;
    let alice = token(&server, "alice", "password123").await;
    let bob = token(&server, "bob", "password456").await;
    let (_, me) = call(&server, Some(&bob), "GET", "/api/auth/me", None).await;
    let bob_id = me["user"]["id"].as_i64().unwrap();
    let (_a, mut a_events) = connect(&server, &alice).await;
    let (b1, _) = connect(&server, &bob).await;
    let online = next_event(&mut a_events, "presence").await;
    assert_eq!(online, json!({"user_id": bob_id, "online": true}));
    let (b2, _) = connect(&server, &bob).await;
    b1.close().await;
    // Bob still has a socket: no "offline".
    let quiet = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            let event = a_events.recv().await.expect("connection ended");
            if event.name == "presence" && event.data()["online"] == json!(false) {
                return event;
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "offline while a socket remained");
    b2.close().await;
    let offline = loop {
        let event = next_event(&mut a_events, "presence").await;
        if event["online"] == json!(false) {
            break event;
        }
    };
    assert_eq!(offline, json!({"user_id": bob_id, "online": false}));
}

#[tokio::test]
async fn a_new_socket_learns_who_is_already_online() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (_, me) = call(&server, Some(&bob), "GET", "/api/auth/me", None).await;
        let bob_id = me["user"]["id"].as_i64().unwrap();
        let (_b, _) = connect(&server, &bob).await;
        let (_a, mut a_events) = connect(&server, &alice).await;
        // One snapshot, not one event per person; charlie (offline) is not in it.
        let snapshot = next_event(&mut a_events, "presence_snapshot").await;
        assert_eq!(snapshot, json!({"online": [bob_id]}), "{backend:?}");
    }
}

#[tokio::test]
async fn handshake_requires_a_session_and_our_origin() {
    let server = Server::start(Backend::Sqlite).await;
    let alice = token(&server, "alice", "password123").await;
    assert!(
        Socket::connect(SocketOptions::new(&server.base).unwrap())
            .await
            .is_err(),
        "anonymous"
    );
    assert!(
        Socket::connect(SocketOptions::new(&server.base).unwrap().token("bogus"))
            .await
            .is_err()
    );
    let cross = SocketOptions::new(&server.base)
        .unwrap()
        .token(&alice)
        .header("Origin", "https://evil.example")
        .unwrap();
    assert!(
        Socket::connect(cross).await.is_err(),
        "cross-site handshake"
    );
    let cookie = SocketOptions::new(&server.base)
        .unwrap()
        .header("Cookie", &format!("securechat_session={alice}"))
        .unwrap()
        .header("Origin", &server.base)
        .unwrap();
    let (s, _) = Socket::connect(cookie)
        .await
        .expect("the session cookie authenticates");
    let general = channel_id(&server, &alice, "Lobby", "general").await;
    assert_eq!(
        ask(&s, "join_channel", json!({"channel_id": general})).await["success"],
        true
    );
}

#[tokio::test]
async fn limits_and_encrypted_channels() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let general = channel_id(&server, &alice, "Lobby", "general").await;
        let secrets = channel_id(&server, &alice, "Project X", "secrets").await;
        let (a, _events) = connect(&server, &alice).await;

        let big = send(&a, general, &"x".repeat(8 * 1024 + 1), "big").await;
        assert_eq!(big["code"], "payload_too_large", "{backend:?}");
        assert_eq!(
            send(&a, general, "   ", "blank").await["code"],
            "empty_message"
        );
        assert_eq!(
            send(&a, general, "ok", &"i".repeat(65)).await["code"],
            "invalid_client_msg_id"
        );

        let plain = send(&a, secrets, "plaintext secret", "p-1").await;
        assert_eq!(plain["code"], "plaintext_in_encrypted_channel");
        let sealed = ask(&a, "send_message", json!({"channel_id": secrets, "envelope": "AQEBAQ", "key_version": 1, "client_msg_id": "e-1"})).await;
        assert_eq!(sealed["code"], "no_channel_key", "{sealed}");
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM messages WHERE content LIKE '%plaintext secret%' AND id > $1",
                0
            )
            .await,
            0
        );

        // A burst over the per-user rate gets rate_limited acks with the wait.
        let mut limited = None;
        for i in 0..60 {
            let ack = send(&a, general, "spam", &format!("r-{i}")).await;
            if ack["code"] == "rate_limited" {
                limited = Some(ack);
                break;
            }
        }
        let limited = limited.expect("no rate limit after 60 rapid sends");
        assert!(limited["retry_after_ms"].as_u64().unwrap() >= 1);
    }
}

#[tokio::test]
async fn malformed_payloads_never_break_the_server() {
    let server = Server::start(Backend::Sqlite).await;
    let alice = token(&server, "alice", "password123").await;
    let bob = token(&server, "bob", "password456").await;
    let general = channel_id(&server, &alice, "Lobby", "general").await;
    let (b, mut b_events) = connect(&server, &bob).await;
    ask(&b, "join_channel", json!({"channel_id": general})).await;
    let (fuzzer, _) = connect(&server, &alice).await;
    let events = [
        "join_channel",
        "leave_channel",
        "send_message",
        "edit_message",
        "delete_message",
        "typing",
        "mark_read",
        "react",
        "no_such_event",
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut answered = 0;
    for _ in 0..3000 {
        let event = events[(next() % events.len() as u64) as usize];
        let payload = match next() % 10 {
            0 => json!(null),
            1 => json!(next() as i64),
            2 => json!("\u{0}\u{ffff}text"),
            3 => json!([1, 2, 3]),
            4 => json!({"channel_id": "nope", "content": 5}),
            5 => json!({"channel_id": next() as i64, "message_id": -1, "after": "x"}),
            6 => json!({"channel_id": general, "content": {"nested": [1]}, "client_msg_id": []}),
            7 => json!({"message_id": i64::MAX, "emoji": "x".repeat(100)}),
            8 => json!(vec![0u8; 2000]),
            _ => json!({"channel_id": general, "after": i64::MIN}),
        };
        if event == "no_such_event" {
            // Unknown events have no handler and so no ack.
            fuzzer.emit(event, &payload).await.unwrap();
            answered += 1;
            continue;
        }
        if let Ok(reply) = fuzzer
            .emit_with_ack(event, &payload, Duration::from_secs(2))
            .await
        {
            if reply["success"] == false {
                assert!(reply["code"].is_string(), "{event} {payload} -> {reply}");
            }
            answered += 1;
        }
    }
    assert!(answered > 2500, "only {answered} answers");
    // The other client is still served.
    let ack = send(&fuzzer, general, "still alive", "alive-1").await;
    assert_eq!(ack["success"], true);
    assert_eq!(
        next_event(&mut b_events, "new_message").await["content"],
        "still alive"
    );
    assert!(!server.log().contains("panicked"), "a handler panicked");
}

#[tokio::test]
async fn room_changes_are_pushed_live() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (dave_id, dave) = new_user(&server, "dave").await;
        let (_, created) = call(
            &server,
            Some(&alice),
            "POST",
            "/api/rooms",
            Some(json!({"name": "Live", "is_private": true})),
        )
        .await;
        let room = created["room"]["id"].as_i64().unwrap();
        let general = created["channels"][0]["id"].as_i64().unwrap();
        let (_, bob_me) = call(&server, Some(&bob), "GET", "/api/auth/me", None).await;
        let bob_id = bob_me["user"]["id"].as_i64().unwrap();
        let (_a, mut a_events) = connect(&server, &alice).await;
        let (b, mut b_events) = connect(&server, &bob).await;

        // Added while connected: bob's socket joins the room's events at once.
        call(
            &server,
            Some(&alice),
            "POST",
            &format!("/api/rooms/{room}/members"),
            Some(json!({"user_id": bob_id})),
        )
        .await;
        let joined = next_event(&mut a_events, "member_joined").await;
        assert_eq!(
            (joined["user_id"].as_i64(), joined["username"].as_str()),
            (Some(bob_id), Some("bob")),
            "{backend:?}"
        );
        next_event(&mut b_events, "member_joined").await;
        assert_eq!(
            ask(&b, "join_channel", json!({"channel_id": general})).await["success"],
            true
        );

        call(
            &server,
            Some(&alice),
            "PUT",
            &format!("/api/rooms/{room}/members/{bob_id}/role"),
            Some(json!({"role": "admin"})),
        )
        .await;
        assert_eq!(
            next_event(&mut b_events, "member_role_changed").await["role"],
            "admin"
        );

        let (_, channel) = call(
            &server,
            Some(&alice),
            "POST",
            &format!("/api/rooms/{room}/channels"),
            Some(json!({"name": "plans", "is_encrypted": true})),
        )
        .await;
        let plans = channel["channel"]["id"].as_i64().unwrap();
        let pushed = next_event(&mut b_events, "channel_created").await;
        assert_eq!(pushed["channel"]["name"], "plans");
        assert_eq!(pushed["channel"]["is_encrypted"], true);

        call(
            &server,
            Some(&alice),
            "PATCH",
            &format!("/api/rooms/{room}"),
            Some(json!({"description": "now live"})),
        )
        .await;
        assert_eq!(
            next_event(&mut b_events, "room_updated").await["description"],
            "now live"
        );

        call(
            &server,
            Some(&alice),
            "DELETE",
            &format!("/api/channels/{plans}"),
            None,
        )
        .await;
        assert_eq!(
            next_event(&mut b_events, "channel_deleted").await["channel_id"],
            plans
        );

        // A ban takes bob out of the channel on the spot.
        call(
            &server,
            Some(&alice),
            "POST",
            &format!("/api/rooms/{room}/bans"),
            Some(json!({"user_id": bob_id})),
        )
        .await;
        let left = next_event(&mut b_events, "member_left").await;
        assert_eq!(left["reason"], "banned");
        let (a2, _) = connect(&server, &alice).await;
        send(&a2, general, "after the ban", "ban-1").await;
        no_event(&mut b_events, "new_message", Duration::from_millis(400)).await;

        // Deleting the room tells its members.
        call(
            &server,
            Some(&alice),
            "POST",
            &format!("/api/rooms/{room}/members"),
            Some(json!({"user_id": dave_id})),
        )
        .await;
        let (_d, mut d_events) = connect(&server, &dave).await;
        call(
            &server,
            Some(&alice),
            "DELETE",
            &format!("/api/rooms/{room}"),
            None,
        )
        .await;
        assert_eq!(
            next_event(&mut d_events, "room_deleted").await["room_id"],
            room
        );
    }
}

#[tokio::test]
async fn ending_a_session_closes_its_sockets() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let first = token(&server, "alice", "password123").await;
        let second = token(&server, "alice", "password123").await;
        let general = channel_id(&server, &first, "Lobby", "general").await;
        let (s1, mut e1) = connect(&server, &first).await;
        let (s2, mut e2) = connect(&server, &second).await;

        // A password change from the second session ends the first.
        let (status, _) = call(
            &server,
            Some(&second),
            "POST",
            "/api/auth/password",
            Some(
                json!({"current_password": "password123", "new_password": "river-lantern-quiet-9"}),
            ),
        )
        .await;
        assert_eq!(status, 200, "{backend:?}");
        next_event(&mut e1, "session_ended").await;
        tokio::time::timeout(WAIT, s1.closed())
            .await
            .expect("the ended session's socket closes");
        assert_eq!(
            send(&s2, general, "still here", "s2-1").await["success"],
            true
        );

        // Logging out closes the session's own sockets.
        let (status, _) = call(&server, Some(&second), "POST", "/api/auth/logout", None).await;
        assert_eq!(status, 200);
        next_event(&mut e2, "session_ended").await;
        tokio::time::timeout(WAIT, s2.closed())
            .await
            .expect("the logged-out socket closes");
    }
}

/// Anonymous WebSockets sending frames far over the packet limit (12 MiB
/// CONNECT packets, under the library's default 16 MiB frame limit) are
/// closed when each frame's header is read: the server buffers none of it,
/// answers no CONNECT, and keeps serving everyone else promptly.
#[tokio::test]
async fn oversized_websocket_frames_are_refused_before_they_are_buffered() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let server = Server::start(Backend::Sqlite).await;
    let url = format!(
        "{}/socket.io/?EIO=4&transport=websocket",
        server.base.replacen("http", "ws", 1)
    );
    let before = rss_kib(server.pid());
    let mut attackers = Vec::new();
    for _ in 0..6 {
        let url = url.clone();
        attackers.push(tokio::spawn(async move {
            let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
            let open = ws.next().await.unwrap().unwrap();
            assert!(open.to_text().unwrap().starts_with('0'), "{open:?}");
            let mut packet = String::with_capacity(12 << 20);
            packet.push_str("40{\"pad\":\"");
            packet.push_str(&"x".repeat(12 << 20));
            packet.push_str("\"}");
            // The server may cut the connection while this is being written.
            let _ = ws.send(Message::text(packet)).await;
            loop {
                match tokio::time::timeout(WAIT, ws.next()).await {
                    Ok(Some(Ok(Message::Text(text)))) => {
                        assert!(
                            !text.starts_with("40") && !text.starts_with("44"),
                            "the oversized CONNECT was read and answered: {}",
                            &text[..text.len().min(80)]
                        );
                    }
                    Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => return,
                    Ok(Some(Ok(_))) => {}
                    Err(_) => panic!("the connection stayed open"),
                }
            }
        }));
    }
    let started = std::time::Instant::now();
    let (status, _) = call(&server, None, "GET", "/healthz", None).await;
    assert_eq!(status, 200);
    let healthz = started.elapsed();
    for attacker in attackers {
        attacker.await.unwrap();
    }
    let grown = rss_kib(server.pid()).saturating_sub(before);
    assert!(
        grown < 24 * 1024,
        "the server grew by {grown} KiB for 72 MiB it should not have buffered"
    );
    assert!(healthz < Duration::from_secs(2), "healthz took {healthz:?}");
    // A packet within the limit is still read and answered.
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.next().await.unwrap().unwrap();
    let mut packet = String::from("40{\"pad\":\"");
    packet.push_str(&"x".repeat(64 * 1024));
    packet.push_str("\"}");
    ws.send(Message::text(packet)).await.unwrap();
    let answer = loop {
        let next = tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        if next.to_text().unwrap() == "2" {
            ws.send(Message::text("3")).await.unwrap();
            continue;
        }
        break next;
    };
    assert!(
        answer.to_text().unwrap().starts_with("44"),
        "an anonymous CONNECT within the limit is refused by authentication: {answer:?}"
    );
}

/// One account holds at most `SOCKETS_PER_USER` sockets on a node; a further
/// handshake is refused with a reason, a closed socket frees its place, and
/// other people are not affected.
#[tokio::test]
async fn one_account_cannot_take_every_connection() {
    let server = Server::start_with(Backend::Sqlite, &[("SOCKETS_PER_USER", "5")]).await;
    let alice = token(&server, "alice", "password123").await;
    let mut open = Vec::new();
    for _ in 0..5 {
        open.push(connect(&server, &alice).await);
    }
    let options = || SocketOptions::new(&server.base).unwrap().token(&alice);
    let Err(refused) = Socket::connect(options()).await else {
        panic!("a sixth socket was accepted");
    };
    assert!(
        refused.to_string().contains("connections open"),
        "{refused}"
    );
    let bob = token(&server, "bob", "password456").await;
    let _bob = connect(&server, &bob).await;
    // Closing one frees a place (the count follows the disconnect).
    let (first, _) = open.remove(0);
    drop(first);
    let mut reconnected = None;
    for _ in 0..50 {
        if let Ok(socket) = Socket::connect(options()).await {
            reconnected = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reconnected.is_some(), "a place was freed");
}
