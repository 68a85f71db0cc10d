//! Files and resources against the real server: uploads streamed to the
//! blob store and back byte for byte, who may download, limits that bite
//! early, names and types that cannot hurt, ciphertext only in encrypted
//! channels, files gone with their message, and resources with their
//! permission table and live events.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::time::Duration;

use securechat_crypto::file::{FileKey, encrypt};
use securechat_crypto::{ChannelKey, Envelope, SealedShare, SharePurpose};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use testkit::{
    Server, WAIT, ask, backends, call, connect, db_count, member, new_user, next_event, no_event,
    room_and_channel, rss_kib, token,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn upload(
    server: &Server,
    token: &str,
    channel: i64,
    query: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let response = testkit::api_client()
        .post(server.url(&format!("/api/channels/{channel}/files{query}")))
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn download(server: &Server, token: &str, path: &str) -> reqwest::Response {
    testkit::api_client()
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A file message posted over HTTP reaches exactly the sockets that a
/// message sent over a socket reaches: those that joined its channel, the
/// sender's included; not a member's socket that has not joined it.
#[tokio::test]
async fn a_file_message_reaches_the_sockets_a_socket_message_reaches() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let (alice_socket, mut alice_events) = connect(&server, &alice).await;
        let (bob_in, mut bob_in_events) = connect(&server, &bob).await;
        let (_bob_out, mut bob_out_events) = connect(&server, &bob).await;
        for socket in [&alice_socket, &bob_in] {
            let joined = ask(socket, "join_channel", json!({"channel_id": general})).await;
            assert_eq!(joined["success"], true, "{joined}");
        }

        let sent = ask(
            &alice_socket,
            "send_message",
            json!({"channel_id": general, "content": "over the socket", "client_msg_id": "s-1"}),
        )
        .await;
        assert_eq!(sent["success"], true, "{sent}");
        let id = &sent["message"]["id"];
        assert_eq!(
            &next_event(&mut bob_in_events, "new_message").await["id"],
            id
        );
        assert_eq!(
            &next_event(&mut alice_events, "new_message").await["id"],
            id
        );
        let quiet = Duration::from_millis(400);
        no_event(&mut bob_out_events, "new_message", quiet).await;

        let (s, posted) = upload(&server, &alice, general, "?name=a.txt", b"a file".to_vec()).await;
        assert_eq!(s, 201, "{backend:?} {posted}");
        let id = &posted["message"]["id"];
        assert!(id.is_i64(), "{posted}");
        let pushed = next_event(&mut bob_in_events, "new_message").await;
        assert_eq!(&pushed["id"], id);
        assert_eq!(pushed["file"]["id"], posted["file"]["id"]);
        assert_eq!(
            &next_event(&mut alice_events, "new_message").await["id"],
            id
        );
        no_event(&mut bob_out_events, "new_message", quiet).await;
    }
}

/// Names of the blobs on disk.
fn blobs(server: &Server) -> Vec<String> {
    let dir = server.data_dir.join("files");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn upload_download_round_trip_and_who_may_read() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (lobby, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let (bob_socket, mut bob_events) = connect(&server, &bob).await;
        let joined = ask(&bob_socket, "join_channel", json!({"channel_id": general})).await;
        assert_eq!(joined["success"], true, "{joined}");

        let bytes: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (s, body) = upload(
            &server,
            &alice,
            general,
            "?name=../../etc/passwd%0D%0AX-Evil:%201&caption=the%20numbers",
            bytes.clone(),
        )
        .await;
        assert_eq!(s, 201, "{backend:?} {body}");
        let file = &body["file"];
        let id = file["id"].as_i64().unwrap();
        assert_eq!(file["name"], "_.._etc_passwd__X-Evil: 1");
        assert_eq!(file["sha256"], hex(&Sha256::digest(&bytes)));
        assert_eq!(file["size"], 300_000);
        assert_eq!(body["message"]["content"], "the numbers");
        assert_eq!(body["message"]["file"]["id"], id);
        // Stored under a random name, never the user's.
        let on_disk = blobs(&server);
        assert_eq!(on_disk.len(), 1);
        assert!(on_disk[0].len() == 32 && on_disk[0].bytes().all(|b| b.is_ascii_hexdigit()));

        // Members in the channel receive the message live and can download
        // the same bytes.
        let pushed = next_event(&mut bob_events, "new_message").await;
        assert_eq!(pushed["file"]["id"], id);
        let response = download(&server, &bob, &format!("/api/files/{id}")).await;
        assert_eq!(response.status(), 200);
        let h = response.headers().clone();
        assert_eq!(h["content-type"], "application/octet-stream");
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .starts_with("sandbox")
        );
        let disposition = h["content-disposition"].to_str().unwrap();
        assert!(disposition.starts_with("attachment; filename=\"_.._etc_passwd__X-Evil: 1\""));
        assert!(h.get("x-evil").is_none());
        let got = response.bytes().await.unwrap();
        assert_eq!(hex(&Sha256::digest(&got)), hex(&Sha256::digest(&bytes)));
        // History carries the file too.
        let (_, history) = call(
            &server,
            Some(&bob),
            "GET",
            &format!("/api/channels/{general}/messages"),
            None,
        )
        .await;
        assert!(
            history["messages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["file"]["id"] == id)
        );
        let (_, list) = call(
            &server,
            Some(&bob),
            "GET",
            &format!("/api/channels/{general}/files"),
            None,
        )
        .await;
        assert_eq!(list["files"][0]["id"], id);

        // Outsiders and kicked members get 404, as for a file that does not exist.
        let (dave_id, dave) = new_user(&server, "dave").await;
        assert_eq!(
            download(&server, &dave, &format!("/api/files/{id}"))
                .await
                .status(),
            404
        );
        assert_eq!(
            download(&server, &bob, "/api/files/999999").await.status(),
            404
        );
        let admin = token(&server, "admin", "admin123").await;
        let (s, _) = call(
            &server,
            Some(&admin),
            "POST",
            &format!("/api/rooms/{lobby}/members"),
            Some(json!({"user_id": dave_id})),
        )
        .await;
        assert!(s == 201 || s == 200, "{s}");
        assert_eq!(
            download(&server, &dave, &format!("/api/files/{id}"))
                .await
                .status(),
            200
        );
        let (s, _) = call(
            &server,
            Some(&admin),
            "DELETE",
            &format!("/api/rooms/{lobby}/members/{dave_id}"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        assert_eq!(
            download(&server, &dave, &format!("/api/files/{id}"))
                .await
                .status(),
            404
        );

        // A corrupted blob is never served as if it were the file.
        // (Same length, one byte changed: only the hash can tell.)
        let blob_path = server.data_dir.join("files").join(&on_disk[0]);
        let mut tampered = std::fs::read(&blob_path).unwrap();
        tampered[150_000] ^= 0xff;
        std::fs::write(&blob_path, &tampered).unwrap();
        let outcome = testkit::api_client()
            .get(server.url(&format!("/api/files/{id}")))
            .bearer_auth(&bob)
            .send()
            .await;
        let broken = match outcome {
            Err(_) => true,
            Ok(response) => response.bytes().await.is_err(),
        };
        assert!(broken, "a corrupt file must break the download");

        // Deleting the message deletes the file and its blob.
        let (alice_socket, _) = connect(&server, &alice).await;
        let message_id = body["message"]["id"].as_i64().unwrap();
        let ack = alice_socket
            .emit_with_ack("delete_message", &json!({"message_id": message_id}), WAIT)
            .await
            .unwrap();
        assert_eq!(ack["success"], true, "{ack}");
        assert_eq!(
            download(&server, &bob, &format!("/api/files/{id}"))
                .await
                .status(),
            404
        );
        assert!(blobs(&server).is_empty());
    }
}

#[tokio::test]
async fn only_checked_raster_images_are_ever_inline() {
    let server = Server::start(backends()[0]).await;
    let alice = token(&server, "alice", "password123").await;
    let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    let html = b"<!DOCTYPE html><script>alert(1)</script>".to_vec();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    for (name, bytes, inline_type) in [
        ("pic.png", png, Some("image/png")),
        ("page.png", html, None),
        ("logo.svg", svg, None),
    ] {
        let (s, body) = upload(&server, &alice, general, &format!("?name={name}"), bytes).await;
        assert_eq!(s, 201, "{body}");
        let id = body["file"]["id"].as_i64().unwrap();
        let response = download(&server, &alice, &format!("/api/files/{id}?inline=true")).await;
        let h = response.headers();
        let disposition = h["content-disposition"].to_str().unwrap();
        match inline_type {
            Some(t) => {
                assert_eq!(h["content-type"], t);
                assert!(disposition.starts_with("inline;"), "{name}");
            }
            None => {
                assert_eq!(h["content-type"], "application/octet-stream", "{name}");
                assert!(disposition.starts_with("attachment;"), "{name}");
            }
        }
    }
}

/// Streams `total` bytes of a chunked body and returns the status line the
/// server answered (it may answer, and close, long before the end).
/// Announces an upload of `len` bytes and reads the answer before sending
/// any of them: a refusal on the declared length alone comes at once (a
/// client still writing the body may see the connection closed first).
async fn refused_before_the_body(
    server: &Server,
    token: &str,
    channel: i64,
    len: usize,
) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/channels/{channel}/files?name=b HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n",
        server.port
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut response))
        .await
        .expect("no answer before the body")
        .unwrap();
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

async fn stream_upload(server: &Server, token: &str, channel: i64, total: usize) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/channels/{channel}/files?name=big.bin HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\n\
         Transfer-Encoding: chunked\r\n\r\n",
        server.port
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let chunk = vec![b'x'; 1 << 20];
        let mut sent = 0;
        while sent < total {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if write.write_all(&framed).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        let _ = write.write_all(b"0\r\n\r\n").await;
        sent
    });
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    while !response.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(60), read.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => response.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    writer.abort();
    String::from_utf8_lossy(&response)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn limits_bite_as_soon_as_they_are_passed_with_flat_memory() {
    let server = Server::start_with(backends()[0], &[("USER_QUOTA_MB", "30")]).await;
    let alice = token(&server, "alice", "password123").await;
    let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
    let before = rss_kib(server.pid());
    // 200 MB, no length announced: refused once 25 MB have passed.
    let status = stream_upload(&server, &alice, general, 200 << 20).await;
    assert!(status.contains(" 413 "), "{status}");
    let after = rss_kib(server.pid());
    assert!(
        after < before + 64 * 1024,
        "RSS grew from {before} KiB to {after} KiB while refusing a 200 MB upload"
    );
    assert!(
        blobs(&server).is_empty(),
        "nothing kept of a refused upload"
    );

    // A declared length over the limit is refused before any byte is read.
    let response = testkit::api_client()
        .post(server.url(&format!("/api/channels/{general}/files?name=x")))
        .bearer_auth(&alice)
        .header("content-length", (26u64 << 20).to_string())
        .body(vec![0u8; 10])
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }

    // The quota: 30 MB, 20 used, then 10 left.
    let (s, _) = upload(&server, &alice, general, "?name=a", vec![1; 20 << 20]).await;
    assert_eq!(s, 201);
    let (s, body) = refused_before_the_body(&server, &alice, general, 11 << 20).await;
    assert_eq!(s, 413, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("10.0 MB left"),
        "{body}"
    );
    let (s, _) = upload(&server, &alice, general, "?name=c", vec![1; 9 << 20]).await;
    assert_eq!(s, 201);
}

/// Files of `channel` as its member `token` lists them.
async fn listed(server: &Server, token: &str, channel: i64) -> Vec<String> {
    let response = download(server, token, &format!("/api/channels/{channel}/files")).await;
    let body: Value = response.json().await.unwrap();
    body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn an_upload_cut_off_midway_leaves_no_file_row_or_bytes() {
    let server = Server::start(backends()[0]).await;
    let alice = token(&server, "alice", "password123").await;
    let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let head = format!(
        "POST /api/channels/{general}/files?name=cut.bin HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\
         Authorization: Bearer {alice}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {}\r\n\r\n",
        server.port,
        8u32 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // More than one 5 MiB part, so the server has written to disk.
    stream.write_all(&vec![b'x'; 6 << 20]).await.unwrap();
    // The server is part-way through the body: its bytes are being staged.
    let mut staged = false;
    for _ in 0..100 {
        if !blobs(&server).is_empty() {
            staged = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(staged, "the first part was staged on disk");
    drop(stream);
    let mut left = blobs(&server);
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        left = blobs(&server);
    }
    assert!(
        left.is_empty(),
        "bytes left of the cut-off upload: {left:?}"
    );
    assert!(
        !listed(&server, &alice, general)
            .await
            .contains(&"cut.bin".to_owned())
    );
    // The server goes on taking uploads.
    let (s, _) = upload(&server, &alice, general, "?name=ok.txt", b"fine".to_vec()).await;
    assert_eq!(s, 201);
    assert!(
        listed(&server, &alice, general)
            .await
            .contains(&"ok.txt".to_owned())
    );
}

#[tokio::test]
async fn parallel_uploads_never_go_past_the_quota() {
    for backend in backends() {
        let server = Server::start_with(backend, &[("USER_QUOTA_MB", "1")]).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
        // Ten parallel uploads of 0.9 MB against a 1 MiB quota: one fits.
        let bodies: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; 900_000]).collect();
        let names: Vec<String> = (0..10).map(|i| format!("?name=part{i}.bin")).collect();
        let uploads = bodies
            .into_iter()
            .zip(&names)
            .map(|(body, name)| upload(&server, &alice, general, name, body));
        let statuses: Vec<u16> = futures_util::future::join_all(uploads)
            .await
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{backend:?}: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| *s == 201 || *s == 413),
            "{statuses:?}"
        );
        let (_, me) = call(&server, Some(&alice), "GET", "/api/auth/me", None).await;
        let stored = db_count(
            &server,
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM files WHERE uploader_id = $1",
            me["user"]["id"].as_i64().unwrap(),
        )
        .await;
        assert!(stored <= 1 << 20, "{backend:?}: {stored} bytes stored");
        assert_eq!(
            blobs(&server).len(),
            1,
            "the refused uploads' bytes are gone"
        );
    }
}

#[tokio::test]
async fn a_failed_or_repeated_upload_keeps_nothing_extra() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let (_, random) = room_and_channel(&server, &alice, "Lobby", "random").await;

        // An invalid client_msg_id is refused before anything is stored.
        let (s, body) = upload(
            &server,
            &alice,
            general,
            "?name=a.txt&client_msg_id=has%20space",
            b"a".to_vec(),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("invalid_client_msg_id"))
        );
        assert!(blobs(&server).is_empty(), "{backend:?}");

        // A retry with the same client_msg_id answers with the first message
        // and its file, and keeps no second copy.
        let (s, first) = upload(
            &server,
            &alice,
            general,
            "?name=b.txt&client_msg_id=up-1",
            b"first".to_vec(),
        )
        .await;
        assert_eq!(s, 201, "{first}");
        let (s, again) = upload(
            &server,
            &alice,
            general,
            "?name=b.txt&client_msg_id=up-1",
            b"first".to_vec(),
        )
        .await;
        assert!(s == 200 || s == 201, "{again}");
        assert_eq!(again["message"]["id"], first["message"]["id"]);
        assert_eq!(again["file"]["id"], first["file"]["id"]);
        assert_eq!(blobs(&server).len(), 1, "{backend:?}: one copy stored");
        assert_eq!(listed(&server, &alice, general).await, ["b.txt"]);

        // The same client_msg_id in another channel is not that message.
        let (s, body) = upload(
            &server,
            &alice,
            random,
            "?name=c.txt&client_msg_id=up-1",
            b"other".to_vec(),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (409, Some("client_msg_id_taken")),
            "{body}"
        );
        assert_eq!(
            blobs(&server).len(),
            1,
            "{backend:?}: nothing of the refused upload"
        );
        assert!(listed(&server, &alice, random).await.is_empty());
    }
}

#[tokio::test]
async fn encrypted_channels_store_ciphertext_only() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = member(&server, "alice", "password123").await;
        let (project, secrets) =
            room_and_channel(&server, &alice.token, "Project X", "secrets").await;

        let plaintext = b"PLAINTEXT-MARKER quarterly numbers".repeat(1000);
        let (s, body) = upload(
            &server,
            &alice.token,
            secrets,
            "?name=q.txt",
            plaintext.clone(),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("name_in_encrypted_channel"))
        );
        let (s, body) = upload(&server, &alice.token, secrets, "", plaintext.clone()).await;
        assert_eq!((s, body["code"].as_str()), (422, Some("not_encrypted")));
        assert!(blobs(&server).is_empty());

        let file_key = FileKey::generate().unwrap();
        let sealed = encrypt(&file_key, &plaintext).unwrap();
        let (s, body) = upload(&server, &alice.token, secrets, "", sealed.clone()).await;
        assert_eq!(s, 201, "{body}");
        assert_eq!(body["message"], Value::Null);
        assert_eq!(body["file"]["name"], Value::Null);
        assert_eq!(body["file"]["content_type"], "application/octet-stream");
        let file_id = body["file"]["id"].as_i64().unwrap();
        let stored = std::fs::read(server.data_dir.join("files").join(&blobs(&server)[0])).unwrap();
        assert_eq!(stored, sealed);
        assert!(!stored.windows(16).any(|w| w == b"PLAINTEXT-MARKER"));
        // Not posted yet: another member cannot attach it to a resource.
        let bob = member(&server, "bob", "password456").await;
        let (s, body) = call(
            &server,
            Some(&bob.token),
            "POST",
            &format!("/api/rooms/{project}/resources"),
            Some(json!({"channel_id": secrets, "file_id": file_id, "envelope": "x"})),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("invalid_file")),
            "{body}"
        );

        // The encrypted message carries the file; name and key are inside it.
        let key = ChannelKey::generate().unwrap();
        let share = SealedShare::seal_format1(
            &alice.identity,
            &alice.identity.bundle(),
            secrets,
            1,
            SharePurpose::Initial,
            &key,
        )
        .unwrap();
        let (s, _) = call(
            &server,
            Some(&alice.token),
            "POST",
            "/api/channels/share_key",
            Some(json!({"user_id": alice.id, "channel_id": secrets,
                "encrypted_key": share.to_wire(), "key_version": 1})),
        )
        .await;
        assert_eq!(s, 200);
        let inner =
            json!({"text": "numbers", "file": {"name": "q.txt", "key": *file_key.export()}});
        let envelope = Envelope::encrypt_format1(
            &alice.identity,
            &key,
            secrets,
            1,
            0,
            inner.to_string().as_bytes(),
        )
        .unwrap();
        let (socket, _) = connect(&server, &alice.token).await;
        let ack = socket
            .emit_with_ack(
                "send_message",
                &json!({"channel_id": secrets, "envelope": envelope.to_wire(), "key_version": 1,
                    "client_msg_id": "with-file", "file_id": file_id}),
                WAIT,
            )
            .await
            .unwrap();
        assert_eq!(ack["success"], true, "{ack}");
        assert_eq!(ack["message"]["file"]["id"], file_id);
        assert_eq!(ack["message"]["file"]["name"], Value::Null);
        // A file is carried by one message only, and only by its uploader.
        let again = socket
            .emit_with_ack(
                "send_message",
                &json!({"channel_id": secrets, "envelope": envelope.to_wire(), "key_version": 1,
                    "client_msg_id": "again", "file_id": file_id}),
                WAIT,
            )
            .await
            .unwrap();
        assert_eq!(again["code"], "file_already_posted", "{again}");
        let got = download(&server, &alice.token, &format!("/api/files/{file_id}")).await;
        let bytes = got.bytes().await.unwrap();
        assert_eq!(
            securechat_crypto::file::decrypt(&file_key, &bytes)
                .unwrap()
                .as_slice(),
            plaintext.as_slice()
        );
    }
}

#[tokio::test]
async fn resources_follow_the_permission_table_and_are_pushed() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (room, _) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (_alice_socket, mut alice_events) = connect(&server, &alice).await;
        let url = format!("/api/rooms/{room}/resources");

        // A member adds a link; everyone in the room hears of it.
        let (s, body) = call(
            &server,
            Some(&charlie),
            "POST",
            &url,
            Some(
                json!({"title": "Roadmap", "url": "https://example.com/road map",
                "description": "Q3 plan"}),
            ),
        )
        .await;
        assert_eq!(s, 201, "{body}");
        let rid = body["resource"]["id"].as_i64().unwrap();
        assert_eq!(body["resource"]["url"], "https://example.com/road%20map");
        let pushed = next_event(&mut alice_events, "resource_added").await;
        assert_eq!(pushed["resource"]["id"], rid);

        // Links that could run script, or nothing to link to, are refused.
        for (input, code) in [
            (
                json!({"title": "x", "url": "javascript:alert(1)"}),
                "invalid_url",
            ),
            (
                json!({"title": "x", "url": "data:text/html,hi"}),
                "invalid_url",
            ),
            (json!({"title": "x"}), "missing_link"),
            (
                json!({"title": "", "url": "https://e.com"}),
                "invalid_title",
            ),
        ] {
            let (s, body) = call(&server, Some(&charlie), "POST", &url, Some(input)).await;
            assert_eq!((s, body["code"].as_str()), (422, Some(code)));
        }

        // Search, then edits: the author and admins, nobody else.
        let (_, found) = call(&server, Some(&bob), "GET", &format!("{url}?q=q3"), None).await;
        assert_eq!(found["resources"].as_array().unwrap().len(), 1);
        let (_, none) = call(&server, Some(&bob), "GET", &format!("{url}?q=50%25"), None).await;
        assert_eq!(none["resources"].as_array().unwrap().len(), 0);
        let (s, body) = call(
            &server,
            Some(&bob),
            "POST",
            &url,
            Some(json!({"title": "Bob's", "url": "https://b.example"})),
        )
        .await;
        assert_eq!(s, 201);
        let bobs = body["resource"]["id"].as_i64().unwrap();
        let edit = json!({"title": "Roadmap v2", "url": "https://example.com/v2", "pinned": true});
        let (s, body) = call(
            &server,
            Some(&charlie),
            "PUT",
            &format!("{url}/{bobs}"),
            Some(edit.clone()),
        )
        .await;
        assert_eq!((s, body["code"].as_str()), (403, Some("not_your_resource")));
        let (s, _) = call(
            &server,
            Some(&charlie),
            "PUT",
            &format!("{url}/{rid}"),
            Some(edit.clone()),
        )
        .await;
        assert_eq!(s, 200);
        let (s, _) = call(
            &server,
            Some(&bob),
            "PUT",
            &format!("{url}/{rid}"),
            Some(edit),
        )
        .await;
        assert_eq!(s, 200, "bob is an admin of Project X");
        let (_, list) = call(&server, Some(&alice), "GET", &url, None).await;
        assert_eq!(list["resources"][0]["id"], rid, "pinned first");
        assert_eq!(list["resources"][0]["title"], "Roadmap v2");
        let (s, _) = call(
            &server,
            Some(&charlie),
            "DELETE",
            &format!("{url}/{bobs}"),
            None,
        )
        .await;
        assert_eq!(s, 403);
        let (s, _) = call(
            &server,
            Some(&alice),
            "DELETE",
            &format!("{url}/{bobs}"),
            None,
        )
        .await;
        assert_eq!(s, 200);
        let removed = next_event(&mut alice_events, "resource_removed").await;
        assert_eq!(removed["resource_id"], bobs);

        // Outsiders see nothing; encrypted channels take envelopes only.
        let (_, dave) = new_user(&server, "dave").await;
        assert_eq!(call(&server, Some(&dave), "GET", &url, None).await.0, 404);
        let (_, secrets) = room_and_channel(&server, &alice, "Project X", "secrets").await;
        let (s, body) = call(
            &server,
            Some(&alice),
            "POST",
            &url,
            Some(
                json!({"channel_id": secrets, "title": "Secret plan", "url": "https://x.example"}),
            ),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (422, Some("plaintext_in_encrypted_channel"))
        );
    }
}

/// `moto_server`, the local S3 implementation the Makefile installs.
fn moto_server() -> std::path::PathBuf {
    let path = std::env::var_os("MOTO_SERVER").map_or_else(
        || {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/s3-peer/bin/moto_server")
        },
        std::path::PathBuf::from,
    );
    assert!(
        path.is_file(),
        "the S3 test peer is missing at {}: run `make s3-peer` (or set MOTO_SERVER)",
        path.display()
    );
    path
}

struct Moto(std::process::Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn an_s3_bucket_holds_the_files_when_configured() {
    let port = testkit::free_port();
    let _moto = Moto(
        std::process::Command::new(moto_server())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let endpoint = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = http.put(format!("{endpoint}/chat-files")).send().await {
            ready = r.status().is_success();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "moto_server did not start or refused the bucket");

    let server = Server::start_with(
        backends()[0],
        &[
            ("FILE_STORE", "s3"),
            ("S3_BUCKET", "chat-files"),
            ("S3_ENDPOINT", &endpoint),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
        ],
    )
    .await;
    let alice = token(&server, "alice", "password123").await;
    let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
    // Larger than one 5 MiB part: a real multipart upload.
    let bytes: Vec<u8> = (0..12_000_000u32).map(|i| (i % 253) as u8).collect();
    let (s, body) = upload(&server, &alice, general, "?name=big.bin", bytes.clone()).await;
    assert_eq!(s, 201, "{body}");
    let id = body["file"]["id"].as_i64().unwrap();
    assert!(blobs(&server).is_empty(), "nothing on local disk");
    let listing = http
        .get(format!("{endpoint}/chat-files?list-type=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(listing.matches("<Key>").count(), 1, "{listing}");
    let got = download(&server, &alice, &format!("/api/files/{id}"))
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(hex(&Sha256::digest(&got)), hex(&Sha256::digest(&bytes)));

    let (socket, _) = connect(&server, &alice).await;
    let ack = socket
        .emit_with_ack(
            "delete_message",
            &json!({"message_id": body["message"]["id"]}),
            WAIT,
        )
        .await
        .unwrap();
    assert_eq!(ack["success"], true);
    let listing = http
        .get(format!("{endpoint}/chat-files?list-type=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(listing.matches("<Key>").count(), 0, "{listing}");
}

/// File ids cannot be counted: they are random and far apart, so a member
/// cannot reach someone else's upload by trying the next number; the list
/// of a channel's files still pages newest first through `before`.
#[tokio::test]
async fn file_ids_are_unguessable_and_the_list_still_pages() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let alice = token(&server, "alice", "password123").await;
        let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let mut ids = Vec::new();
        for i in 0..5u8 {
            let (s, body) = upload(&server, &alice, general, "?name=n.txt", vec![i; 10]).await;
            assert_eq!(s, 201, "{backend:?} {body}");
            ids.push(body["file"]["id"].as_i64().unwrap());
        }
        for pair in ids.windows(2) {
            assert!(
                (pair[1] - pair[0]).abs() > 1_000,
                "consecutive uploads got ids {} and {}",
                pair[0],
                pair[1]
            );
        }
        assert!(
            ids.iter().all(|id| ((1 << 32)..(1 << 53)).contains(id)),
            "{ids:?}"
        );
        let page = |before: Option<i64>| {
            let (server, alice) = (&server, &alice);
            async move {
                let query = before.map_or(String::new(), |b| format!("&before={b}"));
                let path = format!("/api/channels/{general}/files?limit=2{query}");
                let (s, body) = call(server, Some(alice), "GET", &path, None).await;
                assert_eq!(s, 200, "{body}");
                body["files"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["id"].as_i64().unwrap())
                    .collect::<Vec<_>>()
            }
        };
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let got = page(before).await;
            if got.is_empty() {
                break;
            }
            before = got.last().copied();
            seen.extend(got);
        }
        let newest_first: Vec<i64> = ids.iter().rev().copied().collect();
        assert_eq!(seen, newest_first, "{backend:?}");
    }
}
