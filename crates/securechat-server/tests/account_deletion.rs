//! "Delete my account" against the real binary, on every configured
//! storage backend: what a deleted account leaves (a `deleted-<id>`
//! tombstone as the sender of what it sent, its DMs) and what it takes
//! (sessions, sockets, memberships, uploads, avatar, keys, settings), the
//! refusals (wrong password, an owner, the last administrator), two
//! deletions at once, and the name being free again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use serde_json::{Value, json};
use testkit::{
    Server, ask, backends, call, connect, db_count, db_execute, login_status, me_status, new_user,
    next_event, room_and_channel, token,
};

const PASSWORD: &str = "plum-kettle-orbit-7";

async fn delete_me(server: &Server, token: &str, password: &str) -> (u16, Value) {
    call(
        server,
        Some(token),
        "POST",
        "/api/users/me/delete",
        Some(json!({ "password": password })),
    )
    .await
}

/// A 1×1 PNG, as an avatar.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test]
async fn a_deleted_account_leaves_a_tombstone_and_takes_the_rest() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (carol_id, carol) = new_user(&server, "carol").await;
        let (room, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let (status, body) = call(
            &server,
            Some(&carol),
            "POST",
            &format!("/api/rooms/{room}/join"),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        // A DM with erin, a message, an upload, an avatar, a display name.
        let (erin_id, erin) = new_user(&server, "erin").await;
        let (status, dm) = call(
            &server,
            Some(&carol),
            "POST",
            "/api/dms",
            Some(json!({ "user_id": erin_id })),
        )
        .await;
        assert!(status == 200 || status == 201, "{dm}");
        let (carol_socket, mut carol_events) = connect(&server, &carol).await;
        let ack = ask(
            &carol_socket,
            "send_message",
            json!({"channel_id": general, "content": "carol was here", "client_msg_id": "c4r01-0001"}),
        )
        .await;
        assert_eq!(ack["success"], true, "{ack}");
        let upload = testkit::api_client()
            .post(server.url(&format!("/api/channels/{general}/files?name=carol.txt")))
            .bearer_auth(&carol)
            .header("content-type", "application/octet-stream")
            .body(b"carol's file".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(upload.status(), 201);
        let file: Value = upload.json().await.unwrap();
        let file_id = file["file"]["id"].as_i64().unwrap();
        let avatar = testkit::api_client()
            .put(server.url("/api/users/me/avatar"))
            .bearer_auth(&carol)
            .body(PNG.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(avatar.status(), 200);
        let (status, _) = call(
            &server,
            Some(&carol),
            "PATCH",
            "/api/users/me/profile",
            Some(json!({"display_name": "Carol Danvers"})),
        )
        .await;
        assert_eq!(status, 200);
        let (_bob_socket, mut bob_events) = connect(&server, &bob).await;

        // Refusals first: a wrong password, an owner, the last administrator.
        let (status, body) = delete_me(&server, &carol, "not-her-password").await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("invalid_credentials"))
        );
        let (status, body) = delete_me(&server, &alice, "password123").await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["code"], "owns_rooms");
        assert!(
            body["message"].as_str().unwrap().contains("Project X"),
            "{body}"
        );
        // Erin, made the only administrator (the demo's owns Lobby).
        db_execute(&server, "UPDATE users SET is_admin = (username = 'erin')").await;
        let (status, body) = delete_me(&server, &erin, PASSWORD).await;
        assert_eq!((status, body["code"].as_str()), (409, Some("last_admin")));
        db_execute(&server, "UPDATE users SET is_admin = (username = 'admin')").await;
        let admin = token(&server, "admin", "admin123").await;
        assert_eq!(
            me_status(&server, &alice).await,
            200,
            "refused: nothing changed"
        );

        let (status, body) = delete_me(&server, &carol, PASSWORD).await;
        assert_eq!(status, 200, "{backend:?} {body}");
        assert_eq!(body["success"], true);

        // Signed out everywhere, socket closed, and no way back in.
        assert_eq!(me_status(&server, &carol).await, 401);
        assert_eq!(login_status(&server, "carol", PASSWORD).await, 401);
        let ended = tokio::time::timeout(testkit::WAIT, async {
            while carol_events.recv().await.is_some() {}
        })
        .await;
        assert!(ended.is_ok(), "her socket was closed");
        // The room hears that she left.
        let left = next_event(&mut bob_events, "member_left").await;
        assert_eq!(left["user_id"], carol_id, "{left}");

        // What she sent stays, from a tombstone.
        let tombstone = format!("deleted-{carol_id}");
        let (_, messages) = call(
            &server,
            Some(&bob),
            "GET",
            &format!("/api/channels/{general}/messages"),
            None,
        )
        .await;
        let hers = messages["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["content"] == "carol was here")
            .expect("her message stays");
        assert_eq!(hers["sender_id"], carol_id);
        assert_eq!(hers["sender_username"], tombstone.as_str());
        // Her DM stays for erin, with the tombstone as the other person.
        let (_, rooms) = call(&server, Some(&erin), "GET", "/api/rooms", None).await;
        let dms: Vec<&Value> = rooms["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["kind"] == "dm")
            .collect();
        assert!(
            dms.iter()
                .any(|r| r["dm_peer"]["username"] == tombstone.as_str()),
            "{rooms}"
        );

        // What was only hers is gone.
        for (sql, what) in [
            (
                "SELECT COUNT(*) FROM sessions WHERE user_id = $1",
                "sessions",
            ),
            (
                "SELECT COUNT(*) FROM profiles WHERE user_id = $1",
                "profile",
            ),
            (
                "SELECT COUNT(*) FROM files WHERE uploader_id = $1",
                "uploads",
            ),
            ("SELECT COUNT(*) FROM user_keys WHERE user_id = $1", "keys"),
            (
                "SELECT COUNT(*) FROM room_members m JOIN rooms r ON r.id = m.room_id \
                 WHERE m.user_id = $1 AND r.kind <> 'dm'",
                "room memberships",
            ),
        ] {
            assert_eq!(
                db_count(&server, sql, carol_id).await,
                0,
                "{backend:?} {what}"
            );
        }
        let sql = "SELECT COUNT(*) FROM users WHERE id = $1 AND disabled = TRUE \
                   AND deleted_at IS NOT NULL AND username LIKE 'deleted-%'";
        assert_eq!(db_count(&server, sql, carol_id).await, 1);
        let (status, _) = call(
            &server,
            Some(&bob),
            "GET",
            &format!("/api/files/{file_id}"),
            None,
        )
        .await;
        assert_eq!(status, 404, "her upload is gone");
        let (status, _) = call(
            &server,
            Some(&bob),
            "GET",
            &format!("/api/users/{carol_id}/avatar"),
            None,
        )
        .await;
        assert_eq!(status, 404, "her avatar is gone");
        // No blob of hers is left in the file store.
        let blobs = walk(&server.data_dir);
        assert!(
            !blobs.iter().any(|b| b == b"carol's file"),
            "the upload's bytes were removed"
        );

        // Her name is free again; the tombstone's is nobody's to take.
        let (status, body) = call(
            &server,
            None,
            "POST",
            "/api/auth/register",
            Some(json!({"username": tombstone, "password": PASSWORD})),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (422, Some("invalid_username"))
        );
        let (new_id, _) = new_user(&server, "carol").await;
        assert_ne!(new_id, carol_id);
        // Deleting again finds nothing.
        let (status, _) = call(
            &server,
            Some(&admin),
            "DELETE",
            &format!("/api/admin/users/{carol_id}"),
            None,
        )
        .await;
        assert_eq!(status, 404);
    }
}

/// The contents of every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push(bytes);
        }
    }
    found
}

#[tokio::test]
async fn two_deletions_at_once_delete_once() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let (dave_id, dave) = new_user(&server, "dave").await;
        let (a, b) = tokio::join!(
            delete_me(&server, &dave, PASSWORD),
            delete_me(&server, &dave, PASSWORD)
        );
        let mut statuses = [a.0, b.0];
        statuses.sort_unstable();
        assert_eq!(statuses[0], 200, "{backend:?} {a:?} {b:?}");
        assert!(
            [401, 404].contains(&statuses[1]),
            "the second finds the account gone: {a:?} {b:?}"
        );
        let sql = "SELECT COUNT(*) FROM site_audit WHERE target_user_id = $1 AND action = 'account_deleted'";
        assert_eq!(db_count(&server, sql, dave_id).await, 1, "{backend:?}");
    }
}
