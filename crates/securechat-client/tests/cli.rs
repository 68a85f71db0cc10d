//! `securechat-cli` against the real server binary (see `common`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use securechat_client::Client;

/// Runs the CLI with its session kept in `home`.
fn cli(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_securechat-cli"))
        .args(args)
        .env_clear()
        .env("SECURECHAT_CLI_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `login <username> --password-stdin` with `stdin` as the input.
fn login(home: &Path, server: &common::Server, username: &str, stdin: &str) -> Output {
    cli(
        home,
        &[
            "login",
            username,
            "--server",
            &server.base,
            "--password-stdin",
        ],
        stdin,
    )
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn session(home: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(home.join("session.json")).unwrap()).unwrap()
}

#[tokio::test]
async fn login_whoami_logout() {
    let server = common::Server::start();
    let home = tempfile::tempdir().unwrap();
    let home = home.path().join("cli");

    let output = login(&home, &server, "alice", "password123\n");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("as alice"), "{}", stdout(&output));
    let saved = session(&home);
    assert_eq!(saved["username"], "alice");
    let token = saved["token"].as_str().unwrap().to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home.join("session.json")), 0o600);
        assert_eq!(mode(&home), 0o700);
    }

    let whoami = cli(&home, &["whoami"], "");
    assert!(whoami.status.success(), "{}", stderr(&whoami));
    assert!(
        stdout(&whoami).starts_with("alice (id "),
        "{}",
        stdout(&whoami)
    );

    let logout = cli(&home, &["logout"], "");
    assert!(logout.status.success(), "{}", stderr(&logout));
    assert!(!home.join("session.json").exists());
    let ended = Client::new(&server.base)
        .unwrap()
        .with_token(securechat_client::SessionToken::new(token));
    assert_eq!(
        ended.me().await.unwrap_err().status(),
        Some(401),
        "the server ended it"
    );

    let whoami = cli(&home, &["whoami"], "");
    assert!(!whoami.status.success());
    assert!(
        stderr(&whoami).contains("not logged in"),
        "{}",
        stderr(&whoami)
    );
    let logout = cli(&home, &["logout"], "");
    assert!(logout.status.success());
    assert!(stdout(&logout).contains("Not logged in"));
}

#[tokio::test]
async fn a_wrong_password_saves_nothing_and_says_why() {
    let server = common::Server::start();
    let home = tempfile::tempdir().unwrap();
    let output = login(home.path(), &server, "alice", "wrong-password\n");
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("Wrong username or password"),
        "{}",
        stderr(&output)
    );
    assert!(!home.path().join("session.json").exists());

    let empty = login(home.path(), &server, "alice", "\n");
    assert!(!empty.status.success());
    assert!(stderr(&empty).contains("no password"), "{}", stderr(&empty));
}

#[tokio::test]
async fn a_session_ended_elsewhere_is_reported_and_forgotten() {
    let server = common::Server::start();
    let home = tempfile::tempdir().unwrap();
    let output = login(home.path(), &server, "bob", "password456\r\n");
    assert!(output.status.success(), "{}", stderr(&output));

    let mut elsewhere = Client::new(&server.base).unwrap();
    elsewhere.login("bob", "password456").await.unwrap();
    elsewhere.logout_all().await.unwrap();

    let whoami = cli(home.path(), &["whoami"], "");
    assert!(!whoami.status.success());
    assert!(stderr(&whoami).contains("has ended"), "{}", stderr(&whoami));
    assert!(!home.path().join("session.json").exists());
}

#[tokio::test]
async fn logging_in_again_ends_the_replaced_session() {
    let server = common::Server::start();
    let home = tempfile::tempdir().unwrap();
    assert!(
        login(home.path(), &server, "alice", "password123\n")
            .status
            .success()
    );
    let first = session(home.path())["token"].as_str().unwrap().to_owned();
    assert!(
        login(home.path(), &server, "alice", "password123\n")
            .status
            .success()
    );
    let second = session(home.path())["token"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let old = Client::new(&server.base)
        .unwrap()
        .with_token(securechat_client::SessionToken::new(first));
    assert_eq!(old.me().await.unwrap_err().status(), Some(401));
}
