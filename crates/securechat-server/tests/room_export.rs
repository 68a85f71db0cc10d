//! A room's export against the real binary, on every configured storage
//! backend: only the owner gets it (a member 403, an outsider 404, a wrong
//! password 401), the zip opens in an independent reader, every message of
//! a plaintext channel is in its JSON in order and in its HTML page as
//! escaped text, an encrypted channel's are there as the ciphertext the
//! server keeps, and the room's files are byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use serde_json::json;
use testkit::{
    Server, backends, call, connect, json_entry, new_user, post_as, post_text, room_and_channel,
    token, unzip_independently,
};

async fn export(server: &Server, token: &str, room: i64, password: &str) -> reqwest::Response {
    let path = format!("/api/rooms/{room}/export");
    post_as(server, token, &path, json!({ "password": password })).await
}

#[tokio::test]
async fn the_owner_exports_the_room_as_json_html_and_files() {
    for backend in backends() {
        // Many messages quickly: no send rate limit.
        let server = Server::start_with(backend, &[("SEND_RATE_LIMIT", "off")]).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (_, outsider) = new_user(&server, "outsider").await;
        let (room, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (socket, _events) = connect(&server, &alice).await;
        // More than one page of the export's reads, with markup in them.
        for i in 0..620 {
            post_text(&socket, general, &format!("note {i} <b>&</b>")).await;
        }
        let upload = testkit::api_client()
            .post(server.url(&format!("/api/channels/{general}/files?name=plan.txt")))
            .bearer_auth(&alice)
            .header("content-type", "application/octet-stream")
            .body(b"the plan, byte for byte".to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(upload.status(), 201);

        assert_eq!(
            export(&server, &bob, room, "password456").await.status(),
            403
        );
        assert_eq!(
            export(&server, &outsider, room, "plum-kettle-orbit-7")
                .await
                .status(),
            404
        );
        assert_eq!(
            export(&server, &alice, room, "wrong-password")
                .await
                .status(),
            401
        );

        let response = export(&server, &alice, room, "password123").await;
        assert_eq!(response.status(), 200, "{backend:?}");
        assert_eq!(response.headers()["content-type"], "application/zip");
        let entries = unzip_independently(&response.bytes().await.unwrap());

        let head = json_entry(&entries, "room.json");
        assert_eq!(head["room"]["name"], "Project X");
        assert!(
            head["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["username"] == "alice" && m["role"] == "owner"),
            "{head}"
        );
        let channels = head["channels"].as_array().unwrap();
        let plain = channels.iter().find(|c| c["id"] == general).unwrap();
        let messages = json_entry(&entries, plain["messages"].as_str().unwrap());
        let texts: Vec<&str> = messages
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["content"].as_str())
            .collect();
        for i in 0..620 {
            assert!(
                texts.contains(&format!("note {i} <b>&</b>").as_str()),
                "{i}"
            );
        }
        let ids: Vec<i64> = messages
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first");

        let page_name = plain["messages"]
            .as_str()
            .unwrap()
            .replace(".json", ".html");
        let page = entries[&page_name]["text"].as_str().unwrap();
        assert!(
            page.contains("note 619 &lt;b&gt;&amp;&lt;/b&gt;"),
            "escaped text"
        );
        assert!(!page.contains("<b>&</b>"), "never markup");
        let index = entries["index.html"]["text"].as_str().unwrap();
        assert!(index.contains(&format!("href=\"{page_name}\"")), "{index}");

        // The encrypted channel is there as ciphertext, not as a page.
        let secret = channels.iter().find(|c| c["is_encrypted"] == true).unwrap();
        let secret_json = secret["messages"].as_str().unwrap();
        assert!(entries.contains_key(secret_json));
        assert!(!entries.contains_key(&secret_json.replace(".json", ".html")));

        let files = json_entry(&entries, "files.json");
        let file_id = files[0]["id"].as_i64().unwrap();
        use sha2::Digest as _;
        let digest: String = sha2::Sha256::digest(b"the plan, byte for byte")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            entries[&format!("files/{file_id}-plan.txt")]["sha256"],
            digest.as_str()
        );
        // A member's view of the room was not changed by any of it.
        let (status, _) = call(
            &server,
            Some(&bob),
            "GET",
            &format!("/api/rooms/{room}"),
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
}
