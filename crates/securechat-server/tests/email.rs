//! Email digests against the real binary and a real SMTP server (PyPI's
//! aiosmtpd, run by `tests/email/smtp_service.py`, which records every
//! message it accepts), on every configured backend: the verification
//! code (wrong, expired, too many tries), who gets a digest and what it
//! says (plaintext mentions with their text, encrypted DMs with none;
//! nothing for read messages, one's own, muted channels or level none),
//! one digest for several messages and at most one per delay window, a
//! restart and an SMTP outage that delay a digest without doubling it,
//! and the unsubscribe link.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use securechat_client::SecureClient;
use securechat_testkit as testkit;
use serde_json::{Value, json};
use testkit::{
    Backend, PeerSpec, PythonPeer, Server, ask, backends, call, connect, db_count, db_execute,
    new_user, room_and_channel, token,
};

/// Seconds a message stays unread before it is mailed, in these tests.
const DELAY_SECS: u64 = 3;

/// The local SMTP server, on a port of its own; every message it accepts
/// is a JSON file in `mail/` of its directory.
struct Smtp(PythonPeer);

impl Smtp {
    fn start() -> Self {
        Self(PythonPeer::start(
            PeerSpec {
                what: "the SMTP test peer",
                venv: "smtp-peer",
                python_var: "SMTP_PEER",
                script: "tests/email/smtp_service.py",
                requirements: "tests/email/requirements.txt",
            },
            |dir| vec!["--out".into(), dir.join("mail").into()],
        ))
    }

    /// Starts the process again on the same port and directory.
    fn run(&mut self) {
        self.0.run();
    }

    fn stop(&mut self) {
        self.0.stop();
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.0.port())
    }

    /// Every message received so far to `to`, oldest first.
    fn mails(&self, to: &str) -> Vec<Value> {
        let Ok(dir) = std::fs::read_dir(self.0.dir().join("mail")) else {
            return Vec::new();
        };
        let mut names: Vec<PathBuf> = dir
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| serde_json::from_str::<Value>(&std::fs::read_to_string(p).unwrap()).unwrap())
            .filter(|m| m["rcpt_tos"] == json!([to]))
            .collect()
    }

    /// Waits until `to` has received `n` messages; returns the `n`th.
    async fn wait_for(&self, to: &str, n: usize) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mails = self.mails(to);
            if mails.len() >= n {
                assert_eq!(mails.len(), n, "more mail than expected: {mails:#?}");
                return mails[n - 1].clone();
            }
            assert!(
                Instant::now() < deadline,
                "{n} messages expected for {to}, {} received: {mails:#?}",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Checks that `to` has exactly `n` messages, after waiting long
    /// enough for any further digest to have gone out.
    async fn still(&self, to: &str, n: usize) {
        tokio::time::sleep(Duration::from_secs(DELAY_SECS * 2 + 2)).await;
        let mails = self.mails(to);
        assert_eq!(mails.len(), n, "{mails:#?}");
    }
}

async fn start(backend: Backend, smtp: &Smtp) -> Server {
    Server::start_with(
        backend,
        &[
            ("SMTP_URL", &smtp.url()),
            ("SMTP_FROM", "Chat <chat@chat.test>"),
            ("PUBLIC_URL", "http://chat.test"),
            ("EMAIL_DIGEST_DELAY_SECS", &DELAY_SECS.to_string()),
            ("EMAIL_DRAIN_SECS", "1"),
            ("SEND_RATE_LIMIT", "off"),
        ],
    )
    .await
}

/// The six digits of a verification mail.
fn code_in(mail: &Value) -> String {
    assert_eq!(mail["subject"], "Your Securechat verification code");
    let text = mail["text"].as_str().unwrap();
    let at = text.find("code is ").unwrap() + "code is ".len();
    let code = &text[at..at + 6];
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{text}");
    code.to_owned()
}

/// Asks for a code for `address`; returns it (the `n`th mail to it).
async fn ask_code(server: &Server, smtp: &Smtp, token: &str, address: &str, n: usize) -> String {
    let (s, body) = call(
        server,
        Some(token),
        "PUT",
        "/api/email",
        Some(json!({"address": address})),
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["address"], address);
    assert_eq!(body["verified"], false);
    assert_eq!(body["code_pending"], true);
    code_in(&smtp.wait_for(address, n).await)
}

async fn enter(server: &Server, token: &str, code: &str) -> (u16, Value) {
    call(
        server,
        Some(token),
        "POST",
        "/api/email/verify",
        Some(json!({"code": code})),
    )
    .await
}

/// Gives `token`'s account the verified address `address`.
async fn verified(server: &Server, smtp: &Smtp, token: &str, address: &str) {
    let code = ask_code(server, smtp, token, address, 1).await;
    let (s, body) = enter(server, token, &code).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["verified"], true);
}

/// A demo user's bearer token and id.
async fn demo(server: &Server, username: &str, password: &str) -> (i64, String) {
    let token = token(server, username, password).await;
    let (s, body) = call(server, Some(&token), "GET", "/api/auth/me", None).await;
    assert_eq!(s, 200, "{body}");
    (body["user"]["id"].as_i64().unwrap(), token)
}

/// Sends plaintext `text` to `channel` as `token`; returns its id.
async fn say(server: &Server, token: &str, channel: i64, text: &str) -> i64 {
    let (socket, _events) = connect(server, token).await;
    let ack = ask(
        &socket,
        "send_message",
        json!({"channel_id": channel, "content": text,
               "client_msg_id": format!("m-{}", rand::random::<u64>())}),
    )
    .await;
    assert_eq!(ack["success"], true, "{ack}");
    ack["message"]["id"].as_i64().unwrap()
}

async fn mark_read(server: &Server, token: &str, channel: i64, message: i64) {
    let (socket, _events) = connect(server, token).await;
    let ack = ask(
        &socket,
        "mark_read",
        json!({"channel_id": channel, "message_id": message}),
    )
    .await;
    assert_eq!(ack["success"], true, "{ack}");
}

async fn set_channel(server: &Server, token: &str, channel: i64, body: Value) {
    let path = format!("/api/channels/{channel}/notifications");
    let (s, got) = call(server, Some(token), "PUT", &path, Some(body)).await;
    assert_eq!(s, 200, "{got}");
}

/// Waits until the server has recorded `n` messages for `user_id`'s digest.
async fn recorded(server: &Server, user_id: i64, n: i64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while db_count(
        server,
        "SELECT COUNT(*) FROM email_pending WHERE user_id = $1",
        user_id,
    )
    .await
        < n
    {
        assert!(Instant::now() < deadline, "{n} messages were not recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn addresses_are_verified_with_a_bounded_code_that_expires() {
    for backend in backends() {
        let smtp = Smtp::start();
        let server = start(backend, &smtp).await;
        let (bob_id, bob) = demo(&server, "bob", "password456").await;
        let (s, body) = call(&server, Some(&bob), "GET", "/api/email", None).await;
        assert_eq!(s, 200);
        assert_eq!(
            body,
            json!({"success": true, "enabled": true, "address": null, "verified": false,
                   "code_pending": false, "delay_minutes": 1})
        );
        for bad in ["bob", "Bob <bob@example.com>", "a@b.example, c@d.example"] {
            let (s, body) = call(
                &server,
                Some(&bob),
                "PUT",
                "/api/email",
                Some(json!({"address": bad})),
            )
            .await;
            assert_eq!((s, body["code"].as_str()), (422, Some("invalid_address")));
        }

        let address = "bob@example.com";
        let code = ask_code(&server, &smtp, &bob, address, 1).await;
        let mail = &smtp.mails(address)[0];
        assert_eq!(mail["mail_from"], "chat@chat.test");
        assert!(
            mail["html"]
                .as_str()
                .unwrap()
                .contains(&format!("<b>{code}</b>"))
        );
        // One code a minute.
        let (s, _) = call(
            &server,
            Some(&bob),
            "PUT",
            "/api/email",
            Some(json!({"address": address})),
        )
        .await;
        assert_eq!(s, 429);
        // Five tries per code: four wrong ones are refused, the fifth
        // uses it up, and then not even the right one passes.
        let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
        for left in (1..=4).rev() {
            let (s, body) = enter(&server, &bob, &wrong).await;
            assert_eq!(
                (s, body["code"].as_str()),
                (422, Some("wrong_code")),
                "{body}"
            );
            assert!(
                body["message"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("{left} tries"))
            );
        }
        let (s, body) = enter(&server, &bob, &wrong).await;
        assert_eq!((s, body["code"].as_str()), (422, Some("too_many_attempts")));
        let (s, body) = enter(&server, &bob, &code).await;
        assert_eq!((s, body["code"].as_str()), (409, Some("no_code")));
        let (_, body) = call(&server, Some(&bob), "GET", "/api/email", None).await;
        assert_eq!(
            (body["verified"].as_bool(), body["code_pending"].as_bool()),
            (Some(false), Some(false))
        );

        // An expired code is refused (the minute between codes is skipped
        // in the database).
        db_execute(&server, "UPDATE email_addresses SET code_sent_at = 0").await;
        let code = ask_code(&server, &smtp, &bob, address, 2).await;
        db_execute(&server, "UPDATE email_addresses SET code_expires_at = 1").await;
        let (s, body) = enter(&server, &bob, &code).await;
        assert_eq!((s, body["code"].as_str()), (422, Some("code_expired")));

        // A fresh code verifies; the hash of a code is all that was stored.
        db_execute(&server, "UPDATE email_addresses SET code_sent_at = 0").await;
        let code = ask_code(&server, &smtp, &bob, address, 3).await;
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM email_addresses WHERE user_id = $1 AND code_hash IS NOT NULL",
                bob_id
            )
            .await,
            1
        );
        let (s, body) = enter(&server, &bob, &code).await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body["verified"], true);
        assert_eq!(body["address"], address);
        let (s, body) = call(&server, Some(&bob), "DELETE", "/api/email", None).await;
        assert_eq!(s, 200);
        assert_eq!(body["address"], Value::Null);
        drop(server);

        // Without SMTP_URL there is no email.
        let plain = Server::start(backend).await;
        let (_, carol) = new_user(&plain, "carol").await;
        let (_, body) = call(&plain, Some(&carol), "GET", "/api/email", None).await;
        assert_eq!(body["enabled"], false);
        let (s, body) = call(
            &plain,
            Some(&carol),
            "PUT",
            "/api/email",
            Some(json!({"address": "carol@example.com"})),
        )
        .await;
        assert_eq!((s, body["code"].as_str()), (409, Some("email_off")));
    }
}

#[tokio::test]
async fn digests_list_unread_messages_once_without_encrypted_content() {
    for backend in backends() {
        let smtp = Smtp::start();
        let server = start(backend, &smtp).await;
        let (_, alice) = demo(&server, "alice", "password123").await;
        let (bob_id, bob) = demo(&server, "bob", "password456").await;
        let to = "bob@example.com";
        verified(&server, &smtp, &bob, to).await;
        let mut n = 1;
        let (_, general) = room_and_channel(&server, &bob, "Lobby", "general").await;
        let (_, random) = room_and_channel(&server, &bob, "Lobby", "random").await;

        // Two mentions, one escaped in HTML, then "hello" (no mention):
        // one digest with both mentions.
        say(&server, &alice, general, "@bob lunch <b>now</b>?").await;
        say(&server, &alice, general, "@bob second & last").await;
        say(&server, &alice, general, "hello everybody").await;
        n += 1;
        let mail = smtp.wait_for(to, n).await;
        assert_eq!(mail["subject"], "2 missed messages on Securechat");
        assert_eq!(mail["from"], "Chat <chat@chat.test>");
        let text = mail["text"].as_str().unwrap();
        assert!(text.contains("#general in Lobby"), "{text}");
        assert!(text.contains("alice: @bob lunch <b>now</b>?"), "{text}");
        assert!(text.contains("alice: @bob second & last"), "{text}");
        assert!(!text.contains("hello everybody"), "{text}");
        let html = mail["html"].as_str().unwrap();
        assert!(
            html.contains("@bob lunch &lt;b&gt;now&lt;/b&gt;?"),
            "{html}"
        );
        assert!(html.contains("@bob second &amp; last"), "{html}");
        smtp.still(to, n).await;

        // Read before the delay: not mailed. Own messages, a muted channel
        // and level none: not mailed. An encrypted DM: mailed, no content.
        let read = say(&server, &alice, general, "@bob read in time").await;
        mark_read(&server, &bob, general, read).await;
        say(&server, &bob, general, "@bob talking to myself").await;
        set_channel(&server, &bob, random, json!({"level": "none"})).await;
        say(&server, &alice, random, "@bob in a silent channel").await;
        set_channel(
            &server,
            &bob,
            general,
            json!({"mute_until": "2099-01-01T00:00:00Z"}),
        )
        .await;
        say(&server, &alice, general, "@bob while muted").await;
        let mut alice_sc = SecureClient::open(
            testkit::sdk::login(&server, "alice").await,
            server.data_dir.join("alice-keys.json"),
        )
        .await
        .unwrap();
        // Bob publishes his keys, so that Alice can share the DM's key with him.
        let _bob_sc = SecureClient::open(
            testkit::sdk::login(&server, "bob").await,
            server.data_dir.join("bob-keys.json"),
        )
        .await
        .unwrap();
        let dm = alice_sc.client().open_dm(bob_id).await.unwrap();
        let dm_channel = dm.channels[0].id;
        let (socket, _events) = alice_sc.client().socket().await.unwrap();
        for secret in ["the launch code is 4711", "and the vault is in Oslo"] {
            alice_sc.send(&socket, dm_channel, secret).await.unwrap();
        }
        n += 1;
        let mail = smtp.wait_for(to, n).await;
        assert_eq!(mail["subject"], "2 missed messages on Securechat");
        let text = mail["text"].as_str().unwrap();
        assert!(
            text.contains("In a direct message\n  2 new encrypted messages from alice\n"),
            "{text}"
        );
        let raw = mail.to_string();
        for absent in [
            "4711",
            "launch",
            "Oslo",
            "read in time",
            "myself",
            "silent",
            "muted",
        ] {
            assert!(!raw.contains(absent), "{absent} in {raw}");
        }

        // The unsubscribe link: a page with a button, which stops digests.
        let header = mail["list_unsubscribe"].as_str().unwrap();
        assert_eq!(mail["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
        let link = header.trim_matches(['<', '>']);
        assert!(text.contains(link), "{text}");
        let path = link.strip_prefix("http://chat.test").unwrap();
        let web = reqwest::Client::new();
        let page = web.get(server.url(path)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("<form method=\"post\""));
        let forged = path.replace("token=", "token=9");
        let refused = web.post(server.url(&forged)).send().await.unwrap();
        assert_eq!(refused.status(), 404);
        let done = web
            .post(server.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(done.status(), 200);
        assert!(done.text().await.unwrap().contains("Unsubscribed"));
        assert_eq!(
            web.get(server.url(path)).send().await.unwrap().status(),
            404
        );
        let (_, body) = call(&server, Some(&bob), "GET", "/api/email", None).await;
        assert_eq!(body["address"], Value::Null);
        alice_sc
            .send(&socket, dm_channel, "still there?")
            .await
            .unwrap();
        smtp.still(to, n).await;
        assert_eq!(
            db_count(
                &server,
                "SELECT COUNT(*) FROM email_pending WHERE user_id = $1",
                bob_id
            )
            .await,
            0
        );
    }
}

#[tokio::test]
async fn a_restart_and_an_smtp_outage_delay_a_digest_but_never_double_it() {
    for backend in backends() {
        let mut smtp = Smtp::start();
        let mut server = start(backend, &smtp).await;
        let (_, alice) = demo(&server, "alice", "password123").await;
        let (bob_id, bob) = demo(&server, "bob", "password456").await;
        let to = "bob@example.com";
        verified(&server, &smtp, &bob, to).await;
        let (_, general) = room_and_channel(&server, &bob, "Lobby", "general").await;

        // Killed before the digest is due: it goes out after the restart, once.
        say(&server, &alice, general, "@bob before the crash").await;
        recorded(&server, bob_id, 1).await;
        server.restart();
        let mail = smtp.wait_for(to, 2).await;
        let last_digest = "SELECT last_digest_at FROM email_addresses WHERE user_id = $1";
        let first_claimed = db_count(&server, last_digest, bob_id).await;
        assert!(mail["text"].as_str().unwrap().contains("before the crash"));

        // One digest per delay window: a message due at once (its due time
        // moved back in the database) still waits for the window to end.
        say(&server, &alice, general, "@bob right after").await;
        recorded(&server, bob_id, 1).await;
        db_execute(&server, "UPDATE email_pending SET due_at = 0").await;
        let mail = smtp.wait_for(to, 3).await;
        let apart = db_count(&server, last_digest, bob_id).await - first_claimed;
        assert!(
            apart >= i64::try_from(DELAY_SECS * 1000).unwrap(),
            "a second digest {apart} ms after the first"
        );
        let text = mail["text"].as_str().unwrap();
        assert!(
            text.contains("right after") && !text.contains("before the crash"),
            "{text}"
        );
        smtp.still(to, 3).await;

        // The SMTP server is down when the digest is due: it is tried, put
        // back, and mailed once the server is back.
        smtp.stop();
        say(&server, &alice, general, "@bob during the outage").await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while db_count(
            &server,
            "SELECT COUNT(*) FROM email_pending WHERE user_id = $1 AND attempts >= 1 \
             AND leased_until IS NULL",
            bob_id,
        )
        .await
            == 0
        {
            assert!(Instant::now() < deadline, "the digest was never tried");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(smtp.mails(to).len(), 3);
        smtp.run();
        let mail = smtp.wait_for(to, 4).await;
        let text = mail["text"].as_str().unwrap();
        assert!(text.contains("during the outage"), "{text}");
        assert!(!text.contains("right after"), "{text}");
        smtp.still(to, 4).await;
        // The email lines of the log (the test server also logs socket
        // traffic at debug level) name neither the address nor the text.
        let log = server.log();
        let ours: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("securechat_server::email"))
            .collect();
        assert!(
            ours.iter().any(|l| l.contains("email digest sent")),
            "{ours:#?}"
        );
        assert!(
            ours.iter().any(|l| l.contains("it is retried")),
            "{ours:#?}"
        );
        for line in ours {
            assert!(
                !line.contains("during the outage") && !line.contains("example.com"),
                "{line}"
            );
        }
        assert!(!log.contains(to), "the address is in the log");
    }
}
