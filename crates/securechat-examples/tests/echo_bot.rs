//! The echo bot as its users run it: the built binary, a child process
//! with a bot token, against the real server on every configured backend.
//! Alice makes an encrypted channel, makes the bot, adds it to the room's
//! signed membership log and shares the channel's key with it as with a
//! person; she writes to it encrypted and reads its encrypted answer, and
//! neither text is in the server's database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use securechat_client::{Body, Handled, MembershipChange, Message, NewRoom, SecureClient};
use securechat_testkit::sdk::login;
use securechat_testkit::{Server, backends, call, db_count};
use serde_json::json;

/// How long alice waits for an answer before writing again (the bot joins
/// the channel's socket room when it sees itself added).
const ANSWER_WAIT: Duration = Duration::from_secs(3);

#[tokio::test]
async fn the_echo_bot_answers_in_an_encrypted_channel_and_the_server_sees_no_text() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let dir = tempfile::tempdir().unwrap();
        let alice_client = login(&server, "alice").await;
        let alice_token = alice_client.token().unwrap().expose().to_owned();
        let mut alice = SecureClient::open(alice_client, dir.path().join("alice.json"))
            .await
            .unwrap();
        let room = alice
            .create_room(&NewRoom::private("Bots"))
            .await
            .unwrap()
            .id;
        let vault = alice.create_channel(room, "vault", true).await.unwrap().id;

        let (s, made) = call(
            &server,
            Some(&alice_token),
            "POST",
            &format!("/api/rooms/{room}/bots"),
            Some(json!({"username": "echo"})),
        )
        .await;
        assert_eq!(s, 201, "{backend:?}: {made}");
        assert_eq!(
            made["joined"],
            json!([]),
            "a signed room takes a signed entry"
        );
        let bot_id = made["bot"]["id"].as_i64().unwrap();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_echo-bot"))
            .env("SECURECHAT_URL", &server.base)
            .env("SECURECHAT_BOT_TOKEN", made["token"].as_str().unwrap())
            .env("SECURECHAT_KEY_STORE", dir.path().join("echo.json"))
            .kill_on_drop(true)
            .spawn()
            .unwrap();

        // The bot publishes its identity; then alice adds it by an entry
        // she signs, as she would a person.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while alice.client().public_key(bot_id).await.is_err() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the bot never published its key"
            );
            assert!(child.try_wait().unwrap().is_none(), "the bot exited");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let add = MembershipChange::Add {
            user_id: bot_id,
            admin: false,
        };
        alice.change_membership(room, &add).await.unwrap();
        let log = alice.client().membership_log(room).await.unwrap();
        assert!(
            log.entries.len() >= 3,
            "create, alice, the bot: {}",
            log.entries.len()
        );
        let members = alice.client().room_members(room).await.unwrap();
        assert!(members.iter().any(|m| m.user_id == bot_id && m.is_bot));

        let (socket, mut events) = alice.client().socket().await.unwrap();
        socket.join_channel(vault, None).await.unwrap();
        let mut answer = None;
        for _ in 0..10 {
            let sent = alice.send(&socket, vault, "hello bot").await.unwrap();
            assert!(sent.envelope.is_some() && sent.content.is_none());
            answer = tokio::time::timeout(ANSWER_WAIT, async {
                while let Some(event) = events.recv().await {
                    let _: Handled = alice.handle_event(&event).await.unwrap();
                    if event.name != "new_message" {
                        continue;
                    }
                    let message: Message = serde_json::from_value(event.data().clone()).unwrap();
                    if message.sender_id == Some(bot_id) {
                        return Some(message);
                    }
                }
                None
            })
            .await
            .ok()
            .flatten();
            if answer.is_some() {
                break;
            }
            assert!(child.try_wait().unwrap().is_none(), "the bot exited");
        }
        let answer = answer.expect("the bot answered");
        assert!(answer.sender_is_bot);
        assert!(answer.content.is_none(), "the answer is encrypted");
        let read = alice.read(answer).await.unwrap();
        assert_eq!(
            read.body,
            Body::Verified {
                text: "echo: hello bot".into(),
                sender_id: bot_id,
            }
        );

        // The server holds envelopes only.
        let stored = db_count(
            &server,
            "SELECT COUNT(*) FROM messages WHERE channel_id = $1",
            vault,
        )
        .await;
        assert!(stored >= 2, "{stored} messages");
        let plaintext = db_count(
            &server,
            "SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND \
             (COALESCE(content, '') LIKE '%hello bot%' OR COALESCE(envelope, '') LIKE '%hello bot%')",
            vault,
        )
        .await;
        assert_eq!(plaintext, 0, "{backend:?}: plaintext in the database");
        child.kill().await.unwrap();
    }
}
