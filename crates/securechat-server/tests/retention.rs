//! Retention and disappearing messages against the real binary, on every
//! configured storage backend: who may set each policy, the events that
//! carry them, `expires_at` on messages, disappeared messages hidden from
//! every read at once and then purged, the purge of messages past a room's
//! retention with their files, reactions, pins, saved rows, search entries
//! and old key shares, and writers that keep sending while it runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::time::Duration;

use serde_json::{Value, json};
use testkit::{
    Server, ask, backends, call, connect, db_count, db_count_becomes, db_execute, next_event,
    room_and_channel, token,
};

/// A server whose purge job runs every second.
async fn eager(backend: testkit::Backend) -> Server {
    Server::start_with(backend, &[("RETENTION_PURGE_SECS", "1")]).await
}

/// A server whose purge job runs once at start and then not for an hour.
async fn lazy(backend: testkit::Backend) -> Server {
    Server::start_with(backend, &[("RETENTION_PURGE_SECS", "3600")]).await
}

/// Sends `text` to `channel` with `client_msg_id` `text`, waiting out the
/// send rate limit; the ack's message.
async fn post(socket: &securechat_client::Socket, channel: i64, text: &str) -> Value {
    loop {
        let ack = ask(
            socket,
            "send_message",
            json!({"channel_id": channel, "content": text, "client_msg_id": text.replace(' ', "-")}),
        )
        .await;
        if ack["code"] == "rate_limited" {
            let wait = ack["retry_after_ms"].as_u64().unwrap_or(50);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            continue;
        }
        assert_eq!(ack["success"], true, "{ack}");
        return ack["message"].clone();
    }
}

/// Replies to `root` in its thread (kept there); the reply's id.
async fn reply(socket: &securechat_client::Socket, channel: i64, root: i64, text: &str) -> i64 {
    let ack = ask(
        socket,
        "send_message",
        json!({"channel_id": channel, "content": text, "thread_root_id": root,
               "client_msg_id": text.replace(' ', "-")}),
    )
    .await;
    assert_eq!(ack["success"], true, "{ack}");
    ack["message"]["id"].as_i64().unwrap()
}

async fn put(server: &Server, token: &str, path: &str, body: Value) -> (u16, Value) {
    call(server, Some(token), "PUT", path, Some(body)).await
}

/// The contents of the channel's latest history page, oldest first.
async fn history(server: &Server, token: &str, channel: i64) -> Vec<String> {
    let (s, body) = call(
        server,
        Some(token),
        "GET",
        &format!("/api/channels/{channel}/messages?limit=100"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn only_the_owner_sets_retention_and_admins_set_timers() {
    for backend in backends() {
        let server = lazy(backend).await;
        // Project X: alice owns it, bob is an admin, charlie a member.
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (project, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (_b, mut b_events) = connect(&server, &bob).await;
        let retention = format!("/api/rooms/{project}/retention");

        for (who, status) in [(&charlie, 403), (&bob, 403)] {
            let (s, body) = put(&server, who, &retention, json!({"days": 30})).await;
            assert_eq!(s, status, "{backend:?}: {body}");
            assert_eq!(body["code"], "insufficient_role");
        }
        for bad in [json!(0), json!(3651), json!(-1), json!("30")] {
            let (s, body) = put(&server, &alice, &retention, json!({ "days": bad })).await;
            assert_eq!(s, 422, "{bad}: {body}");
        }
        let (s, body) = put(&server, &alice, &retention, json!({"days": 30})).await;
        assert_eq!(
            (s, &body),
            (200, &json!({"success": true, "retention_days": 30}))
        );
        let event = next_event(&mut b_events, "room_updated").await;
        assert_eq!(
            (event["room_id"].as_i64(), &event["retention_days"]),
            (Some(project), &json!(30))
        );
        let (_, rooms) = call(&server, Some(&charlie), "GET", "/api/rooms", None).await;
        let listed = rooms["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == project)
            .unwrap()
            .clone();
        assert_eq!(listed["retention_days"], 30);
        let (s, body) = put(&server, &alice, &retention, json!({"days": null})).await;
        assert_eq!((s, &body["retention_days"]), (200, &Value::Null));
        assert_eq!(
            next_event(&mut b_events, "room_updated").await["retention_days"],
            Value::Null
        );

        let timer = format!("/api/channels/{general}/disappearing");
        let (s, body) = put(&server, &charlie, &timer, json!({"seconds": 3600})).await;
        assert_eq!((s, &body["code"]), (403, &json!("insufficient_role")));
        for bad in [299, 2_419_201] {
            let (s, body) = put(&server, &bob, &timer, json!({ "seconds": bad })).await;
            assert_eq!(
                (s, &body["code"]),
                (422, &json!("invalid_disappearing")),
                "{bad}"
            );
        }
        let (s, body) = put(&server, &bob, &timer, json!({"seconds": 300})).await;
        assert_eq!(
            (s, &body),
            (200, &json!({"success": true, "disappearing_seconds": 300}))
        );
        let event = next_event(&mut b_events, "channel_updated").await;
        assert_eq!(event["channel"]["id"], general);
        assert_eq!(event["channel"]["disappearing_seconds"], 300);
        // An outsider learns nothing: 404 as for a missing room.
        let (_, dave) = testkit::new_user(&server, "dave").await;
        assert_eq!(
            put(&server, &dave, &retention, json!({"days": 1})).await.0,
            404
        );
        assert_eq!(
            put(&server, &dave, &timer, json!({"seconds": 300})).await.0,
            404
        );
    }
}

#[tokio::test]
async fn disappeared_messages_are_hidden_at_once_everywhere() {
    for backend in backends() {
        let server = lazy(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (socket, _events) = connect(&server, &alice).await;
        let kept = post(&socket, general, "kept forever").await;
        assert_eq!(kept["expires_at"], Value::Null);
        let timer = format!("/api/channels/{general}/disappearing");
        assert_eq!(
            put(&server, &alice, &timer, json!({"seconds": 300}))
                .await
                .0,
            200
        );
        let vanishing = post(&socket, general, "vanishing words").await;
        let created = db_count(
            &server,
            "SELECT created_at FROM messages WHERE id = $1",
            vanishing["id"].as_i64().unwrap(),
        )
        .await;
        assert_eq!(vanishing["expires_at"], created + 300_000, "{backend:?}");
        let id = vanishing["id"].as_i64().unwrap();
        assert_eq!(
            put(
                &server,
                &alice,
                &format!("/api/channels/{general}/pins/{id}"),
                json!({})
            )
            .await
            .0,
            200
        );
        assert_eq!(
            put(&server, &alice, &format!("/api/saved/{id}"), json!({}))
                .await
                .0,
            200
        );
        let joined = ask(&socket, "join_channel", json!({"channel_id": general})).await;
        assert!(joined.to_string().contains("vanishing words"), "{joined}");

        // Its time passes: every read leaves it out at once, though the
        // purge job (next pass in an hour) has not deleted it.
        db_execute(
            &server,
            "UPDATE messages SET expires_at = 1 WHERE content = 'vanishing words'",
        )
        .await;
        assert_eq!(history(&server, &alice, general).await, ["kept forever"]);
        let joined = ask(
            &socket,
            "join_channel",
            json!({"channel_id": general, "after": 0}),
        )
        .await;
        assert!(!joined.to_string().contains("vanishing words"), "{joined}");
        let (_, found) = call(
            &server,
            Some(&alice),
            "GET",
            "/api/search?q=vanishing",
            None,
        )
        .await;
        assert_eq!(
            found["results"].as_array().map(Vec::len),
            Some(0),
            "{found}"
        );
        let (_, pins) = call(
            &server,
            Some(&alice),
            "GET",
            &format!("/api/channels/{general}/pins"),
            None,
        )
        .await;
        assert_eq!(pins["pins"], json!([]));
        let (_, saved) = call(&server, Some(&alice), "GET", "/api/saved", None).await;
        assert_eq!(saved["saved"].as_array().map(Vec::len), Some(0), "{saved}");
        assert_eq!(
            db_count(&server, "SELECT COUNT(*) FROM messages WHERE id = $1", id).await,
            1
        );

        // Turning the timer off leaves messages sent after it alone.
        assert_eq!(
            put(&server, &alice, &timer, json!({"seconds": null}))
                .await
                .0,
            200
        );
        assert_eq!(
            post(&socket, general, "after the timer").await["expires_at"],
            Value::Null
        );
    }
}

#[tokio::test]
async fn disappeared_messages_are_purged_and_announced() {
    for backend in backends() {
        let server = eager(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (socket, _) = connect(&server, &alice).await;
        let (bob_socket, mut bob_events) = connect(&server, &bob).await;
        let joined = ask(&bob_socket, "join_channel", json!({"channel_id": general})).await;
        assert_eq!(joined["success"], true, "{joined}");
        // A thread started before the timer, answered after it.
        let root = post(&socket, general, "plan before the timer").await["id"]
            .as_i64()
            .unwrap();
        let timer = format!("/api/channels/{general}/disappearing");
        assert_eq!(
            put(&server, &alice, &timer, json!({"seconds": 300}))
                .await
                .0,
            200
        );
        let gone = post(&socket, general, "soon gone").await["id"]
            .as_i64()
            .unwrap();
        let stays = post(&socket, general, "stays a while").await["id"]
            .as_i64()
            .unwrap();
        let reply_gone = reply(&socket, general, root, "soon gone in the thread").await;
        reply(&socket, general, root, "stays in the thread").await;
        ask(&socket, "react", json!({"message_id": gone, "emoji": "👍"})).await;
        let replies = "SELECT reply_count FROM thread_summaries WHERE root_id = $1";
        assert_eq!(db_count(&server, replies, root).await, 2);
        db_execute(
            &server,
            "UPDATE messages SET expires_at = 1 WHERE content LIKE 'soon gone%'",
        )
        .await;

        let mut deleted: Vec<i64> = Vec::new();
        while deleted.len() < 2 {
            let event = next_event(&mut bob_events, "messages_deleted").await;
            assert_eq!(event["channel_id"], general, "{backend:?}");
            deleted.extend(
                event["ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|id| id.as_i64().unwrap()),
            );
        }
        deleted.sort_unstable();
        assert_eq!(deleted, [gone, reply_gone]);
        let count = "SELECT COUNT(*) FROM messages WHERE id = $1";
        assert_eq!(db_count(&server, count, gone).await, 0);
        assert_eq!(db_count(&server, count, stays).await, 1);
        let reactions = "SELECT COUNT(*) FROM reactions WHERE message_id = $1";
        assert_eq!(db_count(&server, reactions, gone).await, 0);
        // The purged reply left its thread's count; the other stays.
        assert_eq!(db_count(&server, replies, root).await, 1);
    }
}

#[tokio::test]
async fn a_retention_policy_purges_old_messages_files_and_key_shares() {
    for backend in backends() {
        let server = eager(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (project, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (socket, mut events) = connect(&server, &alice).await;
        let joined = ask(&socket, "join_channel", json!({"channel_id": general})).await;
        assert_eq!(joined["success"], true, "{joined}");
        let old = post(&socket, general, "old news").await["id"]
            .as_i64()
            .unwrap();
        let (s, posted) = upload(&server, &alice, general, b"an old file".to_vec()).await;
        assert_eq!(s, 201, "{posted}");
        let old_file_message = posted["message"]["id"].as_i64().unwrap();
        let file = posted["file"]["id"].as_i64().unwrap();
        ask(&socket, "react", json!({"message_id": old, "emoji": "👍"})).await;
        assert_eq!(
            put(
                &server,
                &alice,
                &format!("/api/channels/{general}/pins/{old}"),
                json!({})
            )
            .await
            .0,
            200
        );
        assert_eq!(
            put(&server, &alice, &format!("/api/saved/{old}"), json!({}))
                .await
                .0,
            200
        );
        // Ten days ago, by the database's clock.
        db_execute(
            &server,
            "UPDATE messages SET created_at = created_at - 864000000",
        )
        .await;
        let fresh = post(&socket, general, "fresh news").await["id"]
            .as_i64()
            .unwrap();
        // Key shares of the channel: versions 1, 2 and 3 (current) sealed
        // for alice ten days ago, version 1 also for bob in the future.
        db_execute(
            &server,
            "UPDATE channels SET key_version = 3 WHERE name = 'general' \
            AND room_id = (SELECT id FROM rooms WHERE name = 'Project X')",
        )
        .await;
        db_execute(
            &server,
            "INSERT INTO channel_keys (channel_id, key_version, recipient_id, \
            sender_id, encrypted_key, is_key_rotation, created_at) \
            SELECT c.id, v.version, u.id, u.id, 'sealed', FALSE, v.at \
            FROM channels c JOIN rooms r ON r.id = c.room_id \
            CROSS JOIN (SELECT 1 AS version, 1000 AS at UNION ALL SELECT 2, 1000 \
                        UNION ALL SELECT 3, 1000) v \
            JOIN users u ON u.username = 'alice' \
            WHERE r.name = 'Project X' AND c.name = 'general'",
        )
        .await;
        db_execute(
            &server,
            "INSERT INTO channel_keys (channel_id, key_version, recipient_id, \
            sender_id, encrypted_key, is_key_rotation, created_at) \
            SELECT c.id, 1, u.id, u.id, 'sealed', FALSE, 9000000000000 \
            FROM channels c JOIN rooms r ON r.id = c.room_id JOIN users u ON u.username = 'bob' \
            WHERE r.name = 'Project X' AND c.name = 'general'",
        )
        .await;
        // The kept message was sent under version 2.
        db_execute(
            &server,
            "UPDATE messages SET key_version = 2 WHERE content = 'fresh news'",
        )
        .await;

        let retention = format!("/api/rooms/{project}/retention");
        assert_eq!(
            put(&server, &alice, &retention, json!({"days": 7})).await.0,
            200
        );
        let count = "SELECT COUNT(*) FROM messages WHERE id = $1";
        db_count_becomes(&server, count, old, 0, "the purge").await;
        db_count_becomes(&server, count, old_file_message, 0, "the purge").await;
        assert_eq!(db_count(&server, count, fresh).await, 1, "{backend:?}");
        assert_eq!(history(&server, &alice, general).await, ["fresh news"]);
        let mut announced = Vec::new();
        while announced.len() < 2 {
            let event = next_event(&mut events, "messages_deleted").await;
            assert_eq!(event["channel_id"], general);
            announced.extend(
                event["ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i.as_i64().unwrap()),
            );
        }
        announced.sort_unstable();
        assert_eq!(announced, [old, old_file_message]);
        for sql in [
            "SELECT COUNT(*) FROM reactions WHERE message_id = $1",
            "SELECT COUNT(*) FROM pins WHERE message_id = $1",
            "SELECT COUNT(*) FROM saved_messages WHERE message_id = $1",
        ] {
            assert_eq!(db_count(&server, sql, old).await, 0, "{sql}");
        }
        let (status, found) = call(&server, Some(&alice), "GET", "/api/search?q=news", None).await;
        assert_eq!(status, 200, "{found}");
        let found: Vec<&str> = found["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["message"]["content"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(found, ["fresh news"]);
        if backend == testkit::Backend::Sqlite {
            let indexed = "SELECT COUNT(*) FROM messages_fts WHERE rowid = $1";
            assert_eq!(db_count(&server, indexed, old).await, 0);
        }
        // The file is marked deleted with its message, and the sweep
        // (at start, then every minute) removes it; its download is gone.
        let live_file = "SELECT COUNT(*) FROM files WHERE id = $1 AND deleted_at IS NULL";
        assert_eq!(db_count(&server, live_file, file).await, 0);
        let (s, _) = call(
            &server,
            Some(&alice),
            "GET",
            &format!("/api/files/{file}"),
            None,
        )
        .await;
        assert_eq!(s, 404);
        // Shares: alice's old v1 goes; bob's v1 (newer than the policy),
        // v2 (the kept message's) and v3 (current) stay.
        let shares = "SELECT COUNT(*) FROM channel_keys WHERE channel_id = $1";
        db_count_becomes(&server, shares, general, 3, "the purge").await;
        let v1 = "SELECT COUNT(*) FROM channel_keys WHERE channel_id = $1 AND key_version = 1";
        assert_eq!(db_count(&server, v1, general).await, 1);
        let v2 = "SELECT COUNT(*) FROM channel_keys WHERE channel_id = $1 AND key_version = 2";
        assert_eq!(db_count(&server, v2, general).await, 1);
    }
}

#[tokio::test]
async fn writers_keep_sending_while_a_large_purge_runs() {
    const SEEDED: i64 = 3000;
    const SENT: usize = 60;
    for backend in backends() {
        let server = eager(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (project, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        db_execute(
            &server,
            "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n \
            WHERE i < 3000) \
            INSERT INTO messages (channel_id, sender_id, content, client_msg_id, created_at) \
            SELECT c.id, u.id, 'seeded text ' || n.i, 'seed-' || n.i, 1000 + n.i \
            FROM n CROSS JOIN channels c JOIN rooms r ON r.id = c.room_id \
            JOIN users u ON u.username = 'alice' \
            WHERE r.name = 'Project X' AND c.name = 'general'",
        )
        .await;
        let seeded = "SELECT COUNT(*) FROM messages WHERE channel_id = $1";
        assert_eq!(db_count(&server, seeded, general).await, SEEDED);
        let (socket, _) = connect(&server, &alice).await;
        let retention = format!("/api/rooms/{project}/retention");
        assert_eq!(
            put(&server, &alice, &retention, json!({"days": 1})).await.0,
            200
        );
        let started = std::time::Instant::now();
        let mut ids = Vec::new();
        for i in 0..SENT {
            ids.push(
                post(&socket, general, &format!("during the purge {i}")).await["id"]
                    .as_i64()
                    .unwrap(),
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{backend:?}: sending took {:?}",
            started.elapsed()
        );
        db_count_becomes(&server, seeded, general, SENT as i64, "the sends").await;
        let texts = history(&server, &alice, general).await;
        assert_eq!(texts.len(), SENT);
        assert!(texts.iter().all(|t| t.starts_with("during the purge")));
    }
}

async fn upload(server: &Server, token: &str, channel: i64, bytes: Vec<u8>) -> (u16, Value) {
    let response = testkit::api_client()
        .post(server.url(&format!("/api/channels/{channel}/files?name=old.txt")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
