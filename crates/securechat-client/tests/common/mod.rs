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
    /// The data directory (database), kept across restarts.
    dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Self {
        let binary = binary();
        let dir = tempfile::tempdir().unwrap();
        let init = Command::new(&binary)
            .args(["init-db", "--demo"])
            .env_clear()
            .envs(env(&dir, 0))
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "init-db failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let log = Arc::new(Mutex::new(String::new()));
        let (child, base) = serve(&dir, 0, &log);
        Self {
            child,
            base,
            log,
            dir,
        }
    }

    /// Stops the server (SIGKILL: no goodbye to clients) and, `down_for`
    /// later, starts it again on the same port with the same data: sessions
    /// and messages survive.
    pub fn restart(&mut self, down_for: Duration) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(down_for);
        let port: u16 = self.base.rsplit(':').next().unwrap().parse().unwrap();
        let (child, base) = serve(&self.dir, port, &self.log);
        assert_eq!(base, self.base);
        self.child = child;
    }

    /// The server's SQLite database file (tests that play a lying server
    /// edit it directly).
    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("securechat.db")
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

fn env(dir: &tempfile::TempDir, port: u16) -> Vec<(&'static str, String)> {
    vec![
        ("DATA_DIR", dir.path().to_str().unwrap().to_owned()),
        ("APP_ENV", "development".to_owned()),
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", port.to_string()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}

/// Runs `serve` and waits for its `listening on <url>` line.
fn serve(dir: &tempfile::TempDir, port: u16, log: &Arc<Mutex<String>>) -> (Child, String) {
    let mut child = Command::new(binary())
        .arg("serve")
        .env_clear()
        .envs(env(dir, port))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sink = Arc::clone(log);
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
    (child, base)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client logged in as `username` (demo passwords).
pub async fn login(server: &Server, username: &str) -> securechat_client::Client {
    let password = match username {
        "alice" => "password123",
        "bob" => "password456",
        "charlie" => "password789",
        "admin" => "admin123",
        other => panic!("no demo password for {other}"),
    };
    let mut client = securechat_client::Client::new(&server.base).unwrap();
    client.login(username, password).await.unwrap();
    client
}

/// The id of `room`/`channel` as `client` sees it.
pub async fn channel_id(client: &securechat_client::Client, room: &str, channel: &str) -> i64 {
    let rooms = client.rooms().await.unwrap();
    let room = rooms
        .iter()
        .find(|r| r.name == room)
        .unwrap_or_else(|| panic!("no room {room}"));
    room.channels
        .iter()
        .find(|c| c.name == channel)
        .unwrap_or_else(|| panic!("no channel {channel}"))
        .id
}
