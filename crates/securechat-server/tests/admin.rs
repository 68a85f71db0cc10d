//! The admin console against the real binary, on every configured storage
//! backend: an authorization matrix over every admin operation (only a
//! site administrator gets through: a room owner, a member and an outsider
//! get 403, a logged-out caller 401), what each action does, the last
//! administrator kept under concurrent demotions, an invitation with one
//! use redeemed twice at once, the registration mode from the environment
//! and from the API, one-time password-reset links, and the command line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use testkit::{
    Backend, Server, WAIT, backends, call, connect, db_count, db_execute, login_status, me_status,
    new_user, next_event, token,
};

const PASSWORD: &str = "plum-kettle-orbit-7";

/// Who calls, in the order of each row's expected statuses.
const ACTORS: [&str; 5] = [
    "logged-out",
    "outsider",
    "member",
    "room owner",
    "site admin",
];

/// The people of the matrix and what their calls act on.
struct World {
    /// Tokens in [`ACTORS`] order (`None`: logged out).
    tokens: [Option<String>; 5],
    target: i64,
    /// The account the site administrator deletes.
    victim: i64,
    room: i64,
    spare_room: i64,
    invitation: i64,
}

async fn create_room(server: &Server, token: &str, name: &str) -> i64 {
    let (status, body) = call(
        server,
        Some(token),
        "POST",
        "/api/rooms",
        Some(json!({"name": name, "description": "", "is_private": false})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["room"]["id"].as_i64().unwrap()
}

async fn world(server: &Server) -> World {
    let admin = token(server, "admin", "admin123").await;
    let (_, owner) = new_user(server, "owner1").await;
    let (_, member) = new_user(server, "member1").await;
    let (_, outsider) = new_user(server, "outsider1").await;
    let (target, _) = new_user(server, "target1").await;
    let (victim, _) = new_user(server, "victim1").await;
    let room = create_room(server, &owner, "Owned").await;
    let spare_room = create_room(server, &owner, "Spare").await;
    let (status, body) = call(
        server,
        Some(&member),
        "POST",
        &format!("/api/rooms/{room}/join"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        server,
        Some(&admin),
        "POST",
        "/api/admin/invitations",
        Some(json!({"expires_in_hours": 24, "max_uses": 1})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    World {
        tokens: [None, Some(outsider), Some(member), Some(owner), Some(admin)],
        target,
        victim,
        room,
        spare_room,
        invitation: body["invitation"]["id"].as_i64().unwrap(),
    }
}

/// Every admin operation: (operationId, method, path, body). `{target}`,
/// `{room}`, `{invitation}` and `{actor}` are filled in per call.
const ACTIONS: &[(&str, &str, &str, Option<&str>)] = &[
    ("admin_list_users", "GET", "/api/admin/users?q=t", None),
    (
        "admin_create_user",
        "POST",
        "/api/admin/users",
        Some(r#"{"username": "made-{actor}", "password": "plum-kettle-orbit-7"}"#),
    ),
    (
        "admin_disable_user",
        "POST",
        "/api/admin/users/{target}/disable",
        None,
    ),
    (
        "admin_delete_user",
        "DELETE",
        "/api/admin/users/{victim}",
        None,
    ),
    (
        "admin_enable_user",
        "POST",
        "/api/admin/users/{target}/enable",
        None,
    ),
    (
        "admin_promote_user",
        "POST",
        "/api/admin/users/{target}/promote",
        None,
    ),
    (
        "admin_demote_user",
        "POST",
        "/api/admin/users/{target}/demote",
        None,
    ),
    (
        "admin_create_password_reset",
        "POST",
        "/api/admin/users/{target}/password-reset",
        None,
    ),
    (
        "admin_list_invitations",
        "GET",
        "/api/admin/invitations",
        None,
    ),
    (
        "admin_create_invitation",
        "POST",
        "/api/admin/invitations",
        Some(r#"{"expires_in_hours": 2, "max_uses": 3}"#),
    ),
    (
        "admin_revoke_invitation",
        "DELETE",
        "/api/admin/invitations/{invitation}",
        None,
    ),
    ("admin_get_settings", "GET", "/api/admin/settings", None),
    (
        "admin_update_settings",
        "PUT",
        "/api/admin/settings",
        Some(r#"{"registration_mode": "open"}"#),
    ),
    ("admin_list_rooms", "GET", "/api/admin/rooms", None),
    (
        "create_site_bot",
        "POST",
        "/api/admin/bots",
        Some(r#"{"username": "bot-{actor}", "room_ids": [{spare_room}]}"#),
    ),
    (
        "admin_delete_room",
        "DELETE",
        "/api/admin/rooms/{spare_room}",
        None,
    ),
    (
        "admin_list_audit",
        "GET",
        "/api/admin/audit?scope=site",
        None,
    ),
    ("admin_status", "GET", "/api/admin/status", None),
];

fn fill(text: &str, w: &World, actor: usize) -> String {
    text.replace("{target}", &w.target.to_string())
        .replace("{victim}", &w.victim.to_string())
        .replace("{spare_room}", &w.spare_room.to_string())
        .replace("{invitation}", &w.invitation.to_string())
        .replace("{actor}", &actor.to_string())
}

#[tokio::test]
async fn only_site_admins_pass_every_admin_action() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let w = world(&server).await;

        // The table covers every operation the API documents as admin.
        let (_, doc) = call(&server, None, "GET", "/api/openapi.json", None).await;
        let mut documented = BTreeSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                if op["tags"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("admin")))
                {
                    documented.insert(op["operationId"].as_str().unwrap().to_owned());
                }
            }
        }
        let tested: BTreeSet<String> = ACTIONS.iter().map(|a| a.0.to_owned()).collect();
        assert_eq!(documented, tested, "every admin operation is in the matrix");

        // Everyone but the site administrator first: nothing may change.
        for (actor, token) in w.tokens.iter().enumerate() {
            for (id, method, path, body) in ACTIONS {
                let path = fill(path, &w, actor);
                let body =
                    body.map(|b| serde_json::from_str::<Value>(&fill(b, &w, actor)).unwrap());
                let (status, answer) = call(&server, token.as_deref(), method, &path, body).await;
                let expected: &[u16] = match actor {
                    0 => &[401],
                    1..=3 => &[403],
                    _ => &[200, 201],
                };
                assert!(
                    expected.contains(&status),
                    "{backend:?} {} {id} {method} {path}: {status} {answer}",
                    ACTORS[actor]
                );
                if (1..=3).contains(&actor) {
                    assert_eq!(answer["code"], "not_site_admin", "{id}: {answer}");
                }
            }
            if actor == 3 {
                // Refused calls left everything as it was.
                let sql = "SELECT COUNT(*) FROM users WHERE id = $1 AND disabled = FALSE AND is_admin = FALSE";
                assert_eq!(db_count(&server, sql, w.target).await, 1, "{backend:?}");
                let sql = "SELECT COUNT(*) FROM rooms WHERE id = $1";
                assert_eq!(db_count(&server, sql, w.spare_room).await, 1);
                let sql = "SELECT COUNT(*) FROM invitations WHERE id = $1 AND revoked = FALSE";
                assert_eq!(db_count(&server, sql, w.invitation).await, 1);
                let sql = "SELECT COUNT(*) FROM users WHERE (username LIKE 'made-%' OR is_bot) AND id > $1";
                assert_eq!(db_count(&server, sql, 0).await, 0);
                let sql = "SELECT COUNT(*) FROM users WHERE id = $1 AND deleted_at IS NULL";
                assert_eq!(db_count(&server, sql, w.victim).await, 1);
            }
        }
        let sql = "SELECT COUNT(*) FROM users WHERE id = $1 AND deleted_at IS NOT NULL";
        assert_eq!(
            db_count(&server, sql, w.victim).await,
            1,
            "admin deleted it"
        );
        // The owner's own room is still refused through the admin route.
        let sql = "SELECT COUNT(*) FROM rooms WHERE id = $1";
        assert_eq!(
            db_count(&server, sql, w.spare_room).await,
            0,
            "admin deleted it"
        );
        assert_eq!(db_count(&server, sql, w.room).await, 1);
    }
}

/// A fresh server with `env`, the admin's token.
async fn admin_server(backend: Backend, env: &[(&str, &str)]) -> (Server, String) {
    let server = Server::start_with(backend, env).await;
    let admin = token(&server, "admin", "admin123").await;
    (server, admin)
}

#[tokio::test]
async fn disabling_ends_sessions_and_sockets_at_once() {
    for backend in backends() {
        let (server, admin) = admin_server(backend, &[]).await;
        let (id, victim) = new_user(&server, "victim").await;
        let (_socket, mut events) = connect(&server, &victim).await;
        let (status, body) = call(
            &server,
            Some(&admin),
            "POST",
            &format!("/api/admin/users/{id}/disable"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["user"]["disabled"], true);
        next_event(&mut events, "session_ended").await;
        assert_eq!(me_status(&server, &victim).await, 401, "{backend:?}");
        assert_eq!(login_status(&server, "victim", PASSWORD).await, 403);
        let (status, _) = call(
            &server,
            Some(&admin),
            "POST",
            &format!("/api/admin/users/{id}/enable"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(login_status(&server, "victim", PASSWORD).await, 200);

        // Listing and searching see disabled accounts too, by id, by page.
        let (_, page) = call(
            &server,
            Some(&admin),
            "GET",
            "/api/admin/users?limit=2",
            None,
        )
        .await;
        assert_eq!(page["users"].as_array().unwrap().len(), 2);
        let after = page["next_after"].as_i64().unwrap();
        let (_, next) = call(
            &server,
            Some(&admin),
            "GET",
            &format!("/api/admin/users?limit=2&after={after}"),
            None,
        )
        .await;
        assert!(next["users"][0]["id"].as_i64().unwrap() > after, "{next}");
        let (_, found) = call(
            &server,
            Some(&admin),
            "GET",
            "/api/admin/users?q=VICT",
            None,
        )
        .await;
        assert_eq!(found["users"][0]["username"], "victim", "{found}");
        let (status, _) = call(
            &server,
            Some(&admin),
            "GET",
            &format!("/api/admin/users?q={}", "x".repeat(33)),
            None,
        )
        .await;
        assert_eq!(status, 422);
        let (_, audit) = call(
            &server,
            Some(&admin),
            "GET",
            "/api/admin/audit?scope=site",
            None,
        )
        .await;
        let actions: Vec<&str> = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert!(
            actions.starts_with(&["user_enabled", "user_disabled"]),
            "{audit}"
        );
    }
}

const ADMINS: &str =
    "SELECT COUNT(*) FROM users WHERE is_admin = TRUE AND disabled = FALSE AND id > $1";

#[tokio::test]
async fn the_last_admin_stays_even_when_two_demote_each_other_at_once() {
    for backend in backends() {
        let (server, admin) = admin_server(backend, &[]).await;
        let admin_id = db_count(
            &server,
            "SELECT id FROM users WHERE username = 'admin' AND id > $1",
            0,
        )
        .await;
        for path in ["demote", "disable"] {
            let (status, body) = call(
                &server,
                Some(&admin),
                "POST",
                &format!("/api/admin/users/{admin_id}/{path}"),
                None,
            )
            .await;
            assert_eq!(
                (status, body["code"].as_str()),
                (409, Some("last_admin")),
                "{body}"
            );
        }
        let (other_id, _) = new_user(&server, "second").await;
        let mut tokens = [(admin_id, admin.clone()), (other_id, String::new())];
        for round in 0..6 {
            // Whoever is still an administrator makes the other one again.
            let (keeper, keeper_token) = tokens
                .iter()
                .find(|(id, t)| !t.is_empty() && *id > 0)
                .cloned()
                .unwrap();
            let other = tokens.iter().map(|t| t.0).find(|id| *id != keeper).unwrap();
            let (status, _) = call(
                &server,
                Some(&keeper_token),
                "POST",
                &format!("/api/admin/users/{other}/promote"),
                None,
            )
            .await;
            assert_eq!(status, 200);
            let name = if other == admin_id { "admin" } else { "second" };
            let password = if other == admin_id {
                "admin123"
            } else {
                PASSWORD
            };
            let other_token = token(&server, name, password).await;
            assert_eq!(db_count(&server, ADMINS, 0).await, 2);
            let (demote_other, demote_keeper) = (
                format!("/api/admin/users/{other}/demote"),
                format!("/api/admin/users/{keeper}/demote"),
            );
            let (a, b) = tokio::join!(
                call(&server, Some(&keeper_token), "POST", &demote_other, None),
                call(&server, Some(&other_token), "POST", &demote_keeper, None),
            );
            let statuses = [a.0, b.0];
            assert_eq!(
                db_count(&server, ADMINS, 0).await,
                1,
                "{backend:?} round {round}: {statuses:?}"
            );
            assert!(statuses.contains(&200), "{statuses:?} {a:?} {b:?}");
            // The loser was either refused (409 last_admin) or, having lost
            // administration first, 403.
            assert!(
                statuses.iter().all(|s| [200, 403, 409].contains(s)),
                "{statuses:?}"
            );
            let keeper_left = db_count(
                &server,
                "SELECT COUNT(*) FROM users WHERE id = $1 AND is_admin = TRUE",
                keeper,
            )
            .await
                == 1;
            tokens = if keeper_left {
                [(keeper, keeper_token), (other, String::new())]
            } else {
                [(other, other_token), (keeper, String::new())]
            };
        }
    }
}

async fn register(server: &Server, name: &str, invite: Option<&str>) -> (u16, Value) {
    let mut body = json!({"username": name, "password": PASSWORD});
    if let Some(invite) = invite {
        body["invite"] = json!(invite);
    }
    call(server, None, "POST", "/api/auth/register", Some(body)).await
}

async fn invite(server: &Server, admin: &str, uses: i64) -> String {
    let (status, body) = call(
        server,
        Some(admin),
        "POST",
        "/api/admin/invitations",
        Some(json!({"expires_in_hours": 1, "max_uses": uses})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let path = body["path"].as_str().unwrap();
    assert!(path.starts_with("/register?invite="), "{path}");
    body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_invitation_with_one_use_admits_one_of_two_at_once() {
    for backend in backends() {
        let (server, admin) = admin_server(
            backend,
            &[
                ("REGISTRATION_MODE", "invite-only"),
                ("REGISTER_LIMIT", "off"),
            ],
        )
        .await;
        let (_, info) = call(&server, None, "GET", "/api/auth/registration", None).await;
        assert_eq!(info["mode"], "invite_only", "{info}");
        let (status, body) = register(&server, "uninvited", None).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("invite_required"))
        );
        let (status, body) = register(&server, "forger", Some(&"A".repeat(43))).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("invalid_invite"))
        );

        for round in 0..4 {
            let token = invite(&server, &admin, 1).await;
            let (first, second) = (format!("first{round}"), format!("second{round}"));
            let (a, b) = tokio::join!(
                register(&server, &first, Some(&token)),
                register(&server, &second, Some(&token)),
            );
            let mut statuses = [a.0, b.0];
            statuses.sort_unstable();
            assert_eq!(statuses, [201, 403], "{backend:?}: {a:?} {b:?}");
            let sql = "SELECT COUNT(*) FROM users WHERE (username LIKE 'first%' OR username LIKE 'second%') AND id > $1";
            assert_eq!(db_count(&server, sql, 0).await, round + 1);
        }

        // A taken name gives the use back; a revoked or expired link admits nobody.
        let token = invite(&server, &admin, 1).await;
        let (status, _) = register(&server, "alice", Some(&token)).await;
        assert_eq!(status, 409);
        assert_eq!(register(&server, "newcomer", Some(&token)).await.0, 201);
        let token = invite(&server, &admin, 5).await;
        let (_, list) = call(
            &server,
            Some(&admin),
            "GET",
            "/api/admin/invitations?limit=1",
            None,
        )
        .await;
        let id = list["invitations"][0]["id"].as_i64().unwrap();
        assert_eq!(list["invitations"][0]["usable"], true);
        assert!(list["next_before"].is_i64(), "{list}");
        let (status, _) = call(
            &server,
            Some(&admin),
            "DELETE",
            &format!("/api/admin/invitations/{id}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        let (status, body) = register(&server, "late", Some(&token)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("invalid_invite"))
        );
        let token = invite(&server, &admin, 5).await;
        db_execute(
            &server,
            "UPDATE invitations SET expires_at = 1 WHERE revoked = FALSE",
        )
        .await;
        assert_eq!(register(&server, "expired", Some(&token)).await.0, 403);
        let (status, _) = call(
            &server,
            Some(&admin),
            "POST",
            "/api/admin/invitations",
            Some(json!({"expires_in_hours": 0, "max_uses": 1})),
        )
        .await;
        assert_eq!(status, 422);
    }
}

#[tokio::test]
async fn the_registration_mode_comes_from_the_environment_unless_the_admin_sets_it() {
    for backend in backends() {
        let (server, admin) = admin_server(backend, &[]).await;
        let (_, settings) = call(&server, Some(&admin), "GET", "/api/admin/settings", None).await;
        assert_eq!(settings["registration_mode"], "open", "{settings}");
        assert_eq!(register(&server, "walkin", None).await.0, 201);
        for (mode, code) in [
            ("closed", "registration_closed"),
            ("invite_only", "invite_required"),
        ] {
            let (status, body) = call(
                &server,
                Some(&admin),
                "PUT",
                "/api/admin/settings",
                Some(json!({"registration_mode": mode})),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["registration_mode_overridden"], true);
            let (_, info) = call(&server, None, "GET", "/api/auth/registration", None).await;
            assert_eq!(info["mode"], mode);
            let (status, body) = register(&server, "refused", None).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (403, Some(code)),
                "{backend:?}"
            );
        }
        // Closed means closed, invitation or not.
        let (status, _) = call(
            &server,
            Some(&admin),
            "PUT",
            "/api/admin/settings",
            Some(json!({"registration_mode": "closed"})),
        )
        .await;
        assert_eq!(status, 200);
        let token = invite(&server, &admin, 1).await;
        assert_eq!(register(&server, "refused", Some(&token)).await.0, 403);
        // Null goes back to the environment's default.
        let (_, body) = call(
            &server,
            Some(&admin),
            "PUT",
            "/api/admin/settings",
            Some(json!({"registration_mode": null})),
        )
        .await;
        assert_eq!(body["registration_mode"], "open", "{body}");
        assert_eq!(body["registration_mode_overridden"], false);
        assert_eq!(register(&server, "welcome", Some(&token)).await.0, 201);
    }
}

#[tokio::test]
async fn a_reset_link_sets_a_password_once() {
    for backend in backends() {
        let (server, admin) = admin_server(backend, &[]).await;
        let alice = token(&server, "alice", "password123").await;
        let alice_id = db_count(
            &server,
            "SELECT id FROM users WHERE username = 'alice' AND id > $1",
            0,
        )
        .await;
        let (status, link) = call(
            &server,
            Some(&admin),
            "POST",
            &format!("/api/admin/users/{alice_id}/password-reset"),
            None,
        )
        .await;
        assert_eq!(status, 201, "{link}");
        let secret = link["token"].as_str().unwrap().to_owned();
        assert_eq!(link["path"], format!("/reset-password?token={secret}"));
        // Stored only as a hash.
        let sql = "SELECT COUNT(*) FROM password_resets WHERE user_id = $1";
        assert_eq!(db_count(&server, sql, alice_id).await, 1);
        let reset = |password: &'static str| {
            let secret = secret.clone();
            let server = &server;
            async move {
                call(
                    server,
                    None,
                    "POST",
                    "/api/auth/password-reset",
                    Some(json!({"token": secret, "new_password": password})),
                )
                .await
            }
        };
        assert_eq!(reset("short").await.0, 422);
        let (status, body) = reset("meadow-copper-violin-4").await;
        assert_eq!(status, 200, "{backend:?} {body}");
        assert_eq!(me_status(&server, &alice).await, 401, "sessions ended");
        assert_eq!(login_status(&server, "alice", "password123").await, 401);
        assert_eq!(
            login_status(&server, "alice", "meadow-copper-violin-4").await,
            200
        );
        let (status, body) = reset("another-copper-violin-5").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (404, Some("invalid_reset_link"))
        );
        assert_eq!(db_count(&server, sql, alice_id).await, 0);
        let (status, _) = call(
            &server,
            Some(&admin),
            "POST",
            "/api/admin/users/999999/password-reset",
            None,
        )
        .await;
        assert_eq!(status, 404);
    }
}

#[tokio::test]
async fn rooms_audit_and_status() {
    for backend in backends() {
        let (server, admin) = admin_server(backend, &[]).await;
        let (_, owner) = new_user(&server, "roomer").await;
        let room = create_room(&server, &owner, "Doomed").await;
        let (_, page) = call(
            &server,
            Some(&admin),
            "GET",
            "/api/admin/rooms?limit=200",
            None,
        )
        .await;
        let listed = page["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == room)
            .cloned()
            .unwrap();
        assert_eq!(listed["owner_username"], "roomer", "{listed}");
        assert_eq!(listed["members"], 1);
        let (_, first) = call(
            &server,
            Some(&admin),
            "GET",
            "/api/admin/rooms?limit=1",
            None,
        )
        .await;
        let after = first["next_after"].as_i64().unwrap();
        let (_, second) = call(
            &server,
            Some(&admin),
            "GET",
            &format!("/api/admin/rooms?limit=1&after={after}"),
            None,
        )
        .await;
        assert!(second["rooms"][0]["id"].as_i64().unwrap() > after);

        let (status, _) = call(
            &server,
            Some(&admin),
            "DELETE",
            &format!("/api/admin/rooms/{room}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        let (status, _) = call(
            &server,
            Some(&admin),
            "DELETE",
            &format!("/api/admin/rooms/{room}"),
            None,
        )
        .await;
        assert_eq!(status, 404);
        let (_, audit) = call(&server, Some(&admin), "GET", "/api/admin/audit", None).await;
        let newest = &audit["entries"][0];
        assert_eq!(newest["action"], "room_deleted", "{audit}");
        assert_eq!(newest["detail"], "Doomed");
        assert_eq!(newest["actor_username"], "admin");
        let (_, older) = call(
            &server,
            Some(&admin),
            "GET",
            "/api/admin/audit?limit=1",
            None,
        )
        .await;
        let before = older["next_before"].as_i64().unwrap();
        let (_, next) = call(
            &server,
            Some(&admin),
            "GET",
            &format!("/api/admin/audit?limit=1&before={before}"),
            None,
        )
        .await;
        assert!(next["entries"][0]["id"].as_i64().unwrap() < before);

        let (_socket, _events) = connect(&server, &owner).await;
        // The socket is counted once its handshake is through.
        let deadline = std::time::Instant::now() + WAIT;
        let status = loop {
            let (_, status) = call(&server, Some(&admin), "GET", "/api/admin/status", None).await;
            if status["connections"].as_i64().unwrap() >= 1 || std::time::Instant::now() > deadline
            {
                break status;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        let engine = if backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        };
        assert_eq!(status["database"], engine, "{status}");
        assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(status["nodes"], 1);
        assert!(status["connections"].as_i64().unwrap() >= 1, "{status}");
        assert_eq!(status["admins"], 1);
    }
}

#[tokio::test]
async fn the_command_line_invites_and_keeps_the_last_admin() {
    for backend in backends() {
        let (server, _admin) = admin_server(backend, &[("REGISTRATION_MODE", "invite-only")]).await;
        let out = server.cli(&["invite", "create", "--uses", "1"], None);
        assert!(out.status.success(), "{}", testkit::text(&out.stderr));
        let printed = testkit::text(&out.stdout);
        let token = printed
            .lines()
            .find_map(|l| l.strip_prefix("/register?invite="))
            .unwrap()
            .to_owned();
        assert_eq!(register(&server, "clinvited", Some(&token)).await.0, 201);
        assert_eq!(register(&server, "clinvited2", Some(&token)).await.0, 403);

        let out = server.cli(&["user", "demote", "admin"], None);
        assert!(!out.status.success());
        assert!(testkit::text(&out.stderr).contains("last enabled site administrator"));
        let out = server.cli(&["user", "disable", "admin"], None);
        assert!(!out.status.success(), "{backend:?}");
        let out = server.cli(&["user", "promote", "alice"], None);
        assert!(out.status.success());
        let out = server.cli(&["user", "demote", "admin"], None);
        assert!(out.status.success(), "{}", testkit::text(&out.stderr));
        assert_eq!(db_count(&server, ADMINS, 0).await, 1);
    }
}
