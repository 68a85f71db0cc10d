//! Starts the real `securechat` server binary for the SDK and CLI tests,
//! the way the server's own tests do: a fresh data directory, `init-db
//! --demo`, then `serve` on a free port, reading the `listening on <url>`
//! line from its standard output.
//!
//! The binary belongs to another package, so Cargo cannot build it for
//! these tests: it is taken from `SECURECHAT_BIN`, or else from the
//! workspace's `target/debug/securechat`. A missing binary fails the test
//! with the command that builds it; it is never skipped silently.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The server binary under test.
pub fn binary() -> PathBuf {
    let path = match std::env::var_os("SECURECHAT_BIN") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/securechat"),
    };
    assert!(
        path.is_file(),
        "the securechat server binary is missing at {}: run `cargo build -p securechat-server` \
         (or set SECURECHAT_BIN to the binary)",
        path.display()
    );
    path
}

/// A running server with the demo users, stopped on drop.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Self {
        let binary = binary();
        let dir = tempfile::tempdir().unwrap();
        let env = [
            ("DATA_DIR", dir.path().to_str().unwrap()),
            ("APP_ENV", "development"),
            ("HOST", "127.0.0.1"),
            ("PORT", "0"),
            ("RUST_LOG", "warn"),
        ];
        let init = Command::new(&binary)
            .args(["init-db", "--demo"])
            .env_clear()
            .envs(env)
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "init-db failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let mut child = Command::new(&binary)
            .arg("serve")
            .env_clear()
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&log);
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let Ok(base) = rx.recv_timeout(Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!("the server did not start; log:\n{}", log.lock().unwrap());
        };
        Self {
            child,
            base,
            log,
            _dir: dir,
        }
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
