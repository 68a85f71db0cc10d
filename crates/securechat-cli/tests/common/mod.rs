//! What the CLI's test suites share: running the built binary with its
//! session kept in a directory of the test's own.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use securechat_testkit::Server;

/// Runs the CLI with its session kept in `home`.
pub fn cli(home: &Path, args: &[&str], stdin: &str) -> Output {
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
pub fn login(home: &Path, server: &Server, username: &str, stdin: &str) -> Output {
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

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A logged-in CLI home for `username`.
pub fn logged_in(server: &Server, username: &str, password: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let output = login(home.path(), server, username, &format!("{password}\n"));
    assert!(output.status.success(), "{}", stderr(&output));
    home
}
