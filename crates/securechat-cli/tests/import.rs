//! `securechat-cli import` against the real server on every backend: the
//! sample exports of `securechat_testkit::exports` come into encrypted
//! channels; another member reads them decrypted and verified, threads in
//! place and each author and time on the first line; the database holds
//! none of the texts; an interrupted import run again completes without a
//! duplicate, even of the message sent but not recorded.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use securechat_client::{Body, HistoryQuery, MembershipChange, NewRoom, SecureClient};
use securechat_testkit::exports::{self, MATTERMOST_CJK};
use securechat_testkit::{Server, backends, db_count, sdk};

mod common;
use common::{cli, logged_in, stderr, stdout};

/// Runs the CLI and returns its standard output, which it must succeed.
fn ok(home: &Path, args: &[&str]) -> String {
    let out = cli(home, args, "");
    assert!(
        out.status.success(),
        "{args:?}: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// A member's key store on the SDK, its identity published.
async fn open(server: &Server, name: &str, store: &Path) -> SecureClient {
    SecureClient::open(sdk::login(server, name).await, store.to_owned())
        .await
        .unwrap()
}

/// The texts of a channel's top-level messages, oldest first, each
/// verified as alice's, with their ids.
async fn read_all(reader: &mut SecureClient, channel: i64, alice: i64) -> Vec<(i64, String)> {
    let mut page = reader
        .history(channel, HistoryQuery::latest().limit(100))
        .await
        .unwrap();
    page.reverse();
    page.into_iter()
        .map(|m| match m.body {
            Body::Verified { text, sender_id } if sender_id == alice => (m.message.id, text),
            other => panic!("not verified as alice's: {other:?}"),
        })
        .collect()
}

async fn channel(client: &SecureClient, room: &str, name: &str) -> i64 {
    sdk::channel_id(client.client(), room, name).await
}

const IN_CHANNEL: &str = "SELECT COUNT(*) FROM messages WHERE channel_id = $1";
/// Rows of the channel holding any of the sample's words in plaintext.
const PLAINTEXT: &str = "SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND (\
     COALESCE(content, '') || COALESCE(envelope, '') LIKE '%zebrafish%' OR \
     COALESCE(content, '') || COALESCE(envelope, '') LIKE '%会議%' OR \
     COALESCE(content, '') || COALESCE(envelope, '') LIKE '%second reply%' OR \
     COALESCE(content, '') || COALESCE(envelope, '') LIKE '%report.pdf%' OR \
     COALESCE(content, '') || COALESCE(envelope, '') LIKE '%private thing%' OR \
     COALESCE(content, '') || COALESCE(envelope, '') LIKE '%(imported%')";

#[tokio::test]
async fn mattermost_comes_in_encrypted_and_resumes_without_duplicates() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let home = logged_in(&server, "alice", "password123");
        let dir = tempfile::tempdir().unwrap();
        // Bob is in the room before the import: he gets each key version.
        let mut bob = open(&server, "bob", &dir.path().join("bob.json")).await;
        let mut alice = open(&server, "alice", &home.path().join("keys.json")).await;
        let room = alice
            .create_room(&NewRoom::private("Archive"))
            .await
            .unwrap();
        let add = MembershipChange::Add {
            user_id: bob.user_id(),
            admin: false,
        };
        alice.change_membership(room.id, &add).await.unwrap();
        let alice_id = alice.user_id();
        drop(alice);

        let export = dir.path().join("export.jsonl");
        exports::write_mattermost(&export);
        let state = dir.path().join("state.jsonl");
        let args = |limit: Option<&'static str>| {
            let mut args = vec![
                "import",
                "mattermost",
                export.to_str().unwrap(),
                "--room",
                "Archive",
                "--state",
                state.to_str().unwrap(),
            ];
            args.extend(limit.map(|l| ["--limit", l]).into_iter().flatten());
            args
        };
        // Interrupted after the root and its two replies…
        let first = cli(home.path(), &args(Some("3")), "");
        assert!(first.status.success(), "{}", stderr(&first));
        let out = stdout(&first);
        assert!(out.contains("3 messages sent (2 thread replies)"), "{out}");
        assert!(out.contains("Stopped after 3 messages"), "{out}");
        assert!(
            stderr(&first).contains("import: 1/6 messages"),
            "{}",
            stderr(&first)
        );
        // …and the last record torn, as if killed while writing it: that
        // message is on the server but not in the state.
        let log = std::fs::read(&state).unwrap();
        let last = log[..log.len() - 1]
            .iter()
            .rposition(|b| *b == b'\n')
            .unwrap();
        std::fs::write(&state, &log[..last + 10]).unwrap();

        let out = ok(home.path(), &args(None));
        assert!(
            out.contains("Already imported by an earlier run: 2 messages"),
            "{out}"
        );
        assert!(out.contains("4 messages sent (1 thread replies)"), "{out}");
        assert!(out.contains("Not imported: 1 reactions"), "{out}");
        assert!(out.contains("Skipped: 1 × direct message"), "{out}");
        assert!(out.contains("Skipped: 1 × unreadable line"), "{out}");
        let again = ok(home.path(), &args(None));
        assert!(again.contains(" 0 messages sent"), "{again}");
        assert!(
            again.contains("Already imported by an earlier run: 6 messages"),
            "{again}"
        );

        // Bob reads them decrypted and verified, as alice's, once each.
        let square = channel(&bob, "Archive", "town-square").await;
        assert_eq!(
            db_count(&server, IN_CHANNEL, square).await,
            5,
            "no duplicates"
        );
        let top = read_all(&mut bob, square, alice_id).await;
        let texts: Vec<&str> = top.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "alice · 2021-03-04 05:06 UTC (imported)\nHello 👋 \u{200F}שלום\u{200F} zebrafish!",
                "jörg · 2021-03-04 05:07 UTC (imported)\nodd \u{FFFD} text\n[file: report.pdf]",
                &format!("alice · 2021-03-04 05:07 UTC (imported)\n{MATTERMOST_CJK}"),
            ]
        );
        let replies = bob
            .thread_history(square, top[0].0, HistoryQuery::latest())
            .await
            .unwrap();
        let mut replies: Vec<(i64, String)> = replies
            .into_iter()
            .map(|m| match m.body {
                Body::Verified { text, sender_id } if sender_id == alice_id => (m.message.id, text),
                other => panic!("reply not verified: {other:?}"),
            })
            .collect();
        replies.sort();
        assert_eq!(
            replies.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>(),
            [
                "gone (deactivated) · 2021-03-04 05:06 UTC (imported)\nfirst reply",
                "alice · 2021-03-04 05:06 UTC (imported, edited)\nsecond reply, edited",
            ]
        );
        // The private channel is a room of its own, which bob is not in.
        let bob_rooms = bob.client().rooms().await.unwrap();
        assert!(bob_rooms.iter().all(|r| r.name != "secret"));
        let mut alice = open(&server, "alice", &home.path().join("keys.json")).await;
        let secret = channel(&alice, "secret", "secret").await;
        let private = read_all(&mut alice, secret, alice_id).await;
        assert_eq!(
            private[0].1,
            "alice · 2021-03-04 05:08 UTC (imported)\nprivate thing"
        );

        // The server holds envelopes only.
        for id in [square, secret] {
            assert_eq!(db_count(&server, PLAINTEXT, id).await, 0, "{backend:?}");
        }
        let envelopes = "SELECT COUNT(*) FROM messages WHERE channel_id = $1 \
                         AND envelope IS NOT NULL AND content IS NULL";
        assert_eq!(db_count(&server, envelopes, square).await, 5);
    }
}

#[tokio::test]
async fn slack_comes_in_encrypted_into_a_new_room() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let home = logged_in(&server, "alice", "password123");
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("slack.zip");
        exports::slack_zip(&zip).await;
        let args = [
            "import",
            "slack",
            zip.to_str().unwrap(),
            "--room",
            "Acme Slack",
        ];
        let out = ok(home.path(), &args);
        assert!(out.contains("2 rooms (2 made, 0 reused)"), "{out}");
        assert!(
            out.contains("5 messages sent (1 thread replies), 1 files"),
            "{out}"
        );
        assert!(out.contains("Not imported: 2 reactions"), "{out}");
        assert!(
            out.contains("Skipped: 1 × event, not a message (subtype)"),
            "{out}"
        );
        // Without --state the state is found again beside the session.
        let again = ok(home.path(), &args);
        assert!(
            again.contains("Already imported by an earlier run: 5 messages"),
            "{again}"
        );

        let mut alice = open(&server, "alice", &home.path().join("keys.json")).await;
        let me = alice.user_id();
        // A new room has a plaintext #general: the encrypted one is numbered.
        let general = channel(&alice, "Acme Slack", "general-2").await;
        let top = read_all(&mut alice, general, me).await;
        let texts: Vec<&str> = top.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(
            texts,
            [
                "alice · 2020-01-01 12:00 UTC (imported, edited)\nKickoff",
                "ghost (deactivated) · 2020-01-01 12:03 UTC (imported)\n[file: plan.png]",
                "Pat Doe · 2020-01-02 12:01 UTC (imported)\ntop level",
            ]
        );
        let replies = alice
            .thread_history(general, top[0].0, HistoryQuery::latest())
            .await
            .unwrap();
        assert_eq!(replies.len(), 1);
        assert_eq!(
            replies[0].body,
            Body::Verified {
                text: "Pat Doe · 2020-01-02 12:00 UTC (imported)\non it \u{FFFD}".into(),
                sender_id: me,
            }
        );
        let leads = channel(&alice, "leads", "leads").await;
        assert_eq!(db_count(&server, IN_CHANNEL, general).await, 4);
        assert_eq!(db_count(&server, IN_CHANNEL, leads).await, 1);
        let kickoff = "SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND \
                       COALESCE(content, '') || COALESCE(envelope, '') LIKE '%Kickoff%'";
        assert_eq!(db_count(&server, kickoff, general).await, 0);
    }
}

#[tokio::test]
async fn a_file_that_is_not_an_export_is_refused_before_anything_is_made() {
    let server = Server::start(securechat_testkit::Backend::Sqlite).await;
    let home = logged_in(&server, "alice", "password123");
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "just some notes\nnot an export\n").unwrap();
    let zip = dir.path().join("slack.zip");
    exports::slack_zip(&zip).await;

    let out = cli(
        home.path(),
        &["import", "slack", text.to_str().unwrap()],
        "",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("is not a zip archive"),
        "{}",
        stderr(&out)
    );
    let out = cli(
        home.path(),
        &["import", "mattermost", zip.to_str().unwrap()],
        "",
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("holds no message readable as a Mattermost bulk export"),
        "{}",
        stderr(&out)
    );
    let missing = dir.path().join("missing.jsonl");
    let out = cli(
        home.path(),
        &["import", "mattermost", missing.to_str().unwrap()],
        "",
    );
    assert!(stderr(&out).contains("cannot open"), "{}", stderr(&out));
    let alice = sdk::login(&server, "alice").await;
    let rooms = alice.rooms().await.unwrap();
    assert!(rooms.iter().all(|r| r.name != "Slack"), "nothing was made");
}

/// The rate of importing 5,000 messages (1,250 posts with three replies
/// each) into one encrypted channel, the server's send rate limit off,
/// printed for the record: `cargo nextest run -p securechat-cli --test
/// import --run-ignored only --no-capture`.
#[tokio::test]
#[ignore = "a measurement, minutes in a debug build"]
async fn import_of_5000_messages_is_measured() {
    for backend in backends() {
        let server = Server::start_with(backend, &[("SEND_RATE_LIMIT", "off")]).await;
        let home = logged_in(&server, "alice", "password123");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.jsonl");
        exports::write_big_mattermost(&path, 1, 1_250);
        let started = std::time::Instant::now();
        let summary = ok(
            home.path(),
            &["import", "mattermost", path.to_str().unwrap()],
        );
        let secs = started.elapsed().as_secs_f64();
        assert!(
            summary.contains("5000 messages sent (3750 thread replies)"),
            "{summary}"
        );
        println!(
            "{backend:?}: 5000 encrypted messages in {secs:.1} s, {:.1} messages/s (command included)\n{summary}",
            5000.0 / secs
        );
    }
}
