//! Pins and saved messages against the real binary, on every configured
//! storage backend: who may pin (admins, members only when the room lets
//! them, outsiders never), the per-channel cap under parallel requests,
//! deleted messages leaving both lists, the live `pins_updated` event, and
//! saved messages' privacy, paging, cap and departure from a room.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::time::Duration;

use serde_json::{Value, json};
use testkit::{
    Server, ask, backends, call, connect, db_execute, new_user, next_event, no_event,
    room_and_channel, token,
};

const MAX_PINS: usize = 50;
const MAX_SAVED: i64 = 1000;
/// Parallel pins racing for the last two places.
const RACERS: usize = 30;

/// Sends `text` to `channel`, waiting out the send rate limit; the new
/// message's id.
async fn post(socket: &securechat_client::Socket, channel: i64, text: &str) -> i64 {
    loop {
        let ack = ask(
            socket,
            "send_message",
            json!({"channel_id": channel, "content": text, "client_msg_id": format!("pins-{text}")}),
        )
        .await;
        if ack["code"] == "rate_limited" {
            let wait = ack["retry_after_ms"].as_u64().unwrap_or(50);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            continue;
        }
        assert_eq!(ack["success"], true, "{ack}");
        return ack["message"]["id"].as_i64().unwrap();
    }
}

async fn put(server: &Server, token: &str, path: &str) -> (u16, Value) {
    call(server, Some(token), "PUT", path, None).await
}

/// The ids of the channel's pins, as `token` lists them (asserting 200).
async fn pin_ids(server: &Server, token: &str, channel: i64) -> (Vec<i64>, Value) {
    let (s, body) = call(
        server,
        Some(token),
        "GET",
        &format!("/api/channels/{channel}/pins"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let ids = body["pins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"]["id"].as_i64().unwrap())
        .collect();
    (ids, body)
}

#[tokio::test]
async fn admins_pin_members_only_when_allowed_and_outsiders_never() {
    for backend in backends() {
        let server = Server::start(backend).await;
        // Project X: alice owns it, bob is an admin, charlie a member.
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (_, dave) = new_user(&server, "dave").await;
        let (project, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (a, _a_events) = connect(&server, &alice).await;
        let (_b, mut b_events) = connect(&server, &bob).await;
        let (_d, mut d_events) = connect(&server, &dave).await;
        let first = post(&a, general, "first").await;
        let second = post(&a, general, "second").await;
        let pin_first = format!("/api/channels/{general}/pins/{first}");
        let pin_second = format!("/api/channels/{general}/pins/{second}");

        // The owner pins; bob (a member of the room) sees it live, dave
        // (in no room with them) does not.
        assert_eq!(put(&server, &alice, &pin_first).await.0, 200);
        let event = next_event(&mut b_events, "pins_updated").await;
        assert_eq!(event["channel_id"], general, "{backend:?}");
        assert_eq!(event["room_id"], project);
        assert_eq!(event["message_id"], first);
        assert_eq!(event["pinned"], true);
        no_event(&mut d_events, "pins_updated", Duration::from_millis(300)).await;
        // Pinning it again changes nothing and tells no one.
        assert_eq!(put(&server, &alice, &pin_first).await.0, 200);
        no_event(&mut b_events, "pins_updated", Duration::from_millis(300)).await;

        // A member is refused while the room does not allow it, but lists.
        let (s, body) = put(&server, &charlie, &pin_second).await;
        assert_eq!(s, 403, "{backend:?}: {body}");
        let (ids, body) = pin_ids(&server, &charlie, general).await;
        assert_eq!(ids, [first]);
        assert_eq!(body["may_pin"], false);
        assert_eq!(body["pins"][0]["message"]["content"], "first");
        assert_eq!(body["pins"][0]["pinned_by_username"], "alice");
        // Only admins and the owner change the setting.
        let settings = format!("/api/rooms/{project}/pin_settings");
        let allow = Some(json!({"members_may_pin": true}));
        let (s, _) = call(&server, Some(&charlie), "PUT", &settings, allow.clone()).await;
        assert_eq!(s, 403);
        let (s, _) = call(&server, Some(&bob), "PUT", &settings, allow).await;
        assert_eq!(s, 200);
        assert_eq!(put(&server, &charlie, &pin_second).await.0, 200);
        let event = next_event(&mut b_events, "pins_updated").await;
        assert_eq!(
            (&event["message_id"], &event["pinned"]),
            (&json!(second), &json!(true))
        );
        let (ids, body) = pin_ids(&server, &charlie, general).await;
        assert_eq!(ids, [second, first], "{backend:?}: newest pin first");
        assert_eq!(body["may_pin"], true);

        // Outsiders: 404 for everything, as for the channel itself.
        let (s, _) = call(
            &server,
            Some(&dave),
            "GET",
            &format!("/api/channels/{general}/pins"),
            None,
        )
        .await;
        assert_eq!(s, 404);
        assert_eq!(put(&server, &dave, &pin_first).await.0, 404);
        let (s, _) = call(&server, Some(&dave), "DELETE", &pin_first, None).await;
        assert_eq!(s, 404);
        // A message of another channel is not pinned here.
        let (_, lobby) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let elsewhere = post(&a, lobby, "elsewhere").await;
        let (s, body) = put(
            &server,
            &alice,
            &format!("/api/channels/{general}/pins/{elsewhere}"),
        )
        .await;
        assert_eq!(s, 404, "{body}");

        // Unpinning: live, and once only.
        let (s, _) = call(&server, Some(&charlie), "DELETE", &pin_first, None).await;
        assert_eq!(s, 200);
        let event = next_event(&mut b_events, "pins_updated").await;
        assert_eq!(event["pinned"], false);
        assert_eq!(event["message_id"], first);
        let (s, _) = call(&server, Some(&charlie), "DELETE", &pin_first, None).await;
        assert_eq!(s, 404);

        // A deleted message leaves the list.
        let deleted = ask(&a, "delete_message", json!({"message_id": second})).await;
        assert_eq!(deleted["success"], true, "{deleted}");
        assert!(pin_ids(&server, &alice, general).await.0.is_empty());

        // Members are stopped again.
        let deny = Some(json!({"members_may_pin": false}));
        let (s, _) = call(&server, Some(&alice), "PUT", &settings, deny).await;
        assert_eq!(s, 200);
        assert_eq!(put(&server, &charlie, &pin_first).await.0, 403);
    }
}

#[tokio::test]
async fn the_pin_cap_holds_against_parallel_requests() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (a, _events) = connect(&server, &alice).await;
        let mut ids = Vec::new();
        for i in 0..MAX_PINS + RACERS - 2 {
            ids.push(post(&a, general, &format!("m{i}")).await);
        }
        for id in &ids[..MAX_PINS - 2] {
            let path = format!("/api/channels/{general}/pins/{id}");
            assert_eq!(put(&server, &alice, &path).await.0, 200);
        }
        // Many at once for the last two places.
        let racers = ids[MAX_PINS - 2..].iter().map(|id| {
            let path = format!("/api/channels/{general}/pins/{id}");
            let (server, alice) = (&server, &alice);
            async move { put(server, alice, &path).await }
        });
        let results = futures_util::future::join_all(racers).await;
        let won = results.iter().filter(|(s, _)| *s == 200).count();
        let refused = results
            .iter()
            .filter(|(s, body)| *s == 409 && body["code"] == "too_many_pins")
            .count();
        let statuses: Vec<u16> = results.iter().map(|(s, _)| *s).collect();
        assert_eq!((won, refused), (2, RACERS - 2), "{backend:?}: {statuses:?}");
        assert_eq!(pin_ids(&server, &alice, general).await.0.len(), MAX_PINS);

        // A deleted pinned message frees its place.
        let deleted = ask(&a, "delete_message", json!({"message_id": ids[0]})).await;
        assert_eq!(deleted["success"], true);
        let last = ids.last().unwrap();
        let path = format!("/api/channels/{general}/pins/{last}");
        let (s, body) = put(&server, &alice, &path).await;
        assert_eq!(s, 200, "{backend:?}: {body}");
    }
}

/// The ids of a page of `token`'s saved messages, and the `next` cursor.
async fn saved_page(server: &Server, token: &str, query: &str) -> (Vec<i64>, Option<String>) {
    let (s, body) = call(
        server,
        Some(token),
        "GET",
        &format!("/api/saved{query}"),
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    let ids = body["saved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["message"]["id"].as_i64().unwrap())
        .collect();
    (ids, body["next"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn saved_messages_are_private_paged_capped_and_follow_membership() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (_, dave) = new_user(&server, "dave").await;
        let (project, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (a, _a_events) = connect(&server, &alice).await;
        let (_c2, mut c_events) = connect(&server, &charlie).await;
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(post(&a, general, &format!("s{i}")).await);
        }
        for id in &ids {
            let (s, body) = put(&server, &charlie, &format!("/api/saved/{id}")).await;
            assert_eq!(s, 200, "{backend:?}: {body}");
        }
        // Charlie's other sockets hear of it.
        let event = next_event(&mut c_events, "saved_updated").await;
        assert_eq!(event["message_id"], ids[0]);
        assert_eq!(event["saved"], true);
        // Saving again changes nothing.
        assert_eq!(
            put(&server, &charlie, &format!("/api/saved/{}", ids[0]))
                .await
                .0,
            200
        );

        // Newest saved first, two at a time.
        let mut seen = Vec::new();
        let mut query = "?limit=2".to_owned();
        loop {
            let (page, next) = saved_page(&server, &charlie, &query).await;
            assert!(page.len() <= 2);
            seen.extend(page);
            match next {
                Some(next) => query = format!("?limit=2&before={next}"),
                None => break,
            }
        }
        let mut newest_first = ids.clone();
        newest_first.reverse();
        assert_eq!(seen, newest_first, "{backend:?}");
        let (s, _) = call(&server, Some(&charlie), "GET", "/api/saved?before=x", None).await;
        assert_eq!(s, 400);

        // Private: alice has none; an outsider cannot save, nor learn the
        // message exists.
        assert!(saved_page(&server, &alice, "").await.0.is_empty());
        let (s, _) = put(&server, &dave, &format!("/api/saved/{}", ids[0])).await;
        assert_eq!(s, 404);

        // A deleted message leaves the list; an unsaved one too.
        let deleted = ask(&a, "delete_message", json!({"message_id": ids[4]})).await;
        assert_eq!(deleted["success"], true);
        let (s, _) = call(
            &server,
            Some(&charlie),
            "DELETE",
            &format!("/api/saved/{}", ids[3]),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let (s, _) = call(
            &server,
            Some(&charlie),
            "DELETE",
            &format!("/api/saved/{}", ids[3]),
            None,
        )
        .await;
        assert_eq!(s, 404);
        assert_eq!(
            saved_page(&server, &charlie, "").await.0,
            [ids[2], ids[1], ids[0]]
        );

        // The cap: fill alice's list to one below it in SQL, then one more
        // fits and the next is refused.
        let (_, me) = call(&server, Some(&alice), "GET", "/api/auth/me", None).await;
        let alice_id = me["user"]["id"].as_i64().unwrap();
        let fill = format!(
            "INSERT INTO messages (channel_id, sender_id, content, client_msg_id, created_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
             SELECT {general}, {alice_id}, 'bulk', 'bulk-' || i, 0 FROM n",
            count = MAX_SAVED - 1
        );
        db_execute(&server, Box::leak(fill.into_boxed_str())).await;
        let save_all = format!(
            "INSERT INTO saved_messages (user_id, message_id, saved_at) \
             SELECT {alice_id}, id, 1 FROM messages WHERE client_msg_id LIKE 'bulk-%'"
        );
        db_execute(&server, Box::leak(save_all.into_boxed_str())).await;
        let (s, body) = put(&server, &alice, &format!("/api/saved/{}", ids[0])).await;
        assert_eq!(s, 200, "{backend:?}: {body}");
        let (s, body) = put(&server, &alice, &format!("/api/saved/{}", ids[1])).await;
        assert_eq!(
            (s, &body["code"]),
            (409, &json!("too_many_saved")),
            "{body}"
        );

        // Leaving the room hides its messages from the list.
        let (s, body) = call(
            &server,
            Some(&charlie),
            "POST",
            &format!("/api/rooms/{project}/leave"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert!(
            saved_page(&server, &charlie, "").await.0.is_empty(),
            "{backend:?}"
        );
    }
}
