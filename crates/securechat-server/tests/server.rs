//! The `server` and `config` modules, end to end: configuration errors,
//! HTTPS, production guards, connection bounds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use securechat_testkit as testkit;

use serde_json::{Value, json};
use testkit::{Backend, Server, run_binary, text};

fn env(pairs: &[(&str, &str)], data_dir: &std::path::Path) -> Vec<(String, String)> {
    let mut env = vec![("DATA_DIR".to_owned(), data_dir.display().to_string())];
    env.extend(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

#[test]
fn production_without_secret_key_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    for var in ["APP_ENV", "FLASK_ENV"] {
        let out = run_binary(
            &env(&[(var, "production"), ("PORT", "0")], dir.path()),
            &["serve"],
            None,
        );
        assert!(!out.status.success());
        let stderr = text(&out.stderr);
        assert!(stderr.contains("SECRET_KEY"), "{stderr}");
        assert!(stderr.contains("required"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one clear line: {stderr}");
    }
    let out = run_binary(
        &env(
            &[("APP_ENV", "production"), ("SECRET_KEY", "too-short")],
            dir.path(),
        ),
        &["serve"],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("at least 32"));
}

#[test]
fn bad_values_stop_start_up_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [
        ("PORT", "eighty"),
        ("HOST", "nowhere"),
        ("APP_ENV", "staging"),
    ] {
        let out = run_binary(&env(&[(var, value)], dir.path()), &["serve"], None);
        assert!(!out.status.success());
        let stderr = text(&out.stderr);
        assert!(stderr.contains(var), "{var}: {stderr}");
    }
}

#[test]
fn demo_data_is_refused_in_production() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_binary(
        &env(&[("APP_ENV", "production")], dir.path()),
        &["init-db", "--demo"],
        None,
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("production"));
}

#[test]
fn version_flag() {
    let out = run_binary(&[], &["--version"], None);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("securechat "));
}

#[tokio::test]
async fn serves_https_with_secure_cookies_when_certificates_are_set() {
    let certs = tempfile::tempdir().unwrap();
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert_pem = generated.cert.pem();
    let cert_path = certs.path().join("cert.pem");
    let key_path = certs.path().join("key.pem");
    std::fs::write(&cert_path, &cert_pem).unwrap();
    std::fs::write(&key_path, generated.key_pair.serialize_pem()).unwrap();

    let server = Server::start_with(
        Backend::Sqlite,
        &[
            ("SSL_CERT_PATH", cert_path.to_str().unwrap()),
            ("SSL_KEY_PATH", key_path.to_str().unwrap()),
        ],
    )
    .await;
    assert!(server.base.starts_with("https://"), "{}", server.base);

    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let response = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let hsts = response.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(hsts.contains("max-age="), "{hsts}");

    let response = client
        .post(server.url("/api/auth/login"))
        .json(&json!({"username": "alice", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("__Host-securechat_session="), "{cookie}");
    assert!(cookie.contains("Secure"), "{cookie}");
    let token = response.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = client
        .get(server.url("/api/auth/me"))
        .header("cookie", format!("__Host-securechat_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // Over HTTP/2 (negotiated by TLS) there is no Host header: a same-origin
    // write with an Origin and no fetch metadata is still ours.
    let same_origin = client
        .post(server.url("/api/auth/login"))
        .header("origin", &server.base)
        .json(&json!({"username": "alice", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.version(), reqwest::Version::HTTP_2);
    assert_eq!(same_origin.status(), 200);
    let cross = client
        .post(server.url("/api/auth/login"))
        .header("origin", "https://evil.example")
        .json(&json!({"username": "alice", "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), 403);

    // Plain HTTP to the TLS port gets nowhere.
    let plain = reqwest::get(format!("http://127.0.0.1:{}/healthz", server.port)).await;
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
}

#[tokio::test]
async fn serves_the_web_app_with_a_strict_csp() {
    let server = Server::start(Backend::Sqlite).await;
    let response = reqwest::get(server.url("/")).await.unwrap();
    // A bare `cargo test` may run without the UI built; `make test` builds it
    // first and sets SECURECHAT_EXPECT_WEB so its absence is a failure.
    let expect_web = std::env::var("SECURECHAT_EXPECT_WEB").is_ok_and(|v| v == "1");
    if expect_web || response.status() == 200 {
        assert_eq!(response.status(), 200, "the web UI is not embedded");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        for directive in [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{csp}");
        }
        let html = response.text().await.unwrap();
        assert!(
            html.contains("<div id=\"app\"") || html.contains("<html"),
            "{html}"
        );
        // Client-side routes fall back to the app.
        let deep = reqwest::get(server.url("/login")).await.unwrap();
        assert_eq!(deep.status(), 200);
        // The build's precompressed copies go to browsers that accept them.
        let script = html
            .split('"')
            .find(|part| part.starts_with("/assets/") && part.ends_with(".js"))
            .expect("index.html loads a script from /assets/");
        let client = reqwest::Client::new();
        let plain = client.get(server.url(script)).send().await.unwrap();
        assert_eq!(plain.headers().get("content-encoding"), None);
        let plain_len = plain.bytes().await.unwrap().len();
        for coding in ["br", "gzip"] {
            let compressed = client
                .get(server.url(script))
                .header("accept-encoding", coding)
                .send()
                .await
                .unwrap();
            assert_eq!(compressed.status(), 200);
            assert_eq!(compressed.headers()["content-encoding"], coding);
            assert_eq!(compressed.headers()["vary"], "accept-encoding");
            assert_eq!(
                compressed.headers()["content-type"],
                "text/javascript",
                "{coding}"
            );
            assert!(compressed.bytes().await.unwrap().len() < plain_len / 2);
        }
    } else {
        assert_eq!(response.status(), 503);
        assert!(response.text().await.unwrap().contains("make run"));
    }
    let missing = reqwest::get(server.url("/assets/missing.js"))
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

/// The open descriptors of a process.
fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// With 256 open files allowed, 300 idle sockets neither exhaust the
/// descriptors nor keep a legitimate request out: the connection cap stays
/// below the limit and makes room by closing the oldest socket that never
/// sent a request. A trickled request head and an idle keep-alive
/// connection are closed by the header timeout.
#[tokio::test]
async fn idle_and_trickling_connections_cannot_starve_the_server() {
    use std::time::{Duration, Instant};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    let server =
        Server::start_limited(Backend::Sqlite, &[("HEADER_TIMEOUT_SECS", "3")], Some(256)).await;
    let address = format!("127.0.0.1:{}", server.port);
    let pid = server.pid();
    let before = testkit::rss_kib(pid);

    // 300 sockets that connect and say nothing.
    let mut idle = Vec::new();
    for _ in 0..300 {
        if let Ok(socket) = TcpStream::connect(&address).await {
            idle.push(socket);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let started = Instant::now();
        let response = client.get(server.url("/healthz")).send().await;
        let took = started.elapsed();
        let status = response.map(|r| r.status().as_u16());
        assert_eq!(
            status.as_ref().ok(),
            Some(&200),
            "healthz under 300 idle sockets: {status:?} after {took:?}"
        );
        slowest = slowest.max(took);
    }
    assert!(slowest < Duration::from_secs(1), "healthz took {slowest:?}");
    let files = open_files(pid);
    assert!(files < 240, "{files} descriptors open of 256");
    let log = server.log();
    assert!(!log.contains("Too many open files"), "{log}");
    let cap = log
        .lines()
        .find(|l| l.contains("connection limit"))
        .unwrap_or("");
    assert!(cap.contains("192"), "the cap leaves room below 256: {cap}");
    let grown = testkit::rss_kib(pid).saturating_sub(before);
    assert!(grown < 16 * 1024, "300 idle sockets cost {grown} KiB");
    drop(idle);

    // A request head trickled one byte a second is cut off.
    let mut trickle = TcpStream::connect(&address).await.unwrap();
    trickle
        .write_all(b"GET /healthz HTTP/1.1\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut cut = false;
    while started.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut byte = [0u8; 1];
        let closed = matches!(
            tokio::time::timeout(Duration::from_millis(1), trickle.read(&mut byte)).await,
            Ok(Ok(0) | Err(_))
        );
        if closed || trickle.write_all(b"X").await.is_err() {
            cut = true;
            break;
        }
    }
    assert!(cut, "a trickled request head was still open after 15 s");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );

    // A keep-alive connection that has been served once and then idles is
    // closed too, so served sockets cannot hold the cap either.
    let mut served = TcpStream::connect(&address).await.unwrap();
    served
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = vec![0u8; 4096];
    let n = served.read(&mut buffer).await.unwrap();
    assert!(
        text(&buffer[..n]).starts_with("HTTP/1.1 200"),
        "{}",
        text(&buffer[..n])
    );
    let started = Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(10), served.read(&mut buffer)).await;
    assert!(
        matches!(end, Ok(Ok(0) | Err(_))),
        "an idle keep-alive connection stayed open: {end:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
}
