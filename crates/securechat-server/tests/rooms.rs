//! Rooms, channels, DMs and role-based access control against the real
//! binary, on every configured backend. The authorization matrices here are
//! also the tables in docs/PERMISSIONS.md; a test keeps the two identical.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use serde_json::{Value, json};
use testkit::{Backend, Server, backends, call, db_count, new_user, token};

/// Who asks, in matrix column order.
const ACTORS: [&str; 7] = [
    "anonymous",
    "non-member",
    "member",
    "admin",
    "owner",
    "site admin",
    "banned",
];

/// Expected status per actor for each endpoint, on a private room.
const PRIVATE_ROOM: &[(&str, &str, [u16; 7])] = &[
    (
        "GET",
        "/api/rooms/{room}",
        [401, 404, 200, 200, 200, 200, 404],
    ),
    (
        "PATCH",
        "/api/rooms/{room}",
        [401, 404, 403, 403, 200, 403, 404],
    ),
    (
        "DELETE",
        "/api/rooms/{room}",
        [401, 404, 403, 403, 200, 403, 404],
    ),
    (
        "POST",
        "/api/rooms/{room}/join",
        [401, 404, 200, 200, 200, 403, 404],
    ),
    (
        "POST",
        "/api/rooms/{room}/leave",
        [401, 404, 200, 200, 409, 403, 404],
    ),
    (
        "GET",
        "/api/rooms/{room}/members",
        [401, 404, 200, 200, 200, 200, 404],
    ),
    (
        "POST",
        "/api/rooms/{room}/members",
        [401, 404, 403, 201, 201, 403, 404],
    ),
    (
        "DELETE",
        "/api/rooms/{room}/members/{frank}",
        [401, 404, 403, 200, 200, 403, 404],
    ),
    (
        "PUT",
        "/api/rooms/{room}/members/{frank}/role",
        [401, 404, 403, 403, 200, 403, 404],
    ),
    (
        "POST",
        "/api/rooms/{room}/bans",
        [401, 404, 403, 201, 201, 403, 404],
    ),
    (
        "DELETE",
        "/api/rooms/{room}/bans/{dave}",
        [401, 404, 403, 200, 200, 403, 404],
    ),
    (
        "POST",
        "/api/rooms/{room}/transfer",
        [401, 404, 403, 403, 200, 403, 404],
    ),
    (
        "POST",
        "/api/rooms/{room}/channels",
        [401, 404, 403, 201, 201, 403, 404],
    ),
    (
        "PATCH",
        "/api/channels/{extra}",
        [401, 404, 403, 200, 200, 403, 404],
    ),
    (
        "DELETE",
        "/api/channels/{extra}",
        [401, 404, 403, 200, 200, 403, 404],
    ),
    (
        "GET",
        "/api/rooms/{room}/audit",
        [401, 404, 403, 200, 200, 200, 404],
    ),
];

/// Where a public room differs: outsiders see it and may join.
const PUBLIC_ROOM: &[(&str, &str, [u16; 7])] = &[
    (
        "GET",
        "/api/rooms/{room}",
        [401, 200, 200, 200, 200, 200, 200],
    ),
    (
        "POST",
        "/api/rooms/{room}/join",
        [401, 200, 200, 200, 200, 200, 403],
    ),
    (
        "POST",
        "/api/rooms/{room}/leave",
        [401, 403, 200, 200, 409, 403, 403],
    ),
    (
        "GET",
        "/api/rooms/{room}/members",
        [401, 200, 200, 200, 200, 200, 200],
    ),
    (
        "POST",
        "/api/rooms/{room}/members",
        [401, 403, 403, 201, 201, 403, 403],
    ),
    (
        "POST",
        "/api/rooms/{room}/channels",
        [401, 403, 403, 201, 201, 403, 403],
    ),
    (
        "GET",
        "/api/rooms/{room}/audit",
        [401, 403, 403, 200, 200, 200, 403],
    ),
];

/// Endpoints not tied to one room: any signed-in user.
const ACCOUNT_WIDE: &[(&str, &str, [u16; 7])] = &[
    ("GET", "/api/rooms", [401, 200, 200, 200, 200, 200, 200]),
    (
        "GET",
        "/api/rooms/public",
        [401, 200, 200, 200, 200, 200, 200],
    ),
    ("POST", "/api/rooms", [401, 201, 201, 201, 201, 201, 201]),
    ("POST", "/api/dms", [401, 201, 201, 201, 201, 201, 201]),
    ("GET", "/api/users?q=a", [401, 200, 200, 200, 200, 200, 200]),
    // Only people who share a room with frank (and site admins) see him.
    (
        "GET",
        "/api/users/{frank}",
        [401, 404, 200, 200, 200, 200, 404],
    ),
];

struct People {
    /// Tokens by actor column (anonymous: None).
    tokens: [Option<String>; 7],
    frank: i64,
    gina: i64,
    dave: i64,
    bob: i64,
    charlie: i64,
}

async fn people(server: &Server) -> People {
    let (dave, dave_token) = new_user(server, "dave").await;
    let (_, eve_token) = new_user(server, "eve").await;
    let (frank, _) = new_user(server, "frank").await;
    let (gina, _) = new_user(server, "gina").await;
    let id_of = |name: &'static str| async move {
        let t = token(server, "admin", "admin123").await;
        let (_, body) = call(
            server,
            Some(&t),
            "GET",
            &format!("/api/users?q={name}"),
            None,
        )
        .await;
        body["users"][0]["id"].as_i64().unwrap()
    };
    People {
        tokens: [
            None,
            Some(eve_token),
            Some(token(server, "charlie", "password789").await),
            Some(token(server, "bob", "password456").await),
            Some(token(server, "alice", "password123").await),
            Some(token(server, "admin", "admin123").await),
            Some(dave_token),
        ],
        frank,
        gina,
        dave,
        bob: id_of("bob").await,
        charlie: id_of("charlie").await,
    }
}

struct Fixture {
    room: i64,
    extra: i64,
}

/// alice's room: bob admin, charlie and frank members, dave banned, plus a
/// channel `extra`.
async fn fixture(server: &Server, p: &People, private: bool) -> Fixture {
    let alice = p.tokens[4].as_deref();
    let (status, body) = call(
        server,
        alice,
        "POST",
        "/api/rooms",
        Some(json!({"name": "Matrix", "description": "test", "is_private": private})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let room = body["room"]["id"].as_i64().unwrap();
    for user in [p.bob, p.charlie, p.frank] {
        let (s, b) = call(
            server,
            alice,
            "POST",
            &format!("/api/rooms/{room}/members"),
            Some(json!({"user_id": user})),
        )
        .await;
        assert_eq!(s, 201, "{b}");
    }
    let (s, _) = call(
        server,
        alice,
        "PUT",
        &format!("/api/rooms/{room}/members/{}/role", p.bob),
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(
        server,
        alice,
        "POST",
        &format!("/api/rooms/{room}/bans"),
        Some(json!({"user_id": p.dave})),
    )
    .await;
    assert_eq!(s, 201);
    let (s, body) = call(
        server,
        alice,
        "POST",
        &format!("/api/rooms/{room}/channels"),
        Some(json!({"name": "extra"})),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    Fixture {
        room,
        extra: body["channel"]["id"].as_i64().unwrap(),
    }
}

fn path_for(template: &str, f: &Fixture, p: &People) -> String {
    template
        .replace("{room}", &f.room.to_string())
        .replace("{extra}", &f.extra.to_string())
        .replace("{frank}", &p.frank.to_string())
        .replace("{dave}", &p.dave.to_string())
}

fn body_for(method: &str, template: &str, p: &People) -> Option<Value> {
    Some(match (method, template) {
        ("PATCH", "/api/rooms/{room}") => json!({"description": "changed"}),
        ("POST", "/api/rooms/{room}/members") => json!({"user_id": p.gina}),
        ("PUT", _) => json!({"role": "admin"}),
        ("POST", "/api/rooms/{room}/bans") => json!({"user_id": p.frank, "reason": "test"}),
        ("POST", "/api/rooms/{room}/transfer") => json!({"user_id": p.frank}),
        ("POST", "/api/rooms") => json!({"name": "Mine"}),
        ("POST", "/api/dms") => json!({"user_id": p.gina}),
        ("POST", "/api/rooms/{room}/channels") => json!({"name": "fresh", "is_encrypted": true}),
        ("PATCH", "/api/channels/{extra}") => json!({"topic": "new topic"}),
        ("POST", _) => json!({}),
        _ => return None,
    })
}

async fn run_matrix(server: &Server, p: &People, private: bool, matrix: &[(&str, &str, [u16; 7])]) {
    let mut failures = Vec::new();
    for (method, template, expected) in matrix {
        for (actor, want) in ACTORS.iter().zip(expected) {
            let f = fixture(server, p, private).await;
            let column = ACTORS.iter().position(|a| a == actor).unwrap();
            let path = path_for(template, &f, p);
            let (got, body) = call(
                server,
                p.tokens[column].as_deref(),
                method,
                &path,
                body_for(method, template, p),
            )
            .await;
            if got != *want {
                failures.push(format!(
                    "{method} {template} as {actor}: got {got}, want {want} ({body})"
                ));
            }
            if got >= 400 {
                assert_eq!(body["success"], false, "{method} {template} as {actor}");
                assert!(body["code"].is_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{:?}: {} mismatches:\n{}",
        server.backend,
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn authorization_matrix_private_room() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let p = people(&server).await;
        run_matrix(&server, &p, true, PRIVATE_ROOM).await;
    }
}

#[tokio::test]
async fn authorization_matrix_account_wide() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let p = people(&server).await;
        run_matrix(&server, &p, true, ACCOUNT_WIDE).await;
    }
}

#[tokio::test]
async fn authorization_matrix_public_room() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let p = people(&server).await;
        run_matrix(&server, &p, false, PUBLIC_ROOM).await;
    }
}

/// The matrices above, rendered as Markdown rows, stand in docs/PERMISSIONS.md.
#[test]
fn matrices_are_documented() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/PERMISSIONS.md"
    ))
    .unwrap();
    for matrix in [PRIVATE_ROOM, PUBLIC_ROOM, ACCOUNT_WIDE] {
        for (method, path, expected) in matrix {
            let cells: Vec<String> = expected.iter().map(u16::to_string).collect();
            let row = format!("| `{method} {path}` | {} |", cells.join(" | "));
            assert!(
                doc.contains(&row),
                "docs/PERMISSIONS.md lacks the row:\n{row}"
            );
        }
    }
    assert!(doc.contains(&format!("| endpoint | {} |", ACTORS.join(" | "))));
}

#[tokio::test]
async fn ownership_rules_last_owner_and_admin_versus_admin() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let p = people(&server).await;
        let f = fixture(&server, &p, true).await;
        let (alice, bob) = (p.tokens[4].as_deref(), p.tokens[3].as_deref());
        let room = f.room;
        let alice_id = {
            let (_, me) = call(&server, alice, "GET", "/api/auth/me", None).await;
            me["user"]["id"].as_i64().unwrap()
        };

        let (s, body) = call(
            &server,
            alice,
            "POST",
            &format!("/api/rooms/{room}/leave"),
            None,
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("owner_must_transfer")),
            "{backend:?}"
        );
        let (s, body) = call(
            &server,
            bob,
            "DELETE",
            &format!("/api/rooms/{room}/members/{alice_id}"),
            None,
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (403, Some("cannot_remove_owner"))
        );
        let (s, _) = call(
            &server,
            bob,
            "POST",
            &format!("/api/rooms/{room}/bans"),
            Some(json!({"user_id": alice_id})),
        )
        .await;
        assert_eq!(s, 403);

        // Admin versus admin: frank promoted, bob may not kick or ban him.
        let (s, _) = call(
            &server,
            alice,
            "PUT",
            &format!("/api/rooms/{room}/members/{}/role", p.frank),
            Some(json!({"role": "admin"})),
        )
        .await;
        assert_eq!(s, 200);
        let (s, body) = call(
            &server,
            bob,
            "DELETE",
            &format!("/api/rooms/{room}/members/{}", p.frank),
            None,
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (403, Some("cannot_remove_admin"))
        );
        let (s, _) = call(
            &server,
            bob,
            "POST",
            &format!("/api/rooms/{room}/bans"),
            Some(json!({"user_id": p.frank})),
        )
        .await;
        assert_eq!(s, 403);
        let (s, _) = call(
            &server,
            bob,
            "PUT",
            &format!("/api/rooms/{room}/members/{}/role", p.frank),
            Some(json!({"role": "member"})),
        )
        .await;
        assert_eq!(s, 403, "only the owner changes roles");
        let (s, body) = call(
            &server,
            alice,
            "PUT",
            &format!("/api/rooms/{room}/members/{}/role", p.frank),
            Some(json!({"role": "owner"})),
        )
        .await;
        assert_eq!((s, body["code"].as_str()), (422, Some("use_transfer")));
        let (s, _) = call(
            &server,
            alice,
            "DELETE",
            &format!("/api/rooms/{room}/members/{}", p.frank),
            None,
        )
        .await;
        assert_eq!(s, 200, "the owner may remove an admin");

        // Transfer, then the former owner (now admin) may leave.
        let (s, _) = call(
            &server,
            alice,
            "POST",
            &format!("/api/rooms/{room}/transfer"),
            Some(json!({"user_id": p.bob})),
        )
        .await;
        assert_eq!(s, 200);
        let (_, members) = call(
            &server,
            bob,
            "GET",
            &format!("/api/rooms/{room}/members"),
            None,
        )
        .await;
        let role_of = |id: i64| {
            members["members"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["user_id"] == id)
                .unwrap()["role"]
                .clone()
        };
        assert_eq!(role_of(p.bob), "owner");
        assert_eq!(role_of(alice_id), "admin");
        assert!(members["bans"].is_array(), "admins see bans");
        let (s, _) = call(
            &server,
            alice,
            "POST",
            &format!("/api/rooms/{room}/leave"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let (s, _) = call(&server, alice, "GET", &format!("/api/rooms/{room}"), None).await;
        assert_eq!(s, 404, "a private room vanishes for those who left");
    }
}

#[tokio::test]
async fn ban_then_rejoin() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let p = people(&server).await;
        let f = fixture(&server, &p, false).await;
        let (alice, charlie) = (p.tokens[4].as_deref(), p.tokens[2].as_deref());
        let room = f.room;
        let (s, _) = call(
            &server,
            alice,
            "POST",
            &format!("/api/rooms/{room}/bans"),
            Some(json!({"username": "CHARLIE", "reason": "spam"})),
        )
        .await;
        assert_eq!(s, 201, "{backend:?}");
        let (s, body) = call(
            &server,
            charlie,
            "POST",
            &format!("/api/rooms/{room}/join"),
            None,
        )
        .await;
        assert_eq!((s, body["code"].as_str()), (403, Some("banned")));
        let (s, body) = call(
            &server,
            alice,
            "POST",
            &format!("/api/rooms/{room}/members"),
            Some(json!({"user_id": p.charlie})),
        )
        .await;
        assert_eq!((s, body["code"].as_str()), (409, Some("user_banned")));
        let (_, rooms) = call(&server, charlie, "GET", "/api/rooms", None).await;
        assert!(
            rooms["rooms"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["id"] != room)
        );
        let (s, _) = call(
            &server,
            alice,
            "DELETE",
            &format!("/api/rooms/{room}/bans/{}", p.charlie),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let (s, _) = call(
            &server,
            alice,
            "DELETE",
            &format!("/api/rooms/{room}/bans/{}", p.charlie),
            None,
        )
        .await;
        assert_eq!(s, 404, "no ban left to lift");
        let (s, body) = call(
            &server,
            charlie,
            "POST",
            &format!("/api/rooms/{room}/join"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(body["room"]["my_role"], "member");
        let (s, _) = call(
            &server,
            charlie,
            "POST",
            &format!("/api/rooms/{room}/join"),
            None,
        )
        .await;
        assert_eq!(s, 200, "joining twice is harmless");

        // The audit log recorded all of it, newest first.
        let (_, audit) = call(
            &server,
            alice,
            "GET",
            &format!("/api/rooms/{room}/audit?limit=3"),
            None,
        )
        .await;
        let actions: Vec<&str> = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            actions,
            ["member_joined", "member_unbanned", "member_banned"]
        );
        assert_eq!(audit["entries"][2]["target_username"], "charlie");
        assert_eq!(audit["entries"][2]["detail"], "spam");
        let before = audit["next_before"].as_i64().unwrap();
        let (_, older) = call(
            &server,
            alice,
            "GET",
            &format!("/api/rooms/{room}/audit?before={before}&limit=100"),
            None,
        )
        .await;
        let older = older["entries"].as_array().unwrap();
        assert!(older.iter().all(|e| e["id"].as_i64().unwrap() < before));
        assert_eq!(older.last().unwrap()["action"], "room_created");
    }
}

#[tokio::test]
async fn direct_messages_are_deduplicated_and_encrypted() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (_, me) = call(&server, Some(&bob), "GET", "/api/auth/me", None).await;
        let bob_id = me["user"]["id"].as_i64().unwrap();
        let (_, me) = call(&server, Some(&alice), "GET", "/api/auth/me", None).await;
        let alice_id = me["user"]["id"].as_i64().unwrap();

        let (s, first) = call(
            &server,
            Some(&alice),
            "POST",
            "/api/dms",
            Some(json!({"user_id": bob_id})),
        )
        .await;
        assert_eq!(s, 201, "{backend:?} {first}");
        assert_eq!(first["room"]["kind"], "dm");
        assert_eq!(first["room"]["is_private"], true);
        assert_eq!(first["room"]["dm_peer"]["username"], "bob");
        let channels = first["channels"].as_array().unwrap();
        assert_eq!(channels.len(), 1);
        assert_eq!(channels[0]["is_encrypted"], true);
        let dm = first["room"]["id"].as_i64().unwrap();

        let (s, again) = call(
            &server,
            Some(&alice),
            "POST",
            "/api/dms",
            Some(json!({"user_id": bob_id})),
        )
        .await;
        assert_eq!((s, again["room"]["id"].as_i64()), (200, Some(dm)));
        let (s, reverse) = call(
            &server,
            Some(&bob),
            "POST",
            "/api/dms",
            Some(json!({"user_id": alice_id})),
        )
        .await;
        assert_eq!((s, reverse["room"]["id"].as_i64()), (200, Some(dm)));
        assert_eq!(reverse["room"]["dm_peer"]["username"], "alice");

        let (_, mine) = call(&server, Some(&bob), "GET", "/api/rooms", None).await;
        let listed = mine["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == dm)
            .unwrap()
            .clone();
        assert_eq!(listed["dm_peer"]["username"], "alice");
        assert_eq!(listed["channels"].as_array().unwrap().len(), 1);

        let (s, _) = call(
            &server,
            Some(&charlie),
            "GET",
            &format!("/api/rooms/{dm}"),
            None,
        )
        .await;
        assert_eq!(s, 404, "outsiders learn nothing of a DM");
        let (s, _) = call(
            &server,
            Some(&alice),
            "POST",
            &format!("/api/rooms/{dm}/leave"),
            None,
        )
        .await;
        assert_eq!(s, 403);
        let (s, _) = call(
            &server,
            Some(&alice),
            "POST",
            &format!("/api/rooms/{dm}/channels"),
            Some(json!({"name": "more"})),
        )
        .await;
        assert_eq!(s, 403);
        let (s, _) = call(
            &server,
            Some(&alice),
            "POST",
            "/api/dms",
            Some(json!({"user_id": alice_id})),
        )
        .await;
        assert_eq!(s, 422);
        let (s, _) = call(
            &server,
            Some(&alice),
            "POST",
            "/api/dms",
            Some(json!({"user_id": 999_999})),
        )
        .await;
        assert_eq!(s, 404);
    }
}

#[tokio::test]
async fn deleting_a_room_removes_channels_and_memberships() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let p = people(&server).await;
        let f = fixture(&server, &p, true).await;
        let (alice, charlie) = (p.tokens[4].as_deref(), p.tokens[2].as_deref());
        let room = f.room;
        let (s, _) = call(
            &server,
            alice,
            "DELETE",
            &format!("/api/rooms/{room}"),
            None,
        )
        .await;
        assert_eq!(s, 200, "{backend:?}");
        for token in [alice, charlie] {
            let (s, _) = call(&server, token, "GET", &format!("/api/rooms/{room}"), None).await;
            assert_eq!(s, 404);
            let (_, mine) = call(&server, token, "GET", "/api/rooms", None).await;
            assert!(
                mine["rooms"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|r| r["id"] != room)
            );
        }
        let (s, _) = call(
            &server,
            alice,
            "PATCH",
            &format!("/api/channels/{}", f.extra),
            Some(json!({"topic": "x"})),
        )
        .await;
        assert_eq!(s, 404);
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM channels WHERE room_id = $1",
                room
            )
            .await,
            0
        );
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM room_members WHERE room_id = $1",
                room
            )
            .await,
            0
        );
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM room_bans WHERE room_id = $1",
                room
            )
            .await,
            0
        );
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM room_audit WHERE room_id = $1 AND action = 'room_deleted'",
                room
            )
            .await,
            1,
            "the deletion itself stays on record"
        );
    }
}

#[tokio::test]
async fn names_and_texts_are_validated() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let alice = Some(alice.as_str());
        for body in [
            json!({"name": ""}),
            json!({"name": "   "}),
            json!({"name": "x".repeat(65)}),
            json!({"name": "ok", "description": "d".repeat(501)}),
            json!({"name": "bad\u{1}name"}),
        ] {
            let (s, b) = call(&server, alice, "POST", "/api/rooms", Some(body.clone())).await;
            assert_eq!(s, 422, "{backend:?} {body} {b}");
            assert!(b["message"].as_str().unwrap().len() > 10);
        }
        let (s, b) = call(
            &server,
            alice,
            "POST",
            "/api/rooms",
            Some(json!({"name": 5})),
        )
        .await;
        assert_eq!(s, 422, "{b}");
        let (_, created) = call(
            &server,
            alice,
            "POST",
            "/api/rooms",
            Some(json!({"name": "Valid"})),
        )
        .await;
        let room = created["room"]["id"].as_i64().unwrap();
        assert_eq!(created["channels"][0]["name"], "general");
        for name in ["", "has space", &"c".repeat(65), "a/b"] {
            let (s, _) = call(
                &server,
                alice,
                "POST",
                &format!("/api/rooms/{room}/channels"),
                Some(json!({"name": name})),
            )
            .await;
            assert_eq!(s, 422, "{name}");
        }
        let (s, b) = call(
            &server,
            alice,
            "POST",
            &format!("/api/rooms/{room}/channels"),
            Some(json!({"name": "GENERAL"})),
        )
        .await;
        assert_eq!((s, b["code"].as_str()), (409, Some("channel_name_taken")));
        let general = created["channels"][0]["id"].as_i64().unwrap();
        let (s, b) = call(
            &server,
            alice,
            "DELETE",
            &format!("/api/channels/{general}"),
            None,
        )
        .await;
        assert_eq!((s, b["code"].as_str()), (409, Some("last_channel")));
        let (s, b) = call(
            &server,
            alice,
            "PATCH",
            &format!("/api/channels/{general}"),
            Some(json!({"is_encrypted": true})),
        )
        .await;
        assert_eq!((s, b["code"].as_str()), (422, Some("encryption_fixed")));
        let (s, _) = call(&server, alice, "GET", "/api/rooms/not-a-number", None).await;
        assert_eq!(s, 400);
        let (s, _) = call(&server, alice, "GET", "/api/rooms/99999999", None).await;
        assert_eq!(s, 404);
    }
}

#[tokio::test]
async fn directory_search_and_demo_rooms() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let charlie = token(&server, "charlie", "password789").await;
        let (_, dir) = call(
            &server,
            Some(&charlie),
            "GET",
            "/api/rooms/public?q=LOB",
            None,
        )
        .await;
        let names: Vec<&str> = dir["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Lobby"], "{backend:?}");
        let (_, dir) = call(
            &server,
            Some(&charlie),
            "GET",
            "/api/rooms/public?q=%25",
            None,
        )
        .await;
        assert!(
            dir["rooms"].as_array().unwrap().is_empty(),
            "% is matched literally"
        );
        let (_, dir) = call(&server, Some(&charlie), "GET", "/api/rooms/public", None).await;
        assert!(
            dir["rooms"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["name"] != "Project X"),
            "private rooms are unlisted"
        );

        let (_, mine) = call(&server, Some(&charlie), "GET", "/api/rooms", None).await;
        let rooms = mine["rooms"].as_array().unwrap();
        let lobby = rooms.iter().find(|r| r["name"] == "Lobby").unwrap();
        let lobby_channels: Vec<&str> = lobby["channels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(lobby_channels, ["general", "random"]);
        let project = rooms.iter().find(|r| r["name"] == "Project X").unwrap();
        assert_eq!(project["is_private"], true);
        assert_eq!(project["my_role"], "member");
        let secrets = project["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "secrets")
            .unwrap();
        assert_eq!(secrets["is_encrypted"], true);
        let id = project["id"].as_i64().unwrap();
        let (_, members) = call(
            &server,
            Some(&charlie),
            "GET",
            &format!("/api/rooms/{id}/members"),
            None,
        )
        .await;
        let roles: Vec<(String, String)> = members["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["username"].as_str().unwrap().to_owned(),
                    m["role"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            roles,
            [
                ("alice".to_owned(), "owner".to_owned()),
                ("bob".into(), "admin".into()),
                ("charlie".into(), "member".into())
            ]
        );
        assert!(members.get("bans").is_none(), "members do not see bans");

        let (_, users) = call(&server, Some(&charlie), "GET", "/api/users?q=AL", None).await;
        assert_eq!(users["users"][0]["username"], "alice");
        let (s, _) = call(&server, None, "GET", "/api/users?q=al", None).await;
        assert_eq!(s, 401);
    }
}

#[tokio::test]
async fn demo_data_is_idempotent() {
    let server = Server::start(Backend::Sqlite).await;
    let out = server.cli(&["init-db", "--demo"], None);
    assert!(out.status.success());
    let alice = token(&server, "alice", "password123").await;
    let (_, mine) = call(&server, Some(&alice), "GET", "/api/rooms", None).await;
    let lobbies = mine["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "Lobby")
        .count();
    assert_eq!(lobbies, 1);
}

/// The id of a demo user, as alice finds them.
async fn user_id(server: &Server, token: &str, name: &str) -> i64 {
    let (_, body) = call(
        server,
        Some(token),
        "GET",
        &format!("/api/users?q={name}"),
        None,
    )
    .await;
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == name)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

/// A private room of alice's with `members` added (role member or admin).
async fn room_with(server: &Server, alice: &str, name: &str, members: &[(i64, &str)]) -> i64 {
    let (status, body) = call(
        server,
        Some(alice),
        "POST",
        "/api/rooms",
        Some(json!({"name": name, "is_private": true})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let room = body["room"]["id"].as_i64().unwrap();
    for (user, role) in members {
        let (s, b) = call(
            server,
            Some(alice),
            "POST",
            &format!("/api/rooms/{room}/members"),
            Some(json!({"user_id": user})),
        )
        .await;
        assert_eq!(s, 201, "{b}");
        if *role == "admin" {
            let (s, b) = call(
                server,
                Some(alice),
                "PUT",
                &format!("/api/rooms/{room}/members/{user}/role"),
                Some(json!({"role": "admin"})),
            )
            .await;
            assert_eq!(s, 200, "{b}");
        }
    }
    room
}

#[tokio::test]
async fn a_transfer_racing_a_kick_never_leaves_a_room_without_an_owner() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let charlie = token(&server, "charlie", "password789").await;
        let bob_id = user_id(&server, &alice, "bob").await;
        let charlie_id = user_id(&server, &alice, "charlie").await;
        let mut outcomes = Vec::new();
        for i in 0..15 {
            let room = room_with(
                &server,
                &alice,
                &format!("Race {i}"),
                &[(bob_id, "member"), (charlie_id, "admin")],
            )
            .await;
            // alice hands the room to bob while charlie, an admin, kicks him.
            let transfer_path = format!("/api/rooms/{room}/transfer");
            let kick_path = format!("/api/rooms/{room}/members/{bob_id}");
            let transfer = call(
                &server,
                Some(&alice),
                "POST",
                &transfer_path,
                Some(json!({"user_id": bob_id})),
            );
            let kick = call(&server, Some(&charlie), "DELETE", &kick_path, None);
            let ((t, _), (k, _)) = tokio::join!(transfer, kick);
            let owners = db_count(
                &server,
                "SELECT COUNT(*) FROM room_members WHERE room_id = $1 AND role = 'owner'",
                room,
            )
            .await;
            assert_eq!(
                owners, 1,
                "{backend:?} room {i}: transfer {t}, kick {k} left {owners} owners"
            );
            // Exactly one of the two took effect.
            assert!(
                (t == 200) != (k == 200),
                "{backend:?} room {i}: transfer {t}, kick {k}"
            );
            outcomes.push((t, k));
        }
        eprintln!("{backend:?}: (transfer, kick) statuses {outcomes:?}");
    }
}

#[tokio::test]
async fn concurrent_channel_deletes_never_leave_a_room_without_channels() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        for i in 0..10 {
            let room = room_with(&server, &alice, &format!("Channels {i}"), &[]).await;
            for name in ["second", "third"] {
                let (s, b) = call(
                    &server,
                    Some(&alice),
                    "POST",
                    &format!("/api/rooms/{room}/channels"),
                    Some(json!({"name": name})),
                )
                .await;
                assert_eq!(s, 201, "{b}");
            }
            let (_, body) = call(
                &server,
                Some(&alice),
                "GET",
                &format!("/api/rooms/{room}"),
                None,
            )
            .await;
            let ids: Vec<i64> = body["channels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap())
                .collect();
            assert_eq!(ids.len(), 3, "{body}");
            let paths: Vec<String> = ids.iter().map(|id| format!("/api/channels/{id}")).collect();
            let deletes = paths
                .iter()
                .map(|path| call(&server, Some(&alice), "DELETE", path, None));
            let statuses: Vec<u16> = futures_util::future::join_all(deletes)
                .await
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            let left = db_count(
                &server,
                "SELECT COUNT(*) FROM channels WHERE room_id = $1",
                room,
            )
            .await;
            assert_eq!(left, 1, "{backend:?} room {i}: deletes {statuses:?}");
            assert_eq!(
                statuses.iter().filter(|s| **s == 409).count(),
                1,
                "{backend:?} room {i}: {statuses:?}"
            );
        }
    }
}

/// Names people read are normalised and checked: no look-alike scripts in a
/// word, no bidirectional overrides, nothing invisible-only; reactions are
/// visible and messages carry no NUL.
#[tokio::test]
async fn names_that_deceive_are_refused() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let post = |path: String, body: Value| {
            let (server, alice) = (&server, &alice);
            async move { call(server, Some(alice), "POST", &path, Some(body)).await }
        };
        for bad in [
            "Lоbby",
            "lobby\u{202E}gpj.exe",
            "\u{200B}\u{200D}",
            "\u{3164}",
        ] {
            let (s, body) = post("/api/rooms".into(), json!({"name": bad})).await;
            assert_eq!(
                (s, body["code"].as_str()),
                (422, Some("invalid_name")),
                "{bad:?}: {body}"
            );
        }
        let (s, body) = post("/api/rooms".into(), json!({"name": "Ｔｅａｍ Привет"})).await;
        assert_eq!(s, 201, "{body}");
        assert_eq!(body["room"]["name"], "Team Привет");
        let room = body["room"]["id"].as_i64().unwrap();
        let channels = format!("/api/rooms/{room}/channels");
        let (s, body) = post(channels.clone(), json!({"name": "general"})).await;
        assert!(s == 201 || s == 409, "{body}");
        // A Cyrillic е beside the real thing, and a fullwidth copy of it.
        let (s, body) = post(channels.clone(), json!({"name": "gеneral"})).await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("invalid_name")),
            "{body}"
        );
        let (s, body) = post(channels.clone(), json!({"name": "ｇｅｎｅｒａｌ"})).await;
        assert_eq!(s, 409, "the fullwidth name is `general`: {body}");
        let (s, body) = call(
            &server,
            Some(&alice),
            "PATCH",
            &format!("/api/rooms/{room}"),
            Some(json!({"description": "\u{2066}evil"})),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("invalid_text")),
            "{body}"
        );

        // Messages and reactions, in the Lobby's general channel.
        let (_, general) = testkit::room_and_channel(&server, &alice, "Lobby", "general").await;
        let (socket, _events) = testkit::connect(&server, &alice).await;
        let send = |content: &str, id: &str| {
            testkit::ask(
                &socket,
                "send_message",
                json!({"channel_id": general, "content": content, "client_msg_id": id}),
            )
        };
        let answer = send("nul\u{0}byte", "nul-1").await;
        assert_eq!(answer["code"], "invalid_content", "{answer}");
        let answer = send("fine \u{200F}text", "rtl-1").await;
        assert_eq!(answer["success"], true, "{answer}");
        let id = answer["message"]["id"].as_i64().unwrap();
        let react =
            |emoji: &str| testkit::ask(&socket, "react", json!({"message_id": id, "emoji": emoji}));
        let answer = react("\u{200D}\u{200D}").await;
        assert_eq!(answer["code"], "invalid_emoji", "{answer}");
        let answer = react("👍").await;
        assert_eq!(answer["success"], true, "{answer}");
    }
}
