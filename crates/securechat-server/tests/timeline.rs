//! System events of the timeline (`GET /api/channels/{id}/events`) against
//! the real binary, on every configured backend: each change writes its
//! line with itself, a refused change writes none, pages go both ways
//! without gaps or repeats, members only read them, and open sockets are
//! told (`timeline_updated`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use serde_json::{Value, json};
use testkit::{Server, backends, call, connect, new_user, next_event};

/// Events of `channel` as `token` reads them, with `query`.
async fn events(server: &Server, token: &str, channel: i64, query: &str) -> (u16, Value) {
    call(
        server,
        Some(token),
        "GET",
        &format!("/api/channels/{channel}/events{query}"),
        None,
    )
    .await
}

/// `(kind, actor, target, detail)` of each event, in page order.
fn lines(page: &Value) -> Vec<(String, String, String, String)> {
    let name = |v: &Value| v["username"].as_str().unwrap_or("").to_owned();
    page["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                name(&e["actor"]),
                name(&e["target"]),
                e["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn line(kind: &str, actor: &str, target: &str, detail: &str) -> (String, String, String, String) {
    (kind.into(), actor.into(), target.into(), detail.into())
}

#[tokio::test]
async fn changes_write_their_lines_and_members_page_them() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (amy_id, amy) = new_user(&server, "amy").await;
        let (_, ben) = new_user(&server, "ben").await;
        let (cat_id, cat) = new_user(&server, "cat").await;
        let (_, dan) = new_user(&server, "dan").await;
        let (s, created) = call(
            &server,
            Some(&amy),
            "POST",
            "/api/rooms",
            Some(json!({"name": "Plans room"})),
        )
        .await;
        assert_eq!(s, 201, "{created}");
        let room = created["room"]["id"].as_i64().unwrap();
        let general = created["channels"][0]["id"].as_i64().unwrap();
        let (b_socket, mut b_events) = connect(&server, &ben).await;

        let (s, body) = call(
            &server,
            Some(&ben),
            "POST",
            &format!("/api/rooms/{room}/join"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        let pushed = next_event(&mut b_events, "timeline_updated").await;
        assert_eq!(pushed, json!({"room_id": room}));
        let (s, body) = call(
            &server,
            Some(&amy),
            "POST",
            &format!("/api/rooms/{room}/members"),
            Some(json!({"username": "cat"})),
        )
        .await;
        assert_eq!(s, 201, "{body}");
        let (s, body) = call(
            &server,
            Some(&amy),
            "DELETE",
            &format!("/api/rooms/{room}/members/{cat_id}"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{body}");
        let (s, body) = call(
            &server,
            Some(&amy),
            "POST",
            &format!("/api/rooms/{room}/channels"),
            Some(json!({"name": "later", "topic": ""})),
        )
        .await;
        assert_eq!(s, 201, "{body}");
        let later = body["channel"]["id"].as_i64().unwrap();
        let patch = |changes: Value| {
            let amy = amy.clone();
            let server = &server;
            async move {
                call(
                    server,
                    Some(&amy),
                    "PATCH",
                    &format!("/api/channels/{general}"),
                    Some(changes),
                )
                .await
            }
        };
        let (s, body) = patch(json!({"name": "plans", "topic": "Q3 goals"})).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(
            next_event(&mut b_events, "timeline_updated").await["room_id"],
            room
        );

        // Refused changes write nothing: a taken name (the update fails in
        // its transaction), the owner kicking herself, an unchanged name.
        let (s, body) = patch(json!({"name": "later"})).await;
        assert_eq!(s, 409, "{body}");
        let (s, body) = patch(json!({"name": "plans"})).await;
        assert_eq!(s, 200, "{body}");
        let (s, _) = call(
            &server,
            Some(&amy),
            "DELETE",
            &format!("/api/rooms/{room}/members/{amy_id}"),
            None,
        )
        .await;
        assert!(s >= 400, "kicking the owner is refused");

        let (s, page) = events(&server, &ben, general, "").await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(page["has_more"], false);
        let expected = vec![
            line("topic_changed", "amy", "", "Q3 goals"),
            line("channel_renamed", "amy", "", "plans"),
            line("removed", "amy", "cat", ""),
            line("added", "amy", "cat", ""),
            line("joined", "ben", "ben", ""),
        ];
        assert_eq!(lines(&page), expected, "{backend:?}: newest first");
        for e in page["events"].as_array().unwrap() {
            assert_eq!(e["room_id"], room);
            assert!(e["created_at"].as_str().unwrap().ends_with('Z'));
        }
        // The new channel shows its creation and the room's lines, not
        // the other channel's.
        let (_, page) = events(&server, &ben, later, "").await;
        assert_eq!(lines(&page)[0], line("channel_created", "amy", "", "later"));
        assert_eq!(lines(&page).len(), 4, "{page}");

        // Keyset pages, back and forth, without gaps or repeats.
        let (_, newest) = events(&server, &ben, general, "?limit=2").await;
        assert_eq!(lines(&newest), expected[..2]);
        assert_eq!(newest["has_more"], true);
        let oldest_held = newest["events"][1]["id"].as_i64().unwrap();
        let (_, older) = events(
            &server,
            &ben,
            general,
            &format!("?limit=2&before={oldest_held}"),
        )
        .await;
        assert_eq!(lines(&older), expected[2..4]);
        assert_eq!(older["has_more"], true);
        let first = older["events"][1]["id"].as_i64().unwrap();
        let (_, rest) = events(&server, &ben, general, &format!("?before={first}")).await;
        assert_eq!(lines(&rest), expected[4..]);
        assert_eq!(rest["has_more"], false);
        let oldest = rest["events"][0]["id"].as_i64().unwrap();
        let (_, caught_up) =
            events(&server, &ben, general, &format!("?after={oldest}&limit=3")).await;
        let mut forward = expected[..4].to_vec();
        forward.reverse();
        assert_eq!(lines(&caught_up), forward[..3], "after: oldest first");
        assert_eq!(caught_up["has_more"], true);

        // The removed member, a stranger and a bad id read nothing.
        for token in [&cat, &dan] {
            let (s, body) = events(&server, token, general, "").await;
            assert_eq!(s, 404, "{body}");
        }
        let (s, _) = events(&server, &ben, general + 1000, "").await;
        assert_eq!(s, 404);
        let (s, _) = call(
            &server,
            None,
            "GET",
            &format!("/api/channels/{general}/events"),
            None,
        )
        .await;
        assert_eq!(s, 401);

        // Leaving is a line too, and then the leaver reads no more.
        let (s, _) = call(
            &server,
            Some(&ben),
            "POST",
            &format!("/api/rooms/{room}/leave"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let (s, _) = events(&server, &ben, general, "").await;
        assert_eq!(s, 404);
        let (_, page) = events(&server, &amy, general, "?limit=1").await;
        assert_eq!(lines(&page), [line("left", "ben", "ben", "")]);

        // Renaming the room is a line of every channel.
        let (s, _) = call(
            &server,
            Some(&amy),
            "PATCH",
            &format!("/api/rooms/{room}"),
            Some(json!({"name": "Roadmap"})),
        )
        .await;
        assert_eq!(s, 200);
        for channel in [general, later] {
            let (_, page) = events(&server, &amy, channel, "?limit=1").await;
            assert_eq!(lines(&page), [line("room_renamed", "amy", "", "Roadmap")]);
        }
        drop(b_socket);
    }
}

/// A new account joining the site's default rooms gets its line there.
#[tokio::test]
async fn joining_a_default_room_is_a_line() {
    for backend in backends() {
        let server = Server::start_with(backend, &[("DEFAULT_ROOMS", "Lobby")]).await;
        let (_, eve) = new_user(&server, "eve").await;
        let (_, rooms) = call(&server, Some(&eve), "GET", "/api/rooms", None).await;
        let room = rooms["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "Lobby")
            .expect("joined the default room")
            .clone();
        let channel = room["channels"][0]["id"].as_i64().unwrap();
        let (s, page) = events(&server, &eve, channel, "?limit=1").await;
        assert_eq!(s, 200, "{page}");
        assert_eq!(lines(&page), [line("joined", "eve", "eve", "")]);
    }
}
