//! "Export my data" against the real binary, on every configured storage
//! backend: the archive holds the person's messages, reactions and
//! uploads and nobody else's, its files are byte for byte what was
//! uploaded, it is a valid zip to an independent reader (Python's
//! `zipfile`, which checks every CRC), and the password is required and
//! counted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use serde_json::json;
use testkit::{
    Server, ask, backends, connect, json_entry, post_as, post_text, room_and_channel, token,
    unzip_independently,
};

async fn export(server: &Server, token: &str, password: &str) -> reqwest::Response {
    post_as(
        server,
        token,
        "/api/users/me/export",
        json!({ "password": password }),
    )
    .await
}

#[tokio::test]
async fn the_export_holds_my_messages_reactions_and_files_and_nobody_elses() {
    for backend in backends() {
        // Many messages quickly: no send rate limit.
        let server = Server::start_with(backend, &[("SEND_RATE_LIMIT", "off")]).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        // Project X: alice owns it, bob is a member too (demo data).
        let (_, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (a, _a_events) = connect(&server, &alice).await;
        let (b, _b_events) = connect(&server, &bob).await;
        // Enough messages for several pages of the export's reads.
        let mut mine = Vec::new();
        for i in 0..1205 {
            mine.push(post_text(&a, general, &format!("alice says {i} 你好")).await);
        }
        let bobs = post_text(&b, general, "bob's own words").await;
        for (message, emoji) in [(bobs, "👍"), (mine[0], "🎉")] {
            let ack = ask(&a, "react", json!({"message_id": message, "emoji": emoji})).await;
            assert_eq!(ack["success"], true, "{ack}");
        }
        let ack = ask(&b, "react", json!({"message_id": mine[1], "emoji": "👀"})).await;
        assert_eq!(ack["success"], true, "{ack}");
        // One upload each; alice's has bytes that are not text.
        let payload: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for (who, name, bytes) in [
            (&alice, "notes/../plan.bin", payload.clone()),
            (&bob, "bob.txt", b"bob's file".to_vec()),
        ] {
            let response = testkit::api_client()
                .post(server.url(&format!("/api/channels/{general}/files?name={name}")))
                .bearer_auth(who)
                .header("content-type", "application/octet-stream")
                .body(bytes)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }

        let response = export(&server, &alice, "password123").await;
        assert_eq!(response.status(), 200, "{backend:?}");
        assert_eq!(response.headers()["content-type"], "application/zip");
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains("securechat-export-alice.zip")
        );
        let archive = response.bytes().await.unwrap();
        let entries = unzip_independently(&archive);

        let account = json_entry(&entries, "account.json");
        assert_eq!(account["account"]["username"], "alice");
        assert!(
            account["rooms"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["room_name"] == "Project X" && r["role"] == "owner"),
            "{account}"
        );
        let messages = json_entry(&entries, "messages.json");
        let texts: Vec<&str> = messages
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect();
        // Her 1205 messages plus the upload's file message, in order, and not bob's.
        for i in 0..1205 {
            assert!(
                texts.contains(&format!("alice says {i} 你好").as_str()),
                "{i}"
            );
        }
        assert!(!texts.contains(&"bob's own words"));
        let ids: Vec<i64> = messages
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "in id order");
        assert_eq!(ids.len(), 1206, "her messages and her file's message");
        let reactions = json_entry(&entries, "reactions.json");
        let given: Vec<(i64, &str)> = reactions
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["message_id"].as_i64().unwrap(),
                    r["emoji"].as_str().unwrap(),
                )
            })
            .collect();
        let mut expected = vec![(bobs, "👍"), (mine[0], "🎉")];
        expected.sort();
        assert_eq!(given, expected, "her reactions only");
        let files = json_entry(&entries, "files.json");
        let files = files.as_array().unwrap();
        assert_eq!(files.len(), 1, "her upload only: {files:?}");
        let file_id = files[0]["id"].as_i64().unwrap();
        assert!(files[0].get("storage_key").is_none());
        let name = files[0]["name"].as_str().unwrap();
        let stored = entries
            .keys()
            .find(|k| k.starts_with("files/"))
            .expect("a files/ entry");
        assert_eq!(stored, &format!("files/{file_id}-{name}"));
        assert!(!stored[6..].contains('/'), "one level: {stored}");
        assert_eq!(
            entries.keys().filter(|k| k.starts_with("files/")).count(),
            1
        );
        // Byte for byte.
        use sha2::Digest as _;
        let digest: String = sha2::Sha256::digest(&payload)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(entries[stored]["sha256"], digest.as_str());
        assert_eq!(files[0]["sha256"], digest.as_str());
    }
}

#[tokio::test]
async fn the_export_needs_the_password_and_counts_wrong_ones() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let anonymous = testkit::api_client()
            .post(server.url("/api/users/me/export"))
            .json(&json!({"password": "password123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), 401);
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(
                export(&server, &alice, "not-her-password")
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert_eq!(statuses[0], 401, "{statuses:?}");
        assert!(
            statuses.contains(&429),
            "wrong passwords lock the account: {statuses:?}"
        );
        // Locked: even the right password waits.
        assert_eq!(export(&server, &alice, "password123").await.status(), 429);
    }
}
