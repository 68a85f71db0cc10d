//! Operations against the real binary: `GET /metrics` scraped over HTTP and
//! read with an independent parser (the `prometheus-parse` crate), its
//! counters moving with traffic, its token required; and `LOG_FORMAT=json`
//! giving one JSON object per log line, with no secret in any.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use std::time::Duration;

use prometheus_parse::{Scrape, Value as Sample};
use serde_json::{Value, json};
use testkit::{Server, ask, backends, connect, room_and_channel, token};

const METRICS_TOKEN: &str = "scrape-0123456789abcdef0123456789";

async fn get_metrics(server: &Server, authorization: Option<&str>) -> reqwest::Response {
    let mut request = testkit::api_client().get(server.url("/metrics"));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.unwrap()
}

async fn scrape(server: &Server) -> Scrape {
    let response = get_metrics(server, Some(&format!("Bearer {METRICS_TOKEN}"))).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    assert!(!text.contains(METRICS_TOKEN));
    Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of `name` with `label` (if any), as a number: a counter's or
/// gauge's value, a histogram's observation count.
fn value(scrape: &Scrape, name: &str, label: Option<(&str, &str)>) -> f64 {
    let sample = scrape
        .samples
        .iter()
        .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
        .unwrap_or_else(|| panic!("no sample {name} {label:?}"));
    match &sample.value {
        Sample::Counter(v) | Sample::Gauge(v) | Sample::Untyped(v) => *v,
        Sample::Histogram(buckets) => buckets
            .iter()
            .find(|b| b.less_than.is_infinite())
            .map(|b| b.count)
            .unwrap(),
        Sample::Summary(_) => panic!("{name} is a summary"),
    }
}

#[tokio::test]
async fn metrics_are_scraped_with_their_token_and_move_with_traffic() {
    for backend in backends() {
        let server = Server::start_with(
            backend,
            &[("METRICS_TOKEN", METRICS_TOKEN), ("SEND_RATE_LIMIT", "off")],
        )
        .await;
        let before = scrape(&server).await;
        for queue in ["web_push", "email", "message_writer", "password_hashing"] {
            value(&before, "securechat_queue_depth", Some(("queue", queue)));
        }

        // A missing, wrong or differently typed token is refused.
        for authorization in [
            None,
            Some("Bearer wrong-0123456789abcdef0123456789"),
            Some(&format!("Bearer {METRICS_TOKEN}x")[..]),
            Some(&format!("Basic {METRICS_TOKEN}")[..]),
            Some("Bearer "),
        ] {
            let response = get_metrics(&server, authorization).await;
            assert_eq!(response.status(), 401, "{authorization:?}");
            assert!(response.headers().contains_key("www-authenticate"));
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["code"], "unauthorized");
        }

        let alice = token(&server, "alice", "password123").await;
        let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
        let (socket, _events) = connect(&server, &alice).await;
        let (_socket2, _events2) = connect(&server, &alice).await;
        for i in 0..5 {
            let ack = ask(
                &socket,
                "send_message",
                json!({"channel_id": general, "content": format!("m{i}"), "client_msg_id": format!("m{i}")}),
            )
            .await;
            assert_eq!(ack["success"], true, "{ack}");
        }
        let missing = testkit::api_client()
            .get(server.url("/api/nothing-here"))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);

        let after = scrape(&server).await;
        let delta = |name: &str, label: Option<(&str, &str)>| {
            value(&after, name, label) - value(&before, name, label)
        };
        assert_eq!(
            delta("securechat_messages_stored_total", None),
            5.0,
            "{backend:?}"
        );
        let batches = delta("securechat_commit_batch_size", None);
        assert!(
            (1.0..=5.0).contains(&batches),
            "{batches} commits for 5 messages"
        );
        assert_eq!(value(&after, "securechat_socket_connections", None), 2.0);
        assert!(delta("securechat_http_responses_total", Some(("class", "2xx"))) >= 3.0);
        assert!(delta("securechat_http_responses_total", Some(("class", "4xx"))) >= 6.0);
        assert_eq!(value(&after, "securechat_commit_failures_total", None), 0.0);

        // A closed socket is no longer counted.
        drop(_socket2);
        let mut open = 2.0;
        for _ in 0..100 {
            open = value(
                &scrape(&server).await,
                "securechat_socket_connections",
                None,
            );
            if open == 1.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(open, 1.0);
    }
}

#[tokio::test]
async fn metrics_are_a_404_without_a_token() {
    let server = Server::start(testkit::Backend::Sqlite).await;
    let response = get_metrics(&server, Some(&format!("Bearer {METRICS_TOKEN}"))).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
}

/// `LOG_FORMAT=json`: every line the server logs is one JSON object with a
/// level and a message, and none holds a password, a session token, the
/// metrics token or the server's secret key.
#[tokio::test]
async fn json_logs_parse_and_hold_no_secrets() {
    let server = Server::start_with(
        testkit::Backend::Sqlite,
        &[
            ("LOG_FORMAT", "json"),
            ("METRICS_TOKEN", METRICS_TOKEN),
            ("RUST_LOG", "debug,sqlx=warn,hyper=info,h2=info,rustls=info"),
        ],
    )
    .await;
    let alice = token(&server, "alice", "password123").await;
    let (_, general) = room_and_channel(&server, &alice, "Lobby", "general").await;
    let (socket, _events) = connect(&server, &alice).await;
    let ack = ask(
        &socket,
        "send_message",
        json!({"channel_id": general, "content": "hello", "client_msg_id": "j1"}),
    )
    .await;
    assert_eq!(ack["success"], true);
    let bad = testkit::login_status(&server, "bob", "not-bobs-password").await;
    assert_eq!(bad, 401);
    scrape(&server).await;
    let log = server.log_containing(&["/metrics"]).await;

    let secret_key = std::fs::read_to_string(server.data_dir.join("secret_key")).unwrap();
    let mut requests = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let record: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(record["level"].is_string(), "{line}");
        assert!(record["timestamp"].is_string(), "{line}");
        assert!(record["fields"].is_object(), "{line}");
        for secret in [
            "password123",
            "not-bobs-password",
            alice.as_str(),
            METRICS_TOKEN,
            secret_key.trim(),
        ] {
            assert!(!line.contains(secret), "a secret in the log: {line}");
        }
        if line.contains("\"path\":\"/api/auth/login\"") {
            requests += 1;
        }
    }
    assert!(
        requests > 0,
        "request spans are logged with their path:\n{log}"
    );
}
