//! Threads against the real binary, on every configured storage backend:
//! replies kept out of the channel unless also sent to it, the root's
//! summary (exact under parallel replies), follows and unread counts per
//! thread, the read marker, who may read and follow (strangers and removed
//! members get nothing), and a thread resumed after a reconnect.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::time::Duration;

use serde_json::{Value, json};
use testkit::{
    Server, ask, backends, call, connect, new_user, next_event, no_event, room_and_channel, token,
};

const QUIET: Duration = Duration::from_millis(300);

/// Sends `body` (plus a fresh client id) on `socket`, waiting out the send
/// rate limit; the ack.
async fn send(socket: &securechat_client::Socket, mut body: Value) -> Value {
    body["client_msg_id"] = json!(securechat_client::new_client_msg_id());
    loop {
        let ack = ask(socket, "send_message", body.clone()).await;
        if ack["code"] == "rate_limited" {
            let wait = ack["retry_after_ms"].as_u64().unwrap_or(50);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            continue;
        }
        return ack;
    }
}

/// A message's id, asserting it was stored.
fn id(ack: &Value) -> i64 {
    assert_eq!(ack["success"], true, "{ack}");
    ack["message"]["id"].as_i64().unwrap()
}

async fn post(socket: &securechat_client::Socket, channel: i64, text: &str) -> i64 {
    id(&send(socket, json!({"channel_id": channel, "content": text})).await)
}

async fn reply(
    socket: &securechat_client::Socket,
    channel: i64,
    root: i64,
    text: &str,
    also: bool,
) -> Value {
    let body = json!({"channel_id": channel, "content": text, "thread_root_id": root,
                      "also_send_to_channel": also});
    send(socket, body).await
}

async fn get(server: &Server, token: &str, path: &str) -> (u16, Value) {
    call(server, Some(token), "GET", path, None).await
}

/// The ids of a page's messages.
fn ids(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

/// The next `name` event whose value at the JSON pointer `at` is `value`,
/// skipping others (a socket also hears of its own sends, and of changes
/// before the one awaited).
async fn next_with(
    events: &mut securechat_client::EventStream,
    name: &str,
    at: &str,
    value: Value,
) -> Value {
    loop {
        let event = next_event(events, name).await;
        if event.pointer(at) == Some(&value) {
            return event;
        }
    }
}

/// Reads events until none arrives for [`QUIET`]: the pushes of what came
/// before (each carries the count at its time, so a late one may repeat
/// a later one's).
async fn settle(events: &mut securechat_client::EventStream) {
    while tokio::time::timeout(QUIET, events.recv()).await.is_ok() {}
}

/// The caller's followed threads as (root id, unread) pairs.
async fn followed(server: &Server, token: &str) -> Vec<(i64, i64)> {
    let (s, body) = get(server, token, "/api/threads").await;
    assert_eq!(s, 200, "{body} {}", server.log());
    body["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["root"]["id"].as_i64().unwrap(),
                t["unread"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn replies_summaries_follows_and_unread_counts() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (project, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (a, mut a_events) = connect(&server, &alice).await;
        let (b, mut b_events) = connect(&server, &bob).await;
        let (c, _c_events) = connect(&server, &charlie).await;
        assert_eq!(
            ask(&a, "join_channel", json!({"channel_id": general})).await["success"],
            true
        );
        let root = post(&a, general, "shall we ship friday?").await;

        // bob replies in the thread: it reaches the channel's sockets with
        // its root, the room gets the summary, alice (the root's author)
        // follows and has one unread reply.
        let first = reply(&b, general, root, "yes", false).await;
        assert_eq!(first["message"]["thread_root_id"], root, "{backend:?}");
        assert_eq!(first["message"]["also_send_to_channel"], false);
        let first = id(&first);
        let live = next_with(&mut a_events, "new_message", "/id", json!(first)).await;
        assert_eq!(live["thread_root_id"], root);
        let summary = next_event(&mut a_events, "thread_updated").await;
        assert_eq!(summary["root_id"], root);
        assert_eq!(summary["room_id"], project);
        assert_eq!(summary["thread"]["reply_count"], 1);
        let bob_id = live["sender_id"].as_i64().unwrap();
        assert_eq!(summary["thread"]["participants"], json!([bob_id]));
        let unread = next_event(&mut a_events, "thread_unread").await;
        assert_eq!(
            (&unread["root_id"], &unread["unread"]),
            (&json!(root), &json!(1))
        );
        assert_eq!(unread["following"], true);

        // Wrong places are refused with what to do.
        let to_reply = reply(&c, general, first, "nested", false).await;
        assert_eq!(to_reply["code"], "thread_reply_to_reply", "{to_reply}");
        let (_, lobby) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let elsewhere = reply(&a, lobby, root, "wrong channel", false).await;
        assert_eq!(elsewhere["code"], "invalid_thread", "{elsewhere}");
        let stray = send(
            &c,
            json!({"channel_id": general, "content": "x", "also_send_to_channel": true}),
        )
        .await;
        assert_eq!(stray["code"], "invalid_thread", "{stray}");

        // charlie replies and also sends to the channel.
        let both = id(&reply(&c, general, root, "friday works", true).await);
        let channel_page = |token: String| {
            let server = &server;
            async move {
                let path = format!("/api/channels/{general}/messages");
                let (s, page) = get(server, &token, &path).await;
                assert_eq!(s, 200, "{page}");
                page
            }
        };
        let page = channel_page(bob.clone()).await;
        assert_eq!(
            ids(&page),
            [both, root],
            "{backend:?}: thread-only replies stay out"
        );
        assert_eq!(page["messages"][0]["thread_root_id"], root);
        assert_eq!(page["messages"][0]["also_send_to_channel"], true);
        let thread = &page["messages"][1]["thread"];
        assert_eq!(thread["reply_count"], 2, "{page}");
        let charlie_id = page["messages"][0]["sender_id"].as_i64().unwrap();
        assert_eq!(thread["participants"], json!([bob_id, charlie_id]));
        assert!(thread["last_reply_at"].is_string());
        // The channel's unread count leaves thread-only replies out.
        let marked = ask(
            &b,
            "mark_read",
            json!({"channel_id": general, "message_id": root}),
        )
        .await;
        assert_eq!(marked["unread"], 1, "{backend:?}: {marked}");

        // The thread's history: both replies, newest first, with the root.
        let thread_path = format!("/api/channels/{general}/threads/{root}/messages");
        let (s, page) = get(&server, &alice, &thread_path).await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(ids(&page), [both, first]);
        assert_eq!(page["root"]["id"], root);
        assert_eq!(page["following"], true);
        assert_eq!(page["unread"], 2);
        let (s, page) = get(&server, &alice, &format!("{thread_path}?after={first}")).await;
        assert_eq!((s, ids(&page)), (200, vec![both]));
        // A reply is no thread of its own; the thread lives in its channel.
        let (s, _) = get(
            &server,
            &alice,
            &format!("/api/channels/{general}/threads/{first}/messages"),
        )
        .await;
        assert_eq!(s, 404);
        let (s, _) = get(
            &server,
            &alice,
            &format!("/api/channels/{lobby}/threads/{root}/messages"),
        )
        .await;
        assert_eq!(s, 404);

        // alice's Threads list; reading clears it and tells her sockets.
        assert_eq!(followed(&server, &alice).await, [(root, 2)]);
        let read = format!("/api/threads/{root}/read");
        let (s, body) = call(
            &server,
            Some(&alice),
            "POST",
            &read,
            Some(json!({"message_id": both})),
        )
        .await;
        assert_eq!((s, &body["unread"]), (200, &json!(0)), "{body}");
        next_with(&mut a_events, "thread_unread", "/unread", json!(0)).await;
        assert_eq!(followed(&server, &alice).await, [(root, 0)]);
        let (s, body) = get(&server, &alice, "/api/threads?unread_only=true").await;
        assert_eq!(
            (s, body["threads"].as_array().unwrap().len()),
            (200, 0),
            "{body}"
        );
        // The marker never goes back.
        let (_, body) = call(
            &server,
            Some(&alice),
            "POST",
            &read,
            Some(json!({"message_id": first})),
        )
        .await;
        assert_eq!(body["unread"], 0);

        // bob's own replies are never unread for him; he follows.
        assert_eq!(followed(&server, &bob).await, [(root, 1)], "{backend:?}");

        // alice unfollows: no more unread events or listing for her.
        let follow = format!("/api/threads/{root}/follow");
        let (s, body) = call(&server, Some(&alice), "DELETE", &follow, None).await;
        assert_eq!((s, &body["following"]), (200, &json!(false)), "{body}");
        next_with(&mut a_events, "thread_unread", "/following", json!(false)).await;
        settle(&mut a_events).await;
        let third = id(&reply(&b, general, root, "ok then", false).await);
        next_with(
            &mut a_events,
            "thread_updated",
            "/thread/reply_count",
            json!(3),
        )
        .await;
        no_event(&mut a_events, "thread_unread", QUIET).await;
        assert!(followed(&server, &alice).await.is_empty());
        // Following again counts from her marker.
        let (s, body) = call(&server, Some(&alice), "PUT", &follow, None).await;
        assert_eq!((s, &body["unread"]), (200, &json!(1)), "{body}");
        assert_eq!(followed(&server, &alice).await, [(root, 1)]);

        // A deleted reply leaves the summary and the counts.
        let deleted = ask(&b, "delete_message", json!({"message_id": third})).await;
        assert_eq!(deleted["success"], true, "{deleted}");
        next_with(
            &mut a_events,
            "thread_updated",
            "/thread/reply_count",
            json!(2),
        )
        .await;
        assert_eq!(followed(&server, &alice).await, [(root, 0)]);
        let _ = &mut b_events;
    }
}

#[tokio::test]
async fn strangers_and_removed_members_get_nothing() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (_, dave) = new_user(&server, "dave").await;
        let (project, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (a, _a_events) = connect(&server, &alice).await;
        let (c, mut c_events) = connect(&server, &charlie).await;
        let (d, mut d_events) = connect(&server, &dave).await;
        let root = post(&a, general, "root").await;
        let charlies = id(&reply(&c, general, root, "mine", false).await);
        id(&reply(&a, general, root, "yours", false).await);
        // His own reply is no unread one; alice's is.
        next_with(&mut c_events, "thread_unread", "/unread", json!(1)).await;
        settle(&mut c_events).await;
        settle(&mut d_events).await;

        // A stranger: every route is the 404 of a thread they cannot see.
        let thread_path = format!("/api/channels/{general}/threads/{root}/messages");
        for (method, path, body) in [
            ("GET", thread_path.clone(), None),
            ("PUT", format!("/api/threads/{root}/follow"), None),
            ("DELETE", format!("/api/threads/{root}/follow"), None),
            (
                "POST",
                format!("/api/threads/{root}/read"),
                Some(json!({"message_id": charlies})),
            ),
        ] {
            let (s, body) = call(&server, Some(&dave), method, &path, body).await;
            assert_eq!(s, 404, "{backend:?} {method} {path}: {body}");
            assert_eq!(body["code"], "thread_not_found");
        }
        let sent = reply(&d, general, root, "let me in", false).await;
        assert_eq!(sent["code"], "channel_not_found", "{sent}");
        let joined = ask(
            &d,
            "join_thread",
            json!({"channel_id": general, "root_id": root}),
        )
        .await;
        assert_eq!(joined["code"], "thread_not_found", "{joined}");
        assert!(followed(&server, &dave).await.is_empty());

        // charlie is removed: he hears of no reply, lists nothing, reads nothing.
        let (_, me) = get(&server, &charlie, "/api/auth/me").await;
        let charlie_id = me["user"]["id"].as_i64().unwrap();
        let (s, body) = call(
            &server,
            Some(&alice),
            "DELETE",
            &format!("/api/rooms/{project}/members/{charlie_id}"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        id(&reply(&a, general, root, "after he left", false).await);
        no_event(&mut c_events, "thread_unread", QUIET).await;
        no_event(&mut c_events, "thread_updated", Duration::from_millis(50)).await;
        no_event(&mut d_events, "thread_updated", Duration::from_millis(50)).await;
        assert!(followed(&server, &charlie).await.is_empty(), "{backend:?}");
        let (s, _) = get(&server, &charlie, &thread_path).await;
        assert_eq!(s, 404);

        // A deleted root takes no more replies.
        let gone = ask(&a, "delete_message", json!({"message_id": root})).await;
        assert_eq!(gone["success"], true, "{gone}");
        let late = reply(&a, general, root, "too late", false).await;
        assert_eq!(late["code"], "thread_root_deleted", "{late}");
    }
}

/// A client that lost its connection gets exactly the replies it missed:
/// none twice, none lost, nothing from the channel or another thread.
#[tokio::test]
async fn a_thread_resumes_after_a_reconnect() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (a, mut a_events) = connect(&server, &alice).await;
        let (b, _b_events) = connect(&server, &bob).await;
        let root = post(&b, general, "root").await;
        let other = post(&b, general, "another root").await;
        let joined = ask(
            &a,
            "join_thread",
            json!({"channel_id": general, "root_id": root}),
        )
        .await;
        assert_eq!(joined["success"], true, "{joined}");
        assert_eq!(joined["messages"], json!([]));
        let mut seen = Vec::new();
        for i in 0..3 {
            let sent = id(&reply(&b, general, root, &format!("before {i}"), false).await);
            let live = next_with(&mut a_events, "new_message", "/id", json!(sent)).await;
            assert_eq!(live["thread_root_id"], root);
            seen.push(sent);
        }
        drop((a, a_events));

        let mut missed = Vec::new();
        for i in 0..5 {
            missed.push(id(
                &reply(&b, general, root, &format!("after {i}"), i == 2).await
            ));
            post(&b, general, &format!("channel {i}")).await;
            id(&reply(&b, general, other, &format!("elsewhere {i}"), false).await);
        }

        let (a, _a_events) = connect(&server, &alice).await;
        let last = *seen.last().unwrap();
        let resumed = ask(
            &a,
            "join_thread",
            json!({"channel_id": general, "root_id": root, "after": last}),
        )
        .await;
        assert_eq!(resumed["success"], true, "{resumed}");
        assert_eq!(ids(&resumed), missed, "{backend:?}");
        assert_eq!(resumed["has_more"], false);
        // The same over HTTP, in pages of two.
        let mut after = last;
        let mut paged = Vec::new();
        loop {
            let path =
                format!("/api/channels/{general}/threads/{root}/messages?after={after}&limit=2");
            let (s, page) = get(&server, &alice, &path).await;
            assert_eq!(s, 200, "{page}");
            paged.extend(ids(&page));
            after = *paged.last().unwrap();
            if page["has_more"] == false {
                break;
            }
        }
        assert_eq!(paged, missed);
        // Scrolling back from the newest reply reaches the first.
        let (_, page) = get(
            &server,
            &alice,
            &format!(
                "/api/channels/{general}/threads/{root}/messages?before={}",
                missed[0]
            ),
        )
        .await;
        assert_eq!(ids(&page), seen.iter().rev().copied().collect::<Vec<_>>());
    }
}

/// Two people replying at once: the summary counts every reply exactly
/// once (it is added to in the write, never read and written back).
#[tokio::test]
async fn parallel_replies_are_counted_exactly() {
    const EACH: usize = 25;
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (a, _a_events) = connect(&server, &alice).await;
        let (b, _b_events) = connect(&server, &bob).await;
        let (c, _c_events) = connect(&server, &charlie).await;
        let root = post(&a, general, "count us").await;
        let replies = |socket: &securechat_client::Socket, who: &'static str| {
            let socket = socket.clone();
            async move {
                let sends =
                    (0..EACH).map(|i| {
                        let socket = socket.clone();
                        async move {
                            id(&reply(&socket, general, root, &format!("{who} {i}"), false).await)
                        }
                    });
                futures_util::future::join_all(sends).await
            }
        };
        let (from_b, from_c) = tokio::join!(replies(&b, "bob"), replies(&c, "charlie"));
        assert_eq!(from_b.len() + from_c.len(), 2 * EACH);
        let (s, page) = get(
            &server,
            &alice,
            &format!("/api/channels/{general}/messages"),
        )
        .await;
        assert_eq!(s, 200);
        let root_view = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == root)
            .unwrap();
        assert_eq!(
            root_view["thread"]["reply_count"],
            json!(2 * EACH),
            "{backend:?}"
        );
        assert_eq!(
            root_view["thread"]["participants"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let (_, thread) = get(
            &server,
            &alice,
            &format!("/api/channels/{general}/threads/{root}/messages?limit=200"),
        )
        .await;
        assert_eq!(ids(&thread).len(), 2 * EACH);
        assert_eq!(followed(&server, &alice).await, [(root, 2 * EACH as i64)]);
    }
}
