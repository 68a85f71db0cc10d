//! Web Push against the real binary and a local push service
//! (`tests/push/push_service.py`) that decrypts every push with PyPI's
//! `http_ece` and verifies every VAPID token with `py_vapid`, on every
//! configured backend: what a push carries (plaintext channels: sender,
//! channel, 100 characters; encrypted channels: ids only), who gets one
//! (never the sender; settings, mutes, do-not-disturb hours, a visible
//! tab), retries and removals by the push service's answers, the queue
//! across a restart, the SSRF guard and input validation, and one VAPID
//! key per deployment.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use securechat_client::{MembershipChange, NewRoom, SecureClient};
use securechat_testkit as testkit;
use serde_json::{Value, json};
use testkit::{
    Backend, PeerSpec, PythonPeer, Server, ask, backends, call, connect, db_count,
    db_count_becomes, room_and_channel, token,
};

/// The local push service, on a port of its own.
struct PushService(PythonPeer);

impl PushService {
    fn start() -> Self {
        Self(PythonPeer::start(
            PeerSpec {
                what: "the Web Push test peer",
                venv: "push-peer",
                python_var: "PUSH_PEER",
                script: "tests/push/push_service.py",
                requirements: "tests/push/requirements.txt",
            },
            |dir| vec!["--state".into(), dir.join("state.json").into()],
        ))
    }

    /// Starts the process again on the same port and state file.
    fn run(&mut self) {
        self.0.run();
    }

    fn stop(&mut self) {
        self.0.stop();
    }

    /// `PUSH_ALLOW_HOSTS` for this service.
    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.0.port())
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.0.port())
    }

    /// A browser's new subscription for the server whose key is `server_key`.
    async fn subscription(&self, server_key: &str) -> Value {
        let response = reqwest::Client::new()
            .post(self.url("/subscriptions"))
            .json(&json!({"application_server_key": server_key}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    /// The next answers to pushes to `id` (then 201).
    async fn script(&self, id: &str, statuses: &[u16], retry_after: Option<u64>) {
        let response = reqwest::Client::new()
            .post(self.url(&format!("/subscriptions/{id}/script")))
            .json(&json!({"statuses": statuses, "retry_after": retry_after}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    /// What pushes to `id` did: `received`, `attempts`, `rejected`.
    async fn seen(&self, id: &str) -> Value {
        reqwest::Client::new()
            .get(self.url(&format!("/subscriptions/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits until `id` has received `n` pushes; returns their payloads.
    async fn received(&self, id: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let seen = self.seen(id).await;
            assert_eq!(
                seen["rejected"],
                json!([]),
                "the push service refused pushes"
            );
            let got = seen["received"].as_array().unwrap();
            if got.len() >= n {
                assert_eq!(got.len(), n, "more pushes than expected: {got:#?}");
                return got.iter().map(|p| p["payload"].clone()).collect();
            }
            assert!(
                Instant::now() < deadline,
                "{n} pushes expected, {} received: {seen:#}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn start(backend: Backend, push: &PushService) -> Server {
    Server::start_with(
        backend,
        &[
            ("PUSH_ALLOW_HOSTS", &push.host()),
            ("SEND_RATE_LIMIT", "off"),
        ],
    )
    .await
}

async fn vapid_key(server: &Server, token: &str) -> String {
    let (s, body) = call(
        server,
        Some(token),
        "GET",
        "/api/push/vapid_public_key",
        None,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["success"], true);
    body["key"].as_str().unwrap().to_owned()
}

/// Subscribes `token`'s account with a new subscription of the push
/// service; returns the push service's id for it.
async fn subscribe(server: &Server, push: &PushService, token: &str) -> String {
    let sub = push.subscription(&vapid_key(server, token).await).await;
    let (s, body) = call(
        server,
        Some(token),
        "POST",
        "/api/push/subscriptions",
        Some(json!({"endpoint": sub["endpoint"], "keys": sub["keys"], "expirationTime": null})),
    )
    .await;
    assert_eq!(s, 201, "{body}");
    sub["id"].as_str().unwrap().to_owned()
}

/// Sends `text` to `channel` over a socket of `token`; returns its id.
async fn say(server: &Server, token: &str, channel: i64, text: &str) -> i64 {
    let (socket, _events) = connect(server, token).await;
    let client_msg_id = format!("m-{}", rand::random::<u64>());
    let ack = ask(
        &socket,
        "send_message",
        json!({"channel_id": channel, "content": text, "client_msg_id": client_msg_id}),
    )
    .await;
    assert_eq!(ack["success"], true, "{ack}");
    ack["message"]["id"].as_i64().unwrap()
}

async fn set_channel(server: &Server, token: &str, channel: i64, body: Value) -> Value {
    let path = format!("/api/channels/{channel}/notifications");
    let (s, got) = call(server, Some(token), "PUT", &path, Some(body)).await;
    assert_eq!(s, 200, "{got}");
    got
}

async fn set_account(server: &Server, token: &str, body: Value) -> Value {
    let (s, got) = call(server, Some(token), "PUT", "/api/push/settings", Some(body)).await;
    assert_eq!(s, 200, "{got}");
    got
}

/// Adds `text` to the pushes expected so far; returns how many there are.
fn expect(expected: &mut Vec<String>, text: &str) -> usize {
    expected.push(text.to_owned());
    expected.len()
}

/// The texts of `payloads`, sorted: pushes about different messages are
/// sent side by side, so they may arrive in any order.
fn texts(payloads: &[Value]) -> Vec<&str> {
    let mut texts: Vec<&str> = payloads
        .iter()
        .map(|p| p["text"].as_str().unwrap_or(""))
        .collect();
    texts.sort_unstable();
    texts
}

/// `expected`, sorted like [`texts`].
fn sorted(expected: &[String]) -> Vec<&str> {
    let mut sorted: Vec<&str> = expected.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted
}

#[tokio::test]
async fn plaintext_pushes_carry_the_text_and_encrypted_ones_only_ids() {
    for backend in backends() {
        let push = PushService::start();
        let server = start(backend, &push).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let alice_sub = subscribe(&server, &push, &alice).await;
        let bob_sub = subscribe(&server, &push, &bob).await;
        let (lobby, general) = room_and_channel(&server, &bob, "Lobby", "general").await;
        set_channel(&server, &bob, general, json!({"level": "all"})).await;

        let long: String = (0..15).map(|i| format!("word{i:02} \u{1F642} ")).collect();
        let id = say(&server, &alice, general, &long).await;
        let payloads = push.received(&bob_sub, 1).await;
        let first_100: String = long.chars().take(100).collect();
        assert_eq!(
            payloads[0],
            json!({"type": "message", "message_id": id, "channel_id": general, "room_id": lobby,
                   "room": "Lobby", "channel": "general", "sender": "alice", "text": first_100})
        );
        let seen = push.seen(&bob_sub).await;
        let vapid = &seen["received"][0]["vapid"];
        assert_eq!(vapid["aud"], push.url(""));
        assert_eq!(vapid["sub"], "mailto:admin@localhost");
        assert_eq!(seen["received"][0]["ttl"], 86400);

        // The sender is never pushed her own message: the next push she
        // gets is bob's mention, and only that.
        let reply = say(&server, &bob, general, "@alice seen it").await;
        let hers = push.received(&alice_sub, 1).await;
        assert_eq!(hers[0]["message_id"], reply);

        // An encrypted channel: bob is on the default level (mentions),
        // which there sends the ids and lets the device decide.
        let mut alice_sc = SecureClient::open(
            testkit::sdk::login(&server, "alice").await,
            server.data_dir.join("alice-keys.json"),
        )
        .await
        .unwrap();
        let bob_sc = SecureClient::open(
            testkit::sdk::login(&server, "bob").await,
            server.data_dir.join("bob-keys.json"),
        )
        .await
        .unwrap();
        let room = alice_sc
            .client()
            .create_room(&NewRoom::private("Ops"))
            .await
            .unwrap()
            .id;
        let vault = alice_sc
            .create_channel(room, "vault", true)
            .await
            .unwrap()
            .id;
        let add = MembershipChange::Add {
            user_id: bob_sc.user_id(),
            admin: false,
        };
        alice_sc.change_membership(room, &add).await.unwrap();
        let (socket, _events) = alice_sc.client().socket().await.unwrap();
        let sent = alice_sc
            .send(&socket, vault, "the launch code is 4711, @bob")
            .await
            .unwrap();
        let payloads = push.received(&bob_sub, 2).await;
        assert_eq!(
            payloads[1],
            json!({"type": "message", "message_id": sent.id, "channel_id": vault,
                   "room_id": room, "encrypted": true})
        );
        let raw = payloads[1].to_string();
        for leak in ["alice", "4711", "launch", "Ops", "vault", "bob"] {
            assert!(!raw.contains(leak), "{leak} in {raw}");
        }
        assert_eq!(
            push.seen(&alice_sub).await["attempts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}

#[tokio::test]
async fn settings_mutes_hours_and_a_visible_tab_decide_who_is_pushed() {
    for backend in backends() {
        let push = PushService::start();
        let server = start(backend, &push).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let bob_sub = subscribe(&server, &push, &bob).await;
        let (_, general) = room_and_channel(&server, &bob, "Lobby", "general").await;
        let (_, random) = room_and_channel(&server, &bob, "Lobby", "random").await;
        set_channel(&server, &bob, random, json!({"level": "all"})).await;
        // Each step ends with a message that must be pushed (in #random):
        // once it arrives, the step's earlier messages were decided too.
        let mut expected: Vec<String> = Vec::new();

        // The default in a channel: mentions only.
        say(&server, &alice, general, "hello everyone").await;
        say(&server, &alice, general, "@bob have a look").await;
        let n = expect(&mut expected, "@bob have a look");
        say(&server, &alice, random, "marker 1").await;
        let n2 = expect(&mut expected, "marker 1");
        assert_eq!(n2, n + 1);
        assert_eq!(texts(&push.received(&bob_sub, n2).await), sorted(&expected));

        // `none`: not even a mention.
        let got = set_channel(&server, &bob, general, json!({"level": "none"})).await;
        assert_eq!(
            (got["level"].as_str(), got["effective_level"].as_str()),
            (Some("none"), Some("none"))
        );
        say(&server, &alice, general, "@bob you there?").await;
        say(&server, &alice, random, "marker 2").await;
        let n = expect(&mut expected, "marker 2");
        assert_eq!(texts(&push.received(&bob_sub, n).await), sorted(&expected));

        // `all`, but muted for an hour.
        let later = "2099-01-01T00:00:00Z";
        let got = set_channel(
            &server,
            &bob,
            general,
            json!({"level": "all", "mute_until": later}),
        )
        .await;
        assert_eq!(got["mute_until"], "2099-01-01T00:00:00.000Z");
        say(&server, &alice, general, "muted message").await;
        let (s, got) = call(
            &server,
            Some(&bob),
            "GET",
            &format!("/api/channels/{random}/notifications"),
            None,
        )
        .await;
        assert_eq!(
            (s, got["level"].as_str(), got["mute_until"].clone()),
            (200, Some("all"), Value::Null)
        );
        say(&server, &alice, random, "marker 3").await;
        let n = expect(&mut expected, "marker 3");
        assert_eq!(texts(&push.received(&bob_sub, n).await), sorted(&expected));

        // Unmuted; do-not-disturb hours around now (in bob's UTC+2).
        set_channel(
            &server,
            &bob,
            general,
            json!({"level": "all", "mute_until": null}),
        )
        .await;
        let now_minute = (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            / 60
            + 120)
            % 1440;
        let dnd = json!({"start": (now_minute + 1430) % 1440, "end": (now_minute + 30) % 1440, "utc_offset": 120});
        let got = set_account(&server, &bob, json!({"no_content": false, "dnd": dnd})).await;
        assert_eq!(got["dnd"], dnd);
        say(&server, &alice, general, "during the night").await;
        say(&server, &alice, random, "night marker").await;
        // Nothing arrives at all now, markers included.
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(texts(&push.received(&bob_sub, n).await), sorted(&expected));
        // Hours elsewhere in the day do not matter, and no content drops
        // the text.
        let away = json!({"start": (now_minute + 120) % 1440, "end": (now_minute + 180) % 1440, "utc_offset": 120});
        set_account(&server, &bob, json!({"no_content": true, "dnd": away})).await;
        say(&server, &alice, general, "secret text").await;
        let payloads = push.received(&bob_sub, n + 1).await;
        assert_eq!(payloads[n]["sender"], "alice");
        assert!(payloads[n].get("text").is_none(), "{}", payloads[n]);
        set_account(&server, &bob, json!({"no_content": false, "dnd": null})).await;
        expected.push(String::new());

        // A visible tab on the channel: no push; hidden again: a push.
        let (bob_socket, _events) = connect(&server, &bob).await;
        let ack = ask(
            &bob_socket,
            "viewing",
            json!({"channel_id": general, "visible": true}),
        )
        .await;
        assert_eq!(ack["success"], true, "{ack}");
        say(&server, &alice, general, "while bob looks").await;
        say(&server, &alice, random, "marker 4").await;
        let n = expect(&mut expected, "marker 4");
        assert_eq!(texts(&push.received(&bob_sub, n).await), sorted(&expected));
        let ack = ask(
            &bob_socket,
            "viewing",
            json!({"channel_id": general, "visible": false}),
        )
        .await;
        assert_eq!(ack["success"], true, "{ack}");
        say(&server, &alice, general, "while bob is away").await;
        let n = expect(&mut expected, "while bob is away");
        assert_eq!(texts(&push.received(&bob_sub, n).await), sorted(&expected));
        // Only members may say they view a channel.
        let ack = ask(
            &bob_socket,
            "viewing",
            json!({"channel_id": 999_999, "visible": true}),
        )
        .await;
        assert_eq!(ack["success"], false, "{ack}");
        let ack = ask(&bob_socket, "viewing", json!({"channel": "general"})).await;
        assert_eq!(ack["success"], false, "{ack}");

        // Threads (bob hears all of #random): a reply kept in its thread
        // reaches its followers, and others only if it names them.
        let root = say(&server, &alice, random, "release plan").await;
        let n = expect(&mut expected, "release plan");
        assert_eq!(texts(&push.received(&bob_sub, n).await), sorted(&expected));
        reply(&server, &alice, random, root, "first detail").await;
        reply(&server, &alice, random, root, "@bob your part").await;
        let n = expect(&mut expected, "@bob your part");
        assert_eq!(texts(&push.received(&bob_sub, n).await), sorted(&expected));
        reply(&server, &bob, random, root, "on it").await;
        reply(&server, &alice, random, root, "thanks").await;
        let n = expect(&mut expected, "thanks");
        assert_eq!(texts(&push.received(&bob_sub, n).await), sorted(&expected));
    }
}

/// Replies to `root` in its thread, kept there; returns the reply's id.
async fn reply(server: &Server, token: &str, channel: i64, root: i64, text: &str) -> i64 {
    let (socket, _events) = connect(server, token).await;
    let ack = ask(
        &socket,
        "send_message",
        json!({"channel_id": channel, "content": text, "thread_root_id": root,
               "client_msg_id": format!("r-{}", rand::random::<u64>())}),
    )
    .await;
    assert_eq!(ack["success"], true, "{ack}");
    ack["message"]["id"].as_i64().unwrap()
}

#[tokio::test]
async fn failures_are_retried_and_gone_subscriptions_removed() {
    for backend in backends() {
        let push = PushService::start();
        let server = start(backend, &push).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (_, bob_me) = call(&server, Some(&bob), "GET", "/api/auth/me", None).await;
        let bob_id = bob_me["user"]["id"].as_i64().unwrap();
        let laptop = subscribe(&server, &push, &bob).await;
        let phone = subscribe(&server, &push, &bob).await;
        let count = "SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $1";
        assert_eq!(db_count(&server, count, bob_id).await, 2);
        push.script(&laptop, &[500, 429, 201], Some(1)).await;
        push.script(&phone, &[410], None).await;
        let (_, general) = room_and_channel(&server, &bob, "Lobby", "general").await;

        say(&server, &alice, general, "@bob ping").await;
        let payloads = push.received(&laptop, 1).await;
        assert_eq!(texts(&payloads), ["@bob ping"]);
        let attempts = push.seen(&laptop).await["attempts"].clone();
        let statuses: Vec<i64> = attempts
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["status"].as_i64().unwrap())
            .collect();
        assert_eq!(statuses, [500, 429, 201]);
        let at = |i: usize| attempts[i]["at"].as_f64().unwrap();
        assert!(
            at(1) - at(0) >= 0.9,
            "the 500 was retried after {}s",
            at(1) - at(0)
        );
        assert!(at(2) - at(1) >= 0.9, "Retry-After was not honoured");

        // The 410: the subscription is gone, and no second push tries it.
        db_count_becomes(
            &server,
            count,
            bob_id,
            1,
            "the 410 subscription was not removed",
        )
        .await;
        say(&server, &alice, general, "@bob again").await;
        assert_eq!(
            texts(&push.received(&laptop, 2).await),
            ["@bob again", "@bob ping"]
        );
        assert_eq!(
            push.seen(&phone).await["attempts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let queued = "SELECT COUNT(*) FROM push_queue WHERE user_id = $1";
        db_count_becomes(&server, queued, bob_id, 0, "delivered rows stay queued").await;
    }
}

#[tokio::test]
async fn queued_pushes_survive_a_restart() {
    for backend in backends() {
        let mut push = PushService::start();
        let mut server = start(backend, &push).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let bob_sub = subscribe(&server, &push, &bob).await;
        let (_, general) = room_and_channel(&server, &bob, "Lobby", "general").await;
        push.stop();
        say(
            &server,
            &alice,
            general,
            "@bob while the push service is down",
        )
        .await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !server.log().contains("web push not delivered") {
            assert!(
                Instant::now() < deadline,
                "no failed attempt logged:\n{}",
                server.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(server.terminate().success());
        push.run();
        server.restart();
        let payloads = push.received(&bob_sub, 1).await;
        assert_eq!(texts(&payloads), ["@bob while the push service is down"]);
        let log = server.log();
        assert!(
            !log.contains("while the push service"),
            "a payload was logged"
        );
    }
}

/// Per person: at most 30 pushes a minute are queued (later ones are
/// dropped), and at most 50 rows wait (the oldest go): with two
/// subscriptions and the push service down, 35 mentions queue 30 pushes,
/// 60 rows, of which the newest 50 — mentions 6 to 30 — are delivered to
/// each subscription once it is back.
#[tokio::test]
async fn each_persons_pushes_are_rate_capped_and_their_queue_bounded() {
    for backend in backends() {
        let mut push = PushService::start();
        let server = start(backend, &push).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let (_, me) = call(&server, Some(&bob), "GET", "/api/auth/me", None).await;
        let bob_id = me["user"]["id"].as_i64().unwrap();
        let subs = [
            subscribe(&server, &push, &bob).await,
            subscribe(&server, &push, &bob).await,
        ];
        let (_, general) = room_and_channel(&server, &bob, "Lobby", "general").await;
        push.stop();
        let (socket, _events) = connect(&server, &alice).await;
        for i in 1..=35 {
            let ack = ask(
                &socket,
                "send_message",
                json!({"channel_id": general, "content": format!("@bob {i:02}"), "client_msg_id": format!("cap-{i}")}),
            )
            .await;
            assert_eq!(ack["success"], true, "{ack}");
        }
        // The fan-out gathers messages for a moment before it queues them:
        // the queue holds all it will hold once the budget shows the 30
        // pushes within the cap (the rest are dropped before any write).
        db_count_becomes(
            &server,
            "SELECT COALESCE(MAX(used), 0) FROM push_budget WHERE user_id = $1",
            bob_id,
            30,
            "the 30 pushes within the cap were not all queued",
        )
        .await;
        let queued = "SELECT COUNT(*) FROM push_queue WHERE user_id = $1";
        db_count_becomes(
            &server,
            queued,
            bob_id,
            50,
            "the queue was not cut to 50 rows",
        )
        .await;
        push.run();
        let newest: Vec<String> = (6..=30).map(|i| format!("@bob {i:02}")).collect();
        for sub in &subs {
            assert_eq!(texts(&push.received(sub, 25).await), sorted(&newest));
        }
        db_count_becomes(&server, queued, bob_id, 0, "delivered rows stay queued").await;
    }
}

/// Subscribes with `body`; returns the status and error code.
async fn try_subscribe(server: &Server, token: &str, body: Value) -> (u16, String) {
    let (s, got) = call(
        server,
        Some(token),
        "POST",
        "/api/push/subscriptions",
        Some(body),
    )
    .await;
    (s, got["code"].as_str().unwrap_or("").to_owned())
}

#[tokio::test]
async fn endpoints_pass_the_ssrf_guard_and_inputs_are_checked() {
    for backend in backends() {
        let push = PushService::start();
        let server = start(backend, &push).await;
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let sub = push.subscription(&vapid_key(&server, &alice).await).await;
        let keys = sub["keys"].clone();
        let other_port = push.0.port().wrapping_add(1).max(1024);

        for (endpoint, status, code) in [
            (
                format!("http://127.0.0.1:{other_port}/push/x"),
                400,
                "endpoint_not_allowed",
            ),
            (
                format!("https://127.0.0.1:{other_port}/push/x"),
                400,
                "endpoint_not_allowed",
            ),
            (
                "https://localhost/push/x".into(),
                400,
                "endpoint_not_allowed",
            ),
            (
                "https://169.254.169.254/latest/meta-data".into(),
                400,
                "endpoint_not_allowed",
            ),
            ("https://[::1]/x".into(), 400, "endpoint_not_allowed"),
            (
                "https://[::ffff:10.0.0.1]/x".into(),
                400,
                "endpoint_not_allowed",
            ),
            (
                "http://push.example.com/x".into(),
                400,
                "endpoint_not_allowed",
            ),
            ("not a url".into(), 422, "invalid_endpoint"),
            ("ftp://push.example.com/x".into(), 422, "invalid_endpoint"),
            (
                format!("https://push.example.com/{}", "a".repeat(2048)),
                422,
                "invalid_endpoint",
            ),
        ] {
            let got =
                try_subscribe(&server, &alice, json!({"endpoint": endpoint, "keys": keys})).await;
            assert_eq!(got, (status, code.to_owned()), "{endpoint}");
        }
        let endpoint = sub["endpoint"].clone();
        let compressed = "A".repeat(44);
        for (p256dh, auth, code) in [
            ("BAAA", keys["auth"].as_str().unwrap(), "invalid_p256dh"),
            (
                compressed.as_str(),
                keys["auth"].as_str().unwrap(),
                "invalid_p256dh",
            ),
            (
                "not base64!",
                keys["auth"].as_str().unwrap(),
                "invalid_p256dh",
            ),
            (
                keys["p256dh"].as_str().unwrap(),
                "AAAAAAAAAAAAAAAAAAAA",
                "invalid_auth",
            ),
            (keys["p256dh"].as_str().unwrap(), "", "invalid_auth"),
        ] {
            let body = json!({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}});
            assert_eq!(
                try_subscribe(&server, &alice, body).await,
                (422, code.to_owned())
            );
        }
        // The point must be on the curve.
        let mut off_curve = keys["p256dh"].as_str().unwrap().to_owned();
        off_curve.replace_range(60..61, if &off_curve[60..61] == "A" { "B" } else { "A" });
        let body =
            json!({"endpoint": endpoint, "keys": {"p256dh": off_curve, "auth": keys["auth"]}});
        assert_eq!(
            try_subscribe(&server, &alice, body).await,
            (422, "invalid_p256dh".to_owned())
        );
        let got = try_subscribe(&server, &alice, json!({"endpoint": endpoint})).await;
        assert_eq!(got, (422, "invalid_body".to_owned()));
        let (s, _) = call(
            &server,
            None,
            "POST",
            "/api/push/subscriptions",
            Some(json!({"endpoint": endpoint, "keys": keys})),
        )
        .await;
        assert_eq!(s, 401);
        let (s, _) = call(&server, None, "GET", "/api/push/vapid_public_key", None).await;
        assert_eq!(s, 401);
        let cross_site = reqwest::Client::new()
            .post(server.url("/api/push/subscriptions"))
            .bearer_auth(&alice)
            .header("Sec-Fetch-Site", "cross-site")
            .json(&json!({"endpoint": endpoint, "keys": keys}))
            .send()
            .await
            .unwrap();
        assert_eq!(cross_site.status(), 403);

        // Ten subscriptions per person; updating one of them is no new one.
        let (_, me) = call(&server, Some(&alice), "GET", "/api/auth/me", None).await;
        let alice_id = me["user"]["id"].as_i64().unwrap();
        for i in 0..10 {
            let body = json!({"endpoint": push.url(&format!("/push/device{i}")), "keys": keys});
            assert_eq!(
                try_subscribe(&server, &alice, body).await.0,
                201,
                "subscription {i}"
            );
        }
        let eleventh = json!({"endpoint": push.url("/push/device10"), "keys": keys});
        assert_eq!(
            try_subscribe(&server, &alice, eleventh.clone()).await,
            (409, "too_many_subscriptions".to_owned())
        );
        let again = json!({"endpoint": push.url("/push/device3"), "keys": keys});
        assert_eq!(try_subscribe(&server, &alice, again).await.0, 201);
        let count = "SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $1";
        assert_eq!(db_count(&server, count, alice_id).await, 10);
        // A browser signed in as bob now: the subscription moves to him.
        let moved = json!({"endpoint": push.url("/push/device0"), "keys": keys});
        assert_eq!(try_subscribe(&server, &bob, moved).await.0, 201);
        assert_eq!(db_count(&server, count, alice_id).await, 9);
        let gone = json!({"endpoint": push.url("/push/device0")});
        let (s, body) = call(
            &server,
            Some(&alice),
            "DELETE",
            "/api/push/subscriptions",
            Some(gone.clone()),
        )
        .await;
        assert_eq!(
            (s, body["code"].as_str()),
            (404, Some("subscription_not_found"))
        );
        assert_eq!(try_subscribe(&server, &alice, eleventh).await.0, 201);
        let (s, _) = call(
            &server,
            Some(&bob),
            "DELETE",
            "/api/push/subscriptions",
            Some(gone),
        )
        .await;
        assert_eq!(s, 200);

        // Settings are checked too.
        for dnd in [
            json!({"start": 1440, "end": 60, "utc_offset": 0}),
            json!({"start": 60, "end": 60, "utc_offset": 0}),
            json!({"start": -1, "end": 60, "utc_offset": 0}),
            json!({"start": 0, "end": 60, "utc_offset": 900}),
        ] {
            let (s, body) = call(
                &server,
                Some(&alice),
                "PUT",
                "/api/push/settings",
                Some(json!({"dnd": dnd})),
            )
            .await;
            assert_eq!(
                (s, body["code"].as_str()),
                (422, Some("invalid_dnd")),
                "{dnd}"
            );
        }
        let (s, body) = call(&server, Some(&alice), "GET", "/api/push/settings", None).await;
        assert_eq!(
            (s, body),
            (
                200,
                json!({"success": true, "no_content": false, "dnd": null})
            )
        );
        let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let path = format!("/api/channels/{general}/notifications");
        for (body, code) in [
            (json!({"level": "loud"}), "invalid_body"),
            (json!({"mute_until": "tomorrow"}), "invalid_mute_until"),
            (
                json!({"mute_until": "10000-01-01T00:00:00Z"}),
                "invalid_mute_until",
            ),
        ] {
            let (s, got) = call(&server, Some(&alice), "PUT", &path, Some(body.clone())).await;
            assert_eq!((s, got["code"].as_str()), (422, Some(code)), "{body}");
        }
        let (s, got) = call(&server, Some(&alice), "GET", &path, None).await;
        assert_eq!(
            (s, got),
            (
                200,
                json!({"success": true, "channel_id": general, "level": null,
                         "effective_level": "mentions", "mute_until": null})
            )
        );
        // Members only: admin is not in Project X.
        let admin = token(&server, "admin", "admin123").await;
        let (_, secrets) = room_and_channel(&server, &alice, "Project X", "secrets").await;
        let path = format!("/api/channels/{secrets}/notifications");
        let (s, _) = call(&server, Some(&admin), "GET", &path, None).await;
        assert_eq!(s, 404);
        let (s, _) = call(
            &server,
            Some(&admin),
            "PUT",
            &path,
            Some(json!({"level": "all"})),
        )
        .await;
        assert_eq!(s, 404);
    }
}

#[tokio::test]
async fn every_node_must_sign_with_the_same_vapid_key() {
    for backend in backends() {
        let server = Server::start(backend).await;
        let key_file = server.data_dir.join("vapid_private_key");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let private = std::fs::read_to_string(&key_file)
            .unwrap()
            .trim()
            .to_owned();
        let alice = token(&server, "alice", "password123").await;
        let public = vapid_key(&server, &alice).await;
        assert_eq!(public.len(), 87);
        assert!(
            !server.log().contains(&private),
            "the private key was logged"
        );

        // A second node with a key of its own refuses to start.
        let other_dir = tempfile::tempdir().unwrap();
        let (status, stderr) = serve_once(&server, other_dir.path(), None);
        assert!(!status, "a node with another VAPID key started");
        assert!(
            stderr.contains("VAPID_PRIVATE_KEY")
                && stderr.contains("not the one the database holds"),
            "{stderr}"
        );
        // With the first node's key it starts.
        let (status, stderr) = serve_once(&server, other_dir.path(), Some(&private));
        assert!(status, "a node with the shared key did not start: {stderr}");
    }
}

/// Runs `serve` as another node of `server`'s deployment with its own
/// data directory: true if it came up (then it is stopped), false if it
/// exited; and what it wrote to stderr.
fn serve_once(server: &Server, data_dir: &Path, vapid: Option<&str>) -> (bool, String) {
    let mut command = Command::new(testkit::binary());
    command
        .arg("serve")
        .env_clear()
        .env("DATA_DIR", data_dir)
        .env("DATABASE_URL", &server.db_url)
        .env("APP_ENV", "development")
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(key) = vapid {
        command.env("VAPID_PRIVATE_KEY", key);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.contains("listening on") {
                let _ = tx.send(());
            }
        }
    });
    let started = rx.recv_timeout(Duration::from_secs(30)).is_ok();
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    (
        started,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
