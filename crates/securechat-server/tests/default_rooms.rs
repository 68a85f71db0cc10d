//! `DEFAULT_ROOMS`: every new account joins the site's default rooms, in
//! the transaction that creates it, on every configured storage backend.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use serde_json::json;
use testkit::{Backend, Server, backends, call, db_count, db_execute, new_user, text, token};

/// The names of the rooms (not DMs) a session's user is a member of.
async fn my_rooms(server: &Server, token: &str) -> Vec<String> {
    let (status, body) = call(server, Some(token), "GET", "/api/rooms", None).await;
    assert_eq!(status, 200, "{body}");
    let mut names: Vec<String> = body["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "room")
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn new_accounts_join_the_default_rooms() {
    for backend in backends() {
        let server = Server::start_with(
            backend,
            &[("DEFAULT_ROOMS", " Lobby, Project X ,Nowhere,Lobby")],
        )
        .await;
        let log = server
            .log_containing(&[
                "DEFAULT_ROOMS names no existing room",
                "DEFAULT_ROOMS names a private room",
            ])
            .await;
        assert!(
            log.contains("DEFAULT_ROOMS names no existing room") && log.contains("Nowhere"),
            "{backend:?}: an unknown name is warned about at start-up: {log}"
        );
        assert!(
            log.contains("DEFAULT_ROOMS names a private room"),
            "{backend:?}: a private room is left out with a warning: {log}"
        );

        // Registration: a member of Lobby (the private room is not joined).
        let (dave, dave_token) = new_user(&server, "dave").await;
        assert_eq!(
            my_rooms(&server, &dave_token).await,
            ["Lobby"],
            "{backend:?}"
        );
        let (status, body) = call(&server, Some(&dave_token), "GET", "/api/rooms", None).await;
        assert_eq!(status, 200);
        let lobby = body["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == "Lobby")
            .unwrap()
            .clone();
        assert_eq!(lobby["my_role"], "member", "{backend:?}");
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM room_audit WHERE action = 'member_joined' AND target_user_id = $1",
                dave,
            )
            .await,
            1,
            "{backend:?}: the join is audited"
        );
        // Lobby's members see the newcomer.
        let alice = token(&server, "alice", "password123").await;
        let room_id = lobby["id"].as_i64().unwrap();
        let (_, members) = call(
            &server,
            Some(&alice),
            "GET",
            &format!("/api/rooms/{room_id}/members"),
            None,
        )
        .await;
        assert!(
            members["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["username"] == "dave"),
            "{backend:?}: {members}"
        );

        // `securechat user add` does the same.
        let out = server.cli(
            &["user", "add", "erin", "--password-stdin"],
            Some("plum-kettle-orbit-7\n"),
        );
        assert!(out.status.success(), "{backend:?}: {}", text(&out.stderr));
        let erin = token(&server, "erin", "plum-kettle-orbit-7").await;
        assert_eq!(my_rooms(&server, &erin).await, ["Lobby"], "{backend:?}");
    }
}

#[tokio::test]
async fn without_default_rooms_a_new_account_joins_nothing() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (_, dave) = new_user(&server, "dave").await;
        assert!(my_rooms(&server, &dave).await.is_empty(), "{backend:?}");
    }
}

/// Makes every insert into `room_members` fail from now on.
async fn break_joins(server: &Server, backend: Backend) {
    match backend {
        Backend::Sqlite => {
            db_execute(
                server,
                "CREATE TRIGGER no_joins BEFORE INSERT ON room_members \
                 BEGIN SELECT RAISE(ABORT, 'joins are broken'); END",
            )
            .await
        }
        Backend::Postgres => {
            db_execute(
                server,
                "CREATE FUNCTION no_joins() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'joins are broken'; END $$",
            )
            .await;
            db_execute(
                server,
                "CREATE TRIGGER no_joins BEFORE INSERT ON room_members \
                 FOR EACH ROW EXECUTE FUNCTION no_joins()",
            )
            .await;
        }
    }
}

#[tokio::test]
async fn an_account_whose_joins_fail_is_not_created() {
    for backend in backends() {
        let server = Server::start_with(backend, &[("DEFAULT_ROOMS", "Lobby")]).await;
        break_joins(&server, backend).await;
        let (status, body) = call(
            &server,
            None,
            "POST",
            "/api/auth/register",
            Some(json!({"username": "dave", "password": "plum-kettle-orbit-7"})),
        )
        .await;
        assert_eq!(status, 500, "{backend:?}: {body}");
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM users WHERE id > $1 AND username = 'dave'",
                0,
            )
            .await,
            0,
            "{backend:?}: no account is left without its default rooms"
        );
        let out = server.cli(
            &["user", "add", "erin", "--password-stdin"],
            Some("plum-kettle-orbit-7\n"),
        );
        assert!(!out.status.success(), "{backend:?}");
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM users WHERE id > $1 AND username = 'erin'",
                0,
            )
            .await,
            0,
            "{backend:?}"
        );
    }
}
