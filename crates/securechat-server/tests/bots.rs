//! Bot accounts against the real binary, on every configured storage
//! backend: who creates, lists and revokes a room's bots; an authorization
//! matrix for a bot token over REST and Socket.IO (inside its room it reads
//! and posts, outside it sees nothing and may not create, join, open DMs,
//! find people or administer); revoking fails the next request and closes
//! the bot's socket at once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;
use serde_json::{Value, json};
use testkit::{
    Server, WAIT, ask, backends, call, connect, db_execute, new_user, next_event, room_and_channel,
    token,
};

/// `POST /api/rooms/{room}/bots` as `who`.
async fn create_bot(server: &Server, who: Option<&str>, room: i64, name: &str) -> (u16, Value) {
    call(
        server,
        who,
        "POST",
        &format!("/api/rooms/{room}/bots"),
        Some(json!({"username": name})),
    )
    .await
}

/// `GET path` as `who`: the JSON answer of a 200.
async fn get(server: &Server, who: &str, path: &str) -> Value {
    let (status, body) = call(server, Some(who), "GET", path, None).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// The messages of `channel` as `who` reads them.
async fn history(server: &Server, who: &str, channel: i64) -> Vec<Value> {
    let page = get(server, who, &format!("/api/channels/{channel}/messages")).await;
    page["messages"].as_array().unwrap().clone()
}

/// A bot alice made in Project X: (room, general, bot id, bot token).
async fn project_bot(server: &Server, alice: &str) -> (i64, i64, i64, String) {
    let (room, general) = room_and_channel(server, alice, "Project X", "general").await;
    let (s, made) = create_bot(server, Some(alice), room, "helper-bot").await;
    assert_eq!(s, 201, "{made}");
    let id = made["bot"]["id"].as_i64().unwrap();
    (
        room,
        general,
        id,
        made["token"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn room_admins_and_site_admins_create_bots_others_cannot() {
    for backend in backends() {
        let server = Server::start(backend).await;
        // Project X (private): alice owns it, bob is an admin, charlie a
        // member; dave is in no room with them.
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let admin = token(&server, "admin", "admin123").await;
        let (_, dave) = new_user(&server, "dave").await;
        let (room, _) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (lobby, _) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let expect = [
            (Some(&alice), "alice-bot", 201),
            (Some(&bob), "bob-bot", 201),
            (Some(&charlie), "charlie-bot", 403),
            (Some(&dave), "dave-bot", 404),
            (None, "nobody-bot", 401),
        ];
        for (who, name, status) in expect {
            let (s, made) = create_bot(&server, who.map(String::as_str), room, name).await;
            assert_eq!(s, status, "{backend:?} {name}: {made}");
            if s == 201 {
                assert_eq!(made["bot"]["username"], name);
                assert_eq!(made["bot"]["is_bot"], true);
                assert_eq!(made["joined"], json!([room]));
                assert!(made["token"].as_str().unwrap().starts_with("scb_"));
            }
        }
        // A member of a room they do not manage cannot either.
        assert_eq!(
            create_bot(&server, Some(&alice), lobby, "lobby-bot")
                .await
                .0,
            403
        );
        // The name rules and uniqueness of every account hold.
        assert_eq!(
            create_bot(&server, Some(&alice), room, "alice-bot").await.0,
            409
        );
        assert_eq!(create_bot(&server, Some(&alice), room, "x").await.0, 422);

        // The members list marks them.
        let members = get(&server, &charlie, &format!("/api/rooms/{room}/members")).await;
        let members = members["members"].as_array().unwrap();
        let bots: Vec<&str> = members
            .iter()
            .filter(|m| m["is_bot"] == true)
            .map(|m| m["username"].as_str().unwrap())
            .collect();
        assert_eq!(bots, ["alice-bot", "bob-bot"], "{backend:?}");
        assert!(
            members
                .iter()
                .any(|m| m["username"] == "alice" && m["is_bot"] == false)
        );

        // Admins list the room's bots; members do not.
        let path = format!("/api/rooms/{room}/bots");
        let (s, listed) = call(&server, Some(&bob), "GET", &path, None).await;
        assert_eq!(s, 200, "{listed}");
        assert_eq!(listed["bots"].as_array().unwrap().len(), 2);
        assert_eq!(
            call(&server, Some(&charlie), "GET", &path, None).await.0,
            403
        );
        assert_eq!(call(&server, Some(&dave), "GET", &path, None).await.0, 404);

        // Site admins create bots for any rooms; nobody else.
        let body = json!({"username": "site-bot", "room_ids": [room, lobby]});
        let (s, _) = call(
            &server,
            Some(&alice),
            "POST",
            "/api/admin/bots",
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, 403);
        let (s, made) = call(&server, Some(&admin), "POST", "/api/admin/bots", Some(body)).await;
        assert_eq!(s, 201, "{backend:?}: {made}");
        let mut joined: Vec<i64> = serde_json::from_value(made["joined"].clone()).unwrap();
        joined.sort_unstable();
        let mut both = vec![room, lobby];
        both.sort_unstable();
        assert_eq!(joined, both);
        let body = json!({"username": "ghost-bot", "room_ids": [999_999]});
        let (s, _) = call(&server, Some(&admin), "POST", "/api/admin/bots", Some(body)).await;
        assert_eq!(s, 404);
        // A bot has no password to sign in with.
        assert_eq!(
            testkit::login_status(&server, "alice-bot", "plum-kettle-orbit-7").await,
            401
        );
    }
}

#[tokio::test]
async fn a_bot_token_reaches_its_room_and_nothing_beyond() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let admin = token(&server, "admin", "admin123").await;
        let (room, general, bot_id, bot) = project_bot(&server, &alice).await;
        let (lobby, lobby_general) = room_and_channel(&server, &alice, "Lobby", "general").await;
        // Nobody makes it a member of a room its token does not reach...
        let (s, body) = call(
            &server,
            Some(&admin),
            "POST",
            &format!("/api/rooms/{lobby}/members"),
            Some(json!({"user_id": bot_id})),
        )
        .await;
        assert_eq!(s, 403, "{body}");
        assert_eq!(body["code"], "bot_out_of_scope");
        // ...and were it a member (a row written behind the server's
        // back), the token still would not reach the room.
        db_execute(
            &server,
            "INSERT INTO room_members (room_id, user_id, role, joined_at) \
             SELECT r.id, u.id, 'member', 0 FROM rooms r, users u \
             WHERE r.name = 'Lobby' AND u.username = 'helper-bot'",
        )
        .await;

        let (s, me) = call(&server, Some(&bot), "GET", "/api/auth/me", None).await;
        assert_eq!(s, 200, "{me}");
        assert_eq!(me["user"]["is_bot"], true);
        assert_eq!(me["user"]["id"], bot_id);

        let matrix: [(&str, String, Option<Value>, u16); 14] = [
            ("GET", format!("/api/rooms/{room}"), None, 200),
            ("GET", format!("/api/rooms/{room}/members"), None, 200),
            (
                "GET",
                format!("/api/channels/{general}/messages"),
                None,
                200,
            ),
            ("GET", format!("/api/rooms/{lobby}"), None, 404),
            ("GET", format!("/api/rooms/{lobby}/members"), None, 404),
            (
                "GET",
                format!("/api/channels/{lobby_general}/messages"),
                None,
                404,
            ),
            (
                "POST",
                "/api/rooms".into(),
                Some(json!({"name": "Bot room"})),
                403,
            ),
            ("POST", format!("/api/rooms/{lobby}/join"), None, 403),
            ("POST", "/api/dms".into(), Some(json!({"user_id": 1})), 403),
            ("GET", "/api/admin/users".into(), None, 403),
            ("GET", "/api/users?q=alice".into(), None, 403),
            (
                "POST",
                "/api/users/me/delete".into(),
                Some(json!({"password": "x"})),
                403,
            ),
            (
                "POST",
                format!("/api/rooms/{room}/bots"),
                Some(json!({"username": "b2"})),
                403,
            ),
            ("POST", "/api/auth/logout-all".into(), None, 403),
        ];
        for (method, path, body, status) in matrix {
            let (s, answer) = call(&server, Some(&bot), method, &path, body).await;
            assert_eq!(s, status, "{backend:?} {method} {path}: {answer}");
            if status == 403 {
                assert_eq!(answer["code"], "bot_not_allowed", "{method} {path}");
            }
            if status == 404 {
                assert!(
                    answer["code"].as_str().unwrap().ends_with("_not_found"),
                    "{answer}"
                );
            }
        }

        // Over Socket.IO: posting in its room works, and people see the
        // sender marked as a bot; another room's channel is unknown to it.
        let (socket, _events) = connect(&server, &bot).await;
        let ack = ask(
            &socket,
            "send_message",
            json!({"channel_id": general, "content": "beep", "client_msg_id": "bot-1"}),
        )
        .await;
        assert_eq!(ack["success"], true, "{backend:?}: {ack}");
        let ack = ask(
            &socket,
            "send_message",
            json!({"channel_id": lobby_general, "content": "out", "client_msg_id": "bot-2"}),
        )
        .await;
        assert_eq!(ack["success"], false, "{backend:?}: {ack}");
        assert_eq!(ack["code"], "channel_not_found");
        let ack = ask(
            &socket,
            "join_channel",
            json!({"channel_id": lobby_general}),
        )
        .await;
        assert_eq!(ack["success"], false, "{ack}");
        let sent = history(&server, &alice, general)
            .await
            .into_iter()
            .find(|m| m["content"] == "beep")
            .expect("the bot's message")
            .clone();
        assert_eq!(sent["sender_is_bot"], true);
        assert_eq!(sent["sender_id"], bot_id);
        assert!(
            history(&server, &alice, lobby_general)
                .await
                .iter()
                .all(|m| m["content"] != "out")
        );
    }
}

#[tokio::test]
async fn revoking_fails_the_next_request_and_closes_the_socket_at_once() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (room, _general, bot_id, bot) = project_bot(&server, &alice).await;
        let (socket, mut events) = connect(&server, &bot).await;
        let path = format!("/api/rooms/{room}/bots/{bot_id}");
        assert_eq!(
            call(&server, Some(&charlie), "DELETE", &path, None).await.0,
            403
        );
        assert_eq!(
            call(&server, Some(&bot), "GET", "/api/auth/me", None)
                .await
                .0,
            200
        );

        let (s, body) = call(&server, Some(&alice), "DELETE", &path, None).await;
        assert_eq!(s, 200, "{backend:?}: {body}");
        assert_eq!(
            call(&server, Some(&bot), "GET", "/api/auth/me", None)
                .await
                .0,
            401
        );
        next_event(&mut events, "session_ended").await;
        tokio::time::timeout(WAIT, socket.closed())
            .await
            .expect("the revoked bot's socket closes");
        // A new socket is refused, it left the room, and it is gone from
        // the room's bots.
        let options = securechat_client::SocketOptions::new(&server.base)
            .unwrap()
            .token(&bot);
        assert!(securechat_client::Socket::connect(options).await.is_err());
        let members = get(&server, &alice, &format!("/api/rooms/{room}/members")).await;
        assert!(
            members["members"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["user_id"] != bot_id),
            "{members}"
        );
        // It stays on the room's list, marked revoked.
        let listed = get(&server, &alice, &format!("/api/rooms/{room}/bots")).await;
        assert_eq!(listed["bots"].as_array().unwrap().len(), 1, "{listed}");
        assert_eq!(listed["bots"][0]["id"], bot_id);
        assert_eq!(listed["bots"][0]["created_by_username"], "alice");
        assert!(listed["bots"][0]["revoked_at"].is_string(), "{listed}");
        assert_eq!(
            call(&server, Some(&alice), "DELETE", &path, None).await.0,
            404
        );
        // A revoked bot gets no new token.
        let (s, _) = call(
            &server,
            Some(&alice),
            "POST",
            &format!("{path}/token"),
            None,
        )
        .await;
        assert_eq!(s, 404, "{backend:?}");
    }
}

#[tokio::test]
async fn a_new_token_replaces_the_old_one_at_once_and_reaches_no_further() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let charlie = token(&server, "charlie", "password789").await;
        let admin = token(&server, "admin", "admin123").await;
        let (_, dave) = new_user(&server, "dave").await;
        let (room, general, bot_id, old) = project_bot(&server, &alice).await;
        let (lobby, _) = room_and_channel(&server, &admin, "Lobby", "general").await;
        let (socket, mut events) = connect(&server, &old).await;
        let path = format!("/api/rooms/{room}/bots/{bot_id}/token");
        // Members below admin, outsiders, anonymous callers and the bot
        // itself get none.
        for (who, status) in [
            (Some(&charlie), 403),
            (Some(&dave), 404),
            (None, 401),
            (Some(&old), 403),
        ] {
            let (s, body) = call(&server, who.map(String::as_str), "POST", &path, None).await;
            assert_eq!(s, status, "{backend:?}: {body}");
        }
        // A bot of another room is not this room's to renew.
        let (s, other) = call(
            &server,
            Some(&admin),
            "POST",
            &format!("/api/rooms/{lobby}/bots"),
            Some(json!({"username": "lobby-bot"})),
        )
        .await;
        assert_eq!(s, 201, "{other}");
        let other_path = format!("/api/rooms/{room}/bots/{}/token", other["bot"]["id"]);
        let (s, body) = call(&server, Some(&alice), "POST", &other_path, None).await;
        assert_eq!(s, 404, "{body}");
        assert_eq!(body["code"], "bot_not_found");

        let (s, made) = call(&server, Some(&alice), "POST", &path, None).await;
        assert_eq!(s, 201, "{backend:?}: {made}");
        let new = made["token"].as_str().unwrap().to_owned();
        assert!(new.starts_with("scb_") && new != old);
        // The old token fails at once and its socket closes; the new one
        // reaches the same room, and the bot is still a member there.
        let me = |t: String| {
            let server = &server;
            async move { call(server, Some(&t), "GET", "/api/auth/me", None).await.0 }
        };
        assert_eq!(me(old.clone()).await, 401);
        next_event(&mut events, "session_ended").await;
        tokio::time::timeout(WAIT, socket.closed())
            .await
            .expect("the old token's socket closes");
        assert_eq!(me(new.clone()).await, 200);
        let messages = format!("/api/channels/{general}/messages");
        assert_eq!(
            call(&server, Some(&new), "GET", &messages, None).await.0,
            200
        );
        let (s, _) = call(
            &server,
            Some(&new),
            "GET",
            &format!("/api/rooms/{lobby}"),
            None,
        )
        .await;
        assert_eq!(s, 404, "the new token reaches no further");
        let listed = get(&server, &alice, &format!("/api/rooms/{room}/bots")).await;
        assert_eq!(listed["bots"].as_array().unwrap().len(), 1, "{listed}");
        assert!(listed["bots"][0].get("revoked_at").is_none(), "{listed}");

        // Two replacements at once: each revokes what is live when it
        // writes (the other's new token too, when it comes second; nothing,
        // when the other revoked first: 404), so one token is live after.
        let (a, b) = tokio::join!(
            call(&server, Some(&alice), "POST", &path, None),
            call(&server, Some(&alice), "POST", &path, None)
        );
        for (s, body) in [&a, &b] {
            assert!(*s == 201 || *s == 404, "{backend:?}: {s} {body}");
        }
        let made: Vec<String> = [a, b]
            .into_iter()
            .filter_map(|(_, body)| body["token"].as_str().map(str::to_owned))
            .collect();
        assert!(!made.is_empty());
        let mut working = 0;
        for t in &made {
            if me(t.clone()).await == 200 {
                working += 1;
            }
        }
        assert_eq!(working, 1, "{backend:?}: one live token after both");
        assert_eq!(me(new.clone()).await, 401);
    }
}
