//! Registered slash commands against the real binary, on every configured
//! storage backend, with a real HTTP receiver (a tokio listener in the
//! test): the form body and its token, ephemeral and in-channel answers,
//! failing receivers, the per-person rate limit, refusal in encrypted
//! channels, and who may register, list, delete and run commands.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use securechat_testkit as testkit;
use serde_json::{Value, json};
use testkit::{
    Server, ask, backends, call, connect, new_user, next_event, room_and_channel, token,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the receiver answers next: a status, a content type, a body and
/// how long it waits first.
type Reply = (u16, &'static str, String, Duration);

/// A small HTTP/1.1 receiver: records every request's form body and
/// answers from a script (ephemeral "ok" when it is empty).
struct Receiver {
    port: u16,
    forms: Arc<Mutex<Vec<HashMap<String, String>>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

impl Receiver {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let forms = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::<Reply>::new()));
        let (f, s) = (Arc::clone(&forms), Arc::clone(&script));
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (f, s) = (Arc::clone(&f), Arc::clone(&s));
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let (head_end, length) = loop {
                        let n = socket.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                            assert!(head.starts_with("post "), "{head}");
                            assert!(
                                head.contains("content-type: application/x-www-form-urlencoded"),
                                "{head}"
                            );
                            let length = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                            break (end + 4, length);
                        }
                    };
                    while buf.len() < head_end + length {
                        let n = socket.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let form = url::form_urlencoded::parse(&buf[head_end..head_end + length])
                        .into_owned()
                        .collect();
                    f.lock().unwrap().push(form);
                    let next = s.lock().unwrap().pop_front();
                    let (status, content_type, body, delay) = next.unwrap_or((
                        200,
                        "application/json",
                        r#"{"response_type":"ephemeral","text":"ok"}"#.to_owned(),
                        Duration::ZERO,
                    ));
                    tokio::time::sleep(delay).await;
                    let response = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        Self {
            port,
            forms,
            script,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn allow(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn reply(&self, status: u16, body: Value, delay: Duration) {
        self.script.lock().unwrap().push_back((
            status,
            "application/json",
            body.to_string(),
            delay,
        ));
    }

    fn forms(&self) -> Vec<HashMap<String, String>> {
        self.forms.lock().unwrap().clone()
    }
}

/// Registers `/trigger` in `room` as `token`: the status and the answer.
async fn register(
    server: &Server,
    token: Option<&str>,
    room: i64,
    trigger: &str,
    url: &str,
) -> (u16, Value) {
    call(
        server,
        token,
        "POST",
        &format!("/api/rooms/{room}/commands"),
        Some(
            json!({"trigger": trigger, "url": url, "description": "The weather",
                    "usage_hint": "[city]"}),
        ),
    )
    .await
}

/// Runs `/command text` in `channel` as `token`.
async fn run(
    server: &Server,
    token: Option<&str>,
    channel: i64,
    command: &str,
    text: &str,
) -> (u16, Value) {
    call(
        server,
        token,
        "POST",
        &format!("/api/channels/{channel}/commands"),
        Some(json!({"command": command, "text": text})),
    )
    .await
}

#[tokio::test]
async fn a_command_posts_the_form_with_its_token_and_answers_ephemerally_or_in_channel() {
    for backend in backends() {
        let receiver = Receiver::start().await;
        let server =
            Server::start_with(backend, &[("WEBHOOK_ALLOW_HOSTS", &receiver.allow())]).await;
        let alice = token(&server, "alice", "password123").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (room, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let (s, made) = register(&server, Some(&alice), room, "/Weather", &receiver.url()).await;
        assert_eq!(s, 201, "{backend:?}: {made}");
        assert_eq!(made["command"]["trigger"], "weather");
        let token_sent = made["token"].as_str().unwrap().to_owned();
        assert!(token_sent.len() >= 32, "{made}");

        // Ephemeral: the text comes back to the caller; nothing is posted.
        receiver.reply(
            200,
            json!({"response_type": "ephemeral", "text": "Sunny, 21°C"}),
            Duration::ZERO,
        );
        let (s, ran) = run(&server, Some(&charlie), general, "/weather", "paris & lyon").await;
        assert_eq!(s, 200, "{ran}");
        assert_eq!(ran["response_type"], "ephemeral");
        assert_eq!(ran["text"], "Sunny, 21°C");
        assert_eq!(ran["message_id"], Value::Null);
        let forms = receiver.forms();
        assert_eq!(forms.len(), 1);
        let form = &forms[0];
        assert_eq!(form["token"], token_sent);
        assert_eq!(form["command"], "/weather");
        assert_eq!(form["text"], "paris & lyon");
        assert_eq!(form["channel_id"], general.to_string());
        assert_eq!(form["channel_name"], "general");
        assert_eq!(form["team_id"], room.to_string());
        assert_eq!(form["user_name"], "charlie");
        assert!(form["user_id"].parse::<i64>().is_ok(), "{form:?}");
        let (_, history) = call(
            &server,
            Some(&alice),
            "GET",
            &format!("/api/channels/{general}/messages"),
            None,
        )
        .await;
        assert!(!history.to_string().contains("Sunny"), "{history}");

        // In channel: posted as the caller, live to the channel's members.
        let (a, mut a_events) = connect(&server, &alice).await;
        assert_eq!(
            ask(&a, "join_channel", json!({"channel_id": general})).await["success"],
            true
        );
        receiver.reply(
            200,
            json!({"response_type": "in_channel", "text": "Rain in Lyon"}),
            Duration::ZERO,
        );
        let (s, ran) = run(&server, Some(&charlie), general, "weather", "lyon").await;
        assert_eq!(s, 200, "{ran}");
        assert_eq!(ran["response_type"], "in_channel");
        let live = next_event(&mut a_events, "new_message").await;
        assert_eq!(live["id"], ran["message_id"]);
        assert_eq!(live["content"], "Rain in Lyon");
        assert_eq!(live["sender_username"], "charlie");

        // A receiver that fails, answers nonsense or is too slow: 502.
        receiver.reply(500, json!({}), Duration::ZERO);
        let (s, failed) = run(&server, Some(&charlie), general, "weather", "x").await;
        assert_eq!(
            (s, &failed["code"]),
            (502, &json!("command_failed")),
            "{failed}"
        );
        receiver.reply(
            200,
            json!({"response_type": "shout", "text": "x"}),
            Duration::ZERO,
        );
        assert_eq!(
            run(&server, Some(&charlie), general, "weather", "x")
                .await
                .0,
            502
        );
        receiver.reply(200, json!({"text": "late"}), Duration::from_secs(4));
        let started = std::time::Instant::now();
        let (s, late) = run(&server, Some(&charlie), general, "weather", "x").await;
        assert_eq!(s, 502, "{late}");
        assert!(
            started.elapsed() < Duration::from_millis(3900),
            "{:?}",
            started.elapsed()
        );

        // Unknown commands and oversized text.
        let (s, unknown) = run(&server, Some(&charlie), general, "nope", "").await;
        assert_eq!((s, &unknown["code"]), (404, &json!("command_not_found")));
        let long = "x".repeat(4001);
        assert_eq!(
            run(&server, Some(&charlie), general, "weather", &long)
                .await
                .0,
            422
        );

        // One person runs 10 in a burst, then waits (429).
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(run(&server, Some(&alice), general, "weather", "x").await.0);
        }
        assert!(statuses.contains(&429), "{statuses:?}");
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            10,
            "{statuses:?}"
        );
    }
}

#[tokio::test]
async fn registered_commands_are_refused_in_encrypted_channels() {
    for backend in backends() {
        let receiver = Receiver::start().await;
        let server =
            Server::start_with(backend, &[("WEBHOOK_ALLOW_HOSTS", &receiver.allow())]).await;
        let alice = token(&server, "alice", "password123").await;
        let (room, secrets) = room_and_channel(&server, &alice, "Project X", "secrets").await;
        assert_eq!(
            register(&server, Some(&alice), room, "deploy", &receiver.url())
                .await
                .0,
            201
        );
        let (s, refused) = run(&server, Some(&alice), secrets, "deploy", "the secret").await;
        assert_eq!(
            (s, &refused["code"]),
            (403, &json!("encrypted_channel")),
            "{refused}"
        );
        assert!(receiver.forms().is_empty());
    }
}

#[tokio::test]
async fn only_room_admins_register_and_delete_and_only_members_list_and_run() {
    for backend in backends() {
        let receiver = Receiver::start().await;
        let server =
            Server::start_with(backend, &[("WEBHOOK_ALLOW_HOSTS", &receiver.allow())]).await;
        // Project X (private): alice owns it, bob is an admin, charlie a
        // member; dave is in no room with them.
        let alice = token(&server, "alice", "password123").await;
        let bob = token(&server, "bob", "password456").await;
        let charlie = token(&server, "charlie", "password789").await;
        let (_, dave) = new_user(&server, "dave").await;
        let (room, general) = room_and_channel(&server, &alice, "Project X", "general").await;
        let url = receiver.url();
        let expect = [
            (Some(&alice), "a", 201, 200, 200),
            (Some(&bob), "b", 201, 200, 200),
            (Some(&charlie), "c", 403, 200, 200),
            (Some(&dave), "d", 404, 404, 404),
            (None, "e", 401, 401, 401),
        ];
        for (who, trigger, create, list, ran) in expect {
            let who = who.map(String::as_str);
            let (s, made) = register(&server, who, room, trigger, &url).await;
            assert_eq!(s, create, "{backend:?} create {trigger}: {made}");
            let (s, listed) = call(
                &server,
                who,
                "GET",
                &format!("/api/rooms/{room}/commands"),
                None,
            )
            .await;
            assert_eq!(s, list, "list: {listed}");
            assert_eq!(run(&server, who, general, "a", "").await.0, ran);
        }
        // Members see the commands without their URLs; admins with them.
        let (_, listed) = call(
            &server,
            Some(&charlie),
            "GET",
            &format!("/api/rooms/{room}/commands"),
            None,
        )
        .await;
        let commands = listed["commands"].as_array().unwrap();
        assert_eq!(commands.len(), 2);
        assert_eq!(commands[0]["trigger"], "a");
        assert_eq!(commands[0]["usage_hint"], "[city]");
        assert!(commands[0].get("url").is_none(), "{listed}");
        let (_, listed) = call(
            &server,
            Some(&bob),
            "GET",
            &format!("/api/rooms/{room}/commands"),
            None,
        )
        .await;
        assert_eq!(listed["commands"][0]["url"], url);

        // Triggers: taken, built-in, malformed; URLs the guard refuses.
        let (s, taken) = register(&server, Some(&bob), room, "A", &url).await;
        assert_eq!((s, &taken["code"]), (409, &json!("command_exists")));
        let (s, built_in) = register(&server, Some(&bob), room, "/kick", &url).await;
        assert_eq!((s, &built_in["code"]), (409, &json!("built_in_command")));
        assert_eq!(
            register(&server, Some(&bob), room, "two words", &url)
                .await
                .0,
            422
        );
        let (s, private) = register(&server, Some(&bob), room, "x", "http://10.0.0.1/hook").await;
        assert_eq!(
            (s, &private["code"]),
            (422, &json!("invalid_url")),
            "{private}"
        );

        let id = commands[0]["id"].as_i64().unwrap();
        let path = format!("/api/rooms/{room}/commands/{id}");
        for (who, status) in [(Some(&charlie), 403), (Some(&dave), 404), (None, 401)] {
            assert_eq!(
                call(&server, who.map(String::as_str), "DELETE", &path, None)
                    .await
                    .0,
                status
            );
        }
        assert_eq!(
            call(&server, Some(&bob), "DELETE", &path, None).await.0,
            200
        );
        assert_eq!(
            call(&server, Some(&bob), "DELETE", &path, None).await.0,
            404
        );
        let (s, gone) = run(&server, Some(&charlie), general, "a", "").await;
        assert_eq!((s, &gone["code"]), (404, &json!("command_not_found")));
    }
}
