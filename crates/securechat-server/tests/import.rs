//! `securechat import` against the real binary on every backend: sample
//! exports written here from Mattermost's bulk-export format (JSONL) and
//! Slack's export format (zip) — threads, edits, a file, a deleted user,
//! odd Unicode, lines that are not JSON — come in with their original
//! times, threads, reactions and edits; placeholders are disabled and can
//! be claimed with a reset link; an interrupted import run again completes
//! without duplicates.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::path::Path;

use serde_json::{Value, json};
use testkit::{Server, backends, call, db_count, login_status, token};

/// 2021-03-04T05:06:07Z and later times of the sample, in ms.
const T1: i64 = 1_614_834_367_000;
const T2: i64 = T1 + 60_000;
const T3: i64 = T1 + 120_000;

fn mattermost_lines() -> Vec<String> {
    let mut lines = vec![
        json!({"type": "version", "version": 1}),
        json!({"type": "team", "team": {"name": "acme", "display_name": "Acme Corp", "type": "O",
            "description": "The team"}}),
        json!({"type": "channel", "channel": {"team": "acme", "name": "town-square",
            "display_name": "Town Square", "type": "O", "header": "Everything"}}),
        json!({"type": "channel", "channel": {"team": "acme", "name": "secret",
            "display_name": "Secret", "type": "P"}}),
        json!({"type": "user", "user": {"username": "alice", "email": "a@example.com",
            "teams": [{"name": "acme", "channels": [{"name": "town-square"}, {"name": "secret"}]}]}}),
        json!({"type": "user", "user": {"username": "jörg", "email": "j@example.com",
            "teams": [{"name": "acme", "channels": [{"name": "town-square"}]}]}}),
        json!({"type": "user", "user": {"username": "gone", "email": "g@example.com",
            "delete_at": T1, "teams": [{"name": "acme", "channels": [{"name": "town-square"}]}]}}),
        json!({"type": "post", "post": {"team": "acme", "channel": "town-square", "user": "alice",
            "message": "Hello 👋 \u{200F}שלום\u{200F} zebrafish\u{0}!", "create_at": T1,
            "reactions": [{"user": "jörg", "emoji_name": "+1", "create_at": T1 + 10}],
            "replies": [
                {"user": "gone", "message": "first reply", "create_at": T1 + 1000},
                {"user": "alice", "message": "second reply, edited", "create_at": T1 + 2000,
                 "edit_at": T1 + 5000}
            ]}}),
    ]
    .into_iter()
    .map(|v| v.to_string())
    .collect::<Vec<_>>();
    // A lone surrogate escape, which JSON parsers refuse, and a file.
    lines.push(format!(
        r#"{{"type":"post","post":{{"team":"acme","channel":"town-square","user":"jörg","message":"odd \ud800 text","create_at":{T2},"attachments":[{{"path":"data/files/report.pdf"}}]}}}}"#
    ));
    lines.push(
        json!({"type": "post", "post": {"team": "acme", "channel": "secret", "user": "alice",
            "message": "private thing", "create_at": T3}})
        .to_string(),
    );
    lines.push(
        json!({"type": "direct_post", "direct_post": {"channel_members": ["alice", "gone"],
            "user": "alice", "message": "dm", "create_at": T3}})
        .to_string(),
    );
    lines.push("{not json".to_owned());
    lines
}

/// Runs the import command and returns its standard output.
fn import(server: &Server, args: &[&str]) -> String {
    let out = server.cli(args, None);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stdout}\n{stderr}");
    stdout
}

async fn rooms(server: &Server, token: &str) -> Vec<Value> {
    let (status, body) = call(server, Some(token), "GET", "/api/rooms", None).await;
    assert_eq!(status, 200, "{body}");
    body["rooms"].as_array().unwrap().clone()
}

fn channel_of(rooms: &[Value], room: &str, channel: &str) -> i64 {
    let room = rooms
        .iter()
        .find(|r| r["name"] == room)
        .unwrap_or_else(|| panic!("no room {room} in {rooms:?}"));
    room["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == channel)
        .unwrap_or_else(|| panic!("no channel {channel} in {room}"))["id"]
        .as_i64()
        .unwrap()
}

/// A channel's top-level messages, oldest first.
async fn history(server: &Server, token: &str, channel: i64) -> Vec<Value> {
    let path = format!("/api/channels/{channel}/messages?limit=200");
    let (status, body) = call(server, Some(token), "GET", &path, None).await;
    assert_eq!(status, 200, "{body}");
    let mut messages = body["messages"].as_array().unwrap().clone();
    messages.reverse();
    messages
}

async fn thread(server: &Server, token: &str, channel: i64, root: i64) -> Vec<Value> {
    let path = format!("/api/channels/{channel}/threads/{root}/messages?limit=200");
    let (status, body) = call(server, Some(token), "GET", &path, None).await;
    assert_eq!(status, 200, "{body}");
    let mut messages = body["messages"].as_array().unwrap().clone();
    messages.sort_by_key(|m| m["id"].as_i64());
    messages
}

/// The admin's view of an account found by name.
async fn account(server: &Server, admin: &str, name: &str) -> Value {
    let path = format!("/api/admin/users?q={name}");
    let (status, body) = call(server, Some(admin), "GET", &path, None).await;
    assert_eq!(status, 200, "{body}");
    body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == name)
        .unwrap_or_else(|| panic!("no account {name}: {body}"))
        .clone()
}

/// An administrator enables a placeholder and gives its person a reset
/// link; they set a password and sign in.
async fn claim(server: &Server, admin: &str, name: &str) {
    let id = account(server, admin, name).await["id"].as_i64().unwrap();
    assert_eq!(login_status(server, name, "Tr0ub4dor&3-horse").await, 401);
    let (status, body) = call(
        server,
        Some(admin),
        "POST",
        &format!("/api/admin/users/{id}/enable"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let path = format!("/api/admin/users/{id}/password-reset");
    let (status, link) = call(server, Some(admin), "POST", &path, None).await;
    assert_eq!(status, 201, "{link}");
    let body = json!({"token": link["token"], "new_password": "Tr0ub4dor&3-horse"});
    let (status, done) = call(server, None, "POST", "/api/auth/password-reset", Some(body)).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(login_status(server, name, "Tr0ub4dor&3-horse").await, 200);
}

const COUNT: &str = "SELECT COUNT(*) FROM messages WHERE channel_id = $1";

#[tokio::test]
async fn mattermost_export_comes_in_and_resumes_without_duplicates() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let lines = mattermost_lines();
        let full = dir.path().join("export.jsonl");
        std::fs::write(&full, lines.join("\n") + "\n").unwrap();
        // An interrupted copy: the file cut in the middle of the first post.
        let cut = dir.path().join("cut.jsonl");
        let text = lines[..7].join("\n") + "\n" + &lines[7][..lines[7].len() / 2];
        std::fs::write(&cut, text).unwrap();

        let first = import(&server, &["import", "mattermost", cut.to_str().unwrap()]);
        assert!(first.contains("Skipped: 1 × unreadable line"), "{first}");
        let out = import(&server, &["import", "mattermost", full.to_str().unwrap()]);
        assert!(
            out.contains("5 messages (2 thread replies), 1 reactions, 1 files"),
            "{out}"
        );
        assert!(out.contains("Skipped: 1 × direct message"), "{out}");
        let again = import(&server, &["import", "mattermost", full.to_str().unwrap()]);
        assert!(again.contains(" 0 messages"), "{again}");
        assert!(
            again.contains("Already imported by an earlier run: 5 messages"),
            "{again}"
        );

        let alice = token(&server, "alice", "password123").await;
        let admin = token(&server, "admin", "admin123").await;
        let mine = rooms(&server, &alice).await;
        let square = channel_of(&mine, "Acme Corp", "town-square");
        let secret = channel_of(&mine, "secret", "secret");
        // Bob is in neither room: the private channel is a room of its members.
        let bob = token(&server, "bob", "password456").await;
        assert!(
            rooms(&server, &bob)
                .await
                .iter()
                .all(|r| r["name"] != "secret")
        );

        assert_eq!(db_count(&server, COUNT, square).await, 4, "no duplicates");
        let top = history(&server, &alice, square).await;
        assert_eq!(top.len(), 2, "{top:?}");
        assert_eq!(top[0]["sender_username"], "alice");
        assert_eq!(
            top[0]["content"],
            "Hello 👋 \u{200F}שלום\u{200F} zebrafish!"
        );
        assert!(
            top[0]["created_at"]
                .as_str()
                .unwrap()
                .starts_with("2021-03-04T05:06:07")
        );
        assert_eq!(top[0]["reactions"][0]["emoji"], "👍");
        assert_eq!(top[0]["thread"]["reply_count"], 2);
        assert_eq!(top[1]["sender_username"], "j_rg");
        assert_eq!(top[1]["content"], "odd \u{FFFD} text\n[file: report.pdf]");
        assert!(
            top[1]["created_at"]
                .as_str()
                .unwrap()
                .starts_with("2021-03-04T05:07:07")
        );

        let root = top[0]["id"].as_i64().unwrap();
        let replies = thread(&server, &alice, square, root).await;
        let texts: Vec<&str> = replies
            .iter()
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        assert_eq!(texts, ["first reply", "second reply, edited"]);
        assert_eq!(replies[0]["sender_username"], "gone");
        assert!(replies[0]["edited_at"].is_null());
        assert!(
            replies[1]["edited_at"]
                .as_str()
                .unwrap()
                .starts_with("2021-03-04T05:06:12")
        );
        let private = history(&server, &alice, secret).await;
        assert_eq!(private.len(), 1);
        assert_eq!(private[0]["content"], "private thing");

        // Imported messages are searchable.
        let (status, found) = call(
            &server,
            Some(&alice),
            "GET",
            "/api/search?q=zebrafish",
            None,
        )
        .await;
        assert_eq!(status, 200, "{found}");
        assert_eq!(found["results"][0]["message"]["id"], root);

        // Alice was matched, not duplicated; the others are disabled
        // placeholders, the deleted one too, and can be claimed.
        assert!(account(&server, &admin, "alice").await["disabled"] == false);
        let (_, users) = call(
            &server,
            Some(&admin),
            "GET",
            "/api/admin/users?q=alice",
            None,
        )
        .await;
        assert_eq!(users["users"].as_array().unwrap().len(), 1, "{users}");
        assert_eq!(account(&server, &admin, "gone").await["disabled"], true);
        assert_eq!(account(&server, &admin, "j_rg").await["disabled"], true);
        claim(&server, &admin, "gone").await;
    }
}

/// A Slack export zip: `users.json`, `channels.json`, `groups.json` and
/// day files, written with an independent zip writer.
async fn slack_zip(path: &Path) {
    use async_zip::base::write::ZipFileWriter;
    use async_zip::{Compression, ZipEntryBuilder};
    let users = json!([
        {"id": "U1", "name": "alice", "team_id": "T1", "deleted": false},
        {"id": "U2", "name": "Pat Doe", "team_id": "T1", "deleted": false},
        {"id": "U3", "name": "ghost", "team_id": "T1", "deleted": true}
    ]);
    let channels = json!([{"id": "C1", "name": "general", "members": ["U1", "U2", "U3"],
        "topic": {"value": "Company-wide"}, "purpose": {"value": ""}}]);
    let groups = json!([{"id": "G1", "name": "leads", "members": ["U1"]}]);
    let day1 = json!([
        {"type": "message", "subtype": "channel_join", "user": "U2", "text": "<@U2> has joined",
         "ts": "1577880000.000050"},
        {"type": "message", "user": "U1", "text": "Kickoff", "ts": "1577880000.000100",
         "thread_ts": "1577880000.000100", "reply_count": 1,
         "edited": {"user": "U1", "ts": "1577880100.000000"},
         "reactions": [{"name": "tada", "users": ["U2", "U3"], "count": 2}]},
        {"type": "message", "subtype": "file_share", "user": "U3", "text": "",
         "ts": "1577880200.000000", "files": [{"id": "F1", "name": "plan.png", "title": "Plan"}]}
    ]);
    // A lone surrogate in the day's JSON text.
    let day2 = r#"[{"type":"message","user":"U2","text":"on it \ud83d","ts":"1577966400.000200","thread_ts":"1577880000.000100"},
        {"type":"message","user":"U2","text":"top level","ts":"1577966500.000000"}]"#;
    let leads = json!([{"type": "message", "user": "U1", "text": "leads only",
        "ts": "1577880300.000000"}]);
    let entries: Vec<(&str, Vec<u8>)> = vec![
        ("users.json", users.to_string().into_bytes()),
        ("channels.json", channels.to_string().into_bytes()),
        ("groups.json", groups.to_string().into_bytes()),
        ("general/2020-01-02.json", day2.as_bytes().to_vec()),
        ("general/2020-01-01.json", day1.to_string().into_bytes()),
        ("leads/2020-01-01.json", leads.to_string().into_bytes()),
    ];
    let file = tokio::fs::File::create(path).await.unwrap();
    let mut zip = ZipFileWriter::with_tokio(file);
    for (name, bytes) in entries {
        let entry = ZipEntryBuilder::new(name.to_owned().into(), Compression::Deflate);
        zip.write_entry_whole(entry, &bytes).await.unwrap();
    }
    zip.close().await.unwrap();
}

#[tokio::test]
async fn slack_export_comes_in_with_threads_reactions_and_files() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("slack.zip");
        slack_zip(&zip).await;
        let args = [
            "import",
            "slack",
            zip.to_str().unwrap(),
            "--room-name",
            "Acme Slack",
        ];
        let out = import(&server, &args);
        assert!(
            out.contains("5 messages (1 thread replies), 2 reactions, 1 files"),
            "{out}"
        );
        assert!(
            out.contains("Skipped: 1 × event, not a message (subtype)"),
            "{out}"
        );
        let again = import(&server, &args);
        assert!(
            again.contains("Already imported by an earlier run: 5 messages"),
            "{again}"
        );

        let alice = token(&server, "alice", "password123").await;
        let admin = token(&server, "admin", "admin123").await;
        let mine = rooms(&server, &alice).await;
        let general = channel_of(&mine, "Acme Slack", "general");
        let leads = channel_of(&mine, "leads", "leads");
        assert_eq!(db_count(&server, COUNT, general).await, 4);
        let top = history(&server, &alice, general).await;
        let texts: Vec<&str> = top.iter().map(|m| m["content"].as_str().unwrap()).collect();
        assert_eq!(texts, ["Kickoff", "[file: plan.png]", "top level"]);
        assert!(
            top[0]["created_at"]
                .as_str()
                .unwrap()
                .starts_with("2020-01-01T12:00:00")
        );
        assert!(
            top[0]["edited_at"]
                .as_str()
                .unwrap()
                .starts_with("2020-01-01T12:01:40")
        );
        assert_eq!(top[0]["reactions"][0]["emoji"], "🎉");
        assert_eq!(top[0]["reactions"][0]["count"], 2);
        assert_eq!(top[0]["thread"]["reply_count"], 1);
        assert_eq!(top[1]["sender_username"], "ghost");
        let replies = thread(&server, &alice, general, top[0]["id"].as_i64().unwrap()).await;
        assert_eq!(replies.len(), 1);
        assert_eq!(replies[0]["content"], "on it \u{FFFD}");
        assert_eq!(replies[0]["sender_username"], "Pat_Doe");
        assert_eq!(
            history(&server, &alice, leads).await[0]["content"],
            "leads only"
        );

        assert_eq!(account(&server, &admin, "ghost").await["disabled"], true);
        assert_eq!(account(&server, &admin, "Pat_Doe").await["disabled"], true);
        claim(&server, &admin, "Pat_Doe").await;
    }
}

/// The rate of a 100,000-message Mattermost import (25,000 posts with three
/// replies each, over ten channels and fifty people), printed for the
/// record: `cargo nextest run --test import --run-ignored only`.
#[tokio::test]
#[ignore = "a measurement, about a minute"]
async fn import_of_100k_messages_is_measured() {
    use std::io::Write;
    for backend in backends() {
        let server = Server::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(out, "{}", json!({"type": "version", "version": 1})).unwrap();
        writeln!(
            out,
            "{}",
            json!({"type": "team", "team": {"name": "big", "type": "O"}})
        )
        .unwrap();
        let channels: Vec<String> = (0..10).map(|c| format!("channel-{c}")).collect();
        for c in &channels {
            let line =
                json!({"type": "channel", "channel": {"team": "big", "name": c, "type": "O"}});
            writeln!(out, "{line}").unwrap();
        }
        for u in 0..50 {
            let line = json!({"type": "user", "user": {"username": format!("person{u}"),
                "teams": [{"name": "big", "channels": []}]}});
            writeln!(out, "{line}").unwrap();
        }
        for p in 0..25_000i64 {
            let at = T1 + p * 1000;
            let replies: Vec<Value> = (1..=3)
                .map(|r| {
                    json!({"user": format!("person{}", (p + r) % 50),
                    "message": format!("reply {r} to post {p}"), "create_at": at + r})
                })
                .collect();
            let line = json!({"type": "post", "post": {"team": "big",
                "channel": channels[(p % 10) as usize], "user": format!("person{}", p % 50),
                "message": format!("post number {p} with some ordinary words in it"),
                "create_at": at, "replies": replies}});
            writeln!(out, "{line}").unwrap();
        }
        out.flush().unwrap();
        drop(out);
        let started = std::time::Instant::now();
        let summary = import(&server, &["import", "mattermost", path.to_str().unwrap()]);
        let secs = started.elapsed().as_secs_f64();
        assert!(
            summary.contains("100000 messages (75000 thread replies)"),
            "{summary}"
        );
        println!(
            "{backend:?}: 100000 messages in {secs:.1} s, {:.0} messages/s (command included)\n{summary}",
            100_000.0 / secs
        );
    }
}
