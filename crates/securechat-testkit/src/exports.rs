//! Sample exports of other chats, written from their documented formats,
//! for the importers' tests (the server's plaintext import and the CLI's
//! encrypting one read the same samples): Mattermost's bulk export (JSONL)
//! and Slack's export (zip, written with an independent zip writer).

use std::path::Path;

use serde_json::json;

/// 2021-03-04T05:06:07Z and later times of the Mattermost sample, in ms.
pub const T1: i64 = 1_614_834_367_000;
pub const T2: i64 = T1 + 60_000;
pub const T3: i64 = T1 + 120_000;

/// The Mattermost sample's lines (no line ends), as bytes: team `acme`
/// ("Acme Corp") with `town-square` and the private `secret`; alice, jörg
/// and the deleted `gone`; in town-square alice's post (emoji, right-to-left
/// marks, a NUL, a reaction by jörg) with gone's reply and alice's edited
/// reply, jörg's post with a lone surrogate escape and a file, and a CJK
/// post with a byte that is not UTF-8; in secret alice's "private thing";
/// then a direct post and a line that is not JSON.
pub fn mattermost_lines() -> Vec<Vec<u8>> {
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
    .map(|v| v.to_string().into_bytes())
    .collect::<Vec<_>>();
    // A lone surrogate escape, which JSON parsers refuse, and a file.
    lines.push(format!(
        r#"{{"type":"post","post":{{"team":"acme","channel":"town-square","user":"jörg","message":"odd \ud800 text","create_at":{T2},"attachments":[{{"path":"data/files/report.pdf"}}]}}}}"#
    ).into_bytes());
    // CJK text and a byte that is not UTF-8 (0xFF).
    let mut cjk = r#"{"type":"post","post":{"team":"acme","channel":"town-square","user":"alice","message":"会議は明日です 🎌 "#
        .as_bytes()
        .to_vec();
    cjk.push(0xFF);
    cjk.extend_from_slice(format!(r#" end","create_at":{}}}}}"#, T2 + 1000).as_bytes());
    lines.push(cjk);
    lines.push(
        json!({"type": "post", "post": {"team": "acme", "channel": "secret", "user": "alice",
            "message": "private thing", "create_at": T3}})
        .to_string()
        .into_bytes(),
    );
    lines.push(
        json!({"type": "direct_post", "direct_post": {"channel_members": ["alice", "gone"],
            "user": "alice", "message": "dm", "create_at": T3}})
        .to_string()
        .into_bytes(),
    );
    lines.push(b"{not json".to_vec());
    lines
}

/// The CJK post's text as read: the byte that is not UTF-8 replaced.
pub const MATTERMOST_CJK: &str = "会議は明日です 🎌 \u{FFFD} end";

/// Writes the Mattermost sample to `path`, a line each.
pub fn write_mattermost(path: &Path) {
    let mut bytes = mattermost_lines().join(&b'\n');
    bytes.push(b'\n');
    std::fs::write(path, bytes).unwrap();
}

/// A large Mattermost export at `path`: team `big`, `channels` channels
/// (`channel-0`, …), fifty people, and `posts` posts (spread over the
/// channels in turn) with three replies each, so `4 × posts` messages.
pub fn write_big_mattermost(path: &Path, channels: usize, posts: i64) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut line = |value: serde_json::Value| writeln!(out, "{value}").unwrap();
    line(json!({"type": "version", "version": 1}));
    line(json!({"type": "team", "team": {"name": "big", "type": "O"}}));
    let names: Vec<String> = (0..channels).map(|c| format!("channel-{c}")).collect();
    for c in &names {
        line(json!({"type": "channel", "channel": {"team": "big", "name": c, "type": "O"}}));
    }
    for u in 0..50 {
        line(
            json!({"type": "user", "user": {"username": format!("person{u}"),
            "teams": [{"name": "big", "channels": []}]}}),
        );
    }
    for p in 0..posts {
        let at = T1 + p * 1000;
        let replies: Vec<serde_json::Value> = (1..=3)
            .map(|r| {
                json!({"user": format!("person{}", (p + r) % 50),
                "message": format!("reply {r} to post {p}"), "create_at": at + r})
            })
            .collect();
        let channel = &names[usize::try_from(p).unwrap() % channels];
        line(
            json!({"type": "post", "post": {"team": "big", "channel": channel,
            "user": format!("person{}", p % 50),
            "message": format!("post number {p} with some ordinary words in it"),
            "create_at": at, "replies": replies}}),
        );
    }
    out.flush().unwrap();
}

/// A Slack export zip: `users.json` (alice, "Pat Doe", the deleted
/// ghost), `channels.json` (`general`), `groups.json` (the private
/// `leads`) and day files — a join event, alice's edited "Kickoff" with
/// reactions and a reply the next day (with a lone surrogate escape),
/// ghost's file share, "top level", and "leads only" in leads.
pub async fn slack_zip(path: &Path) {
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
