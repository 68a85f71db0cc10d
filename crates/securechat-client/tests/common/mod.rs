//! Starts the real `securechat` server binary for the SDK tests and for
//! `securechat-cli`'s (which include this file by path),
//! the way the server's own tests do: a fresh data directory, `init-db
//! --demo`, then `serve` on a free port, reading the `listening on <url>`
//! line from its standard output.
//!
//! The database is SQLite in the data directory, or a fresh PostgreSQL
//! database ([`PgDatabase`], from `TEST_DATABASE_URL`) for the tests that
//! run on both.
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
    /// The PostgreSQL database, when not SQLite.
    database_url: Option<String>,
}

impl Server {
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// A server on `database_url` (PostgreSQL), or SQLite in its data
    /// directory when `None`.
    pub fn start_with(database_url: Option<&str>) -> Self {
        let binary = binary();
        let dir = tempfile::tempdir().unwrap();
        let database_url = database_url.map(str::to_owned);
        let init = Command::new(&binary)
            .args(["init-db", "--demo"])
            .env_clear()
            .envs(env(&dir, 0, database_url.as_deref()))
            .output()
            .unwrap();
        assert!(
            init.status.success(),
            "init-db failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let log = Arc::new(Mutex::new(String::new()));
        let (child, base) = serve(&dir, 0, database_url.as_deref(), &log);
        Self {
            child,
            base,
            log,
            dir,
            database_url,
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
        let (child, base) = serve(&self.dir, port, self.database_url.as_deref(), &self.log);
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

fn env(
    dir: &tempfile::TempDir,
    port: u16,
    database_url: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("DATA_DIR", dir.path().to_str().unwrap().to_owned()),
        ("APP_ENV", "development".to_owned()),
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", port.to_string()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    if let Some(url) = database_url {
        env.push(("DATABASE_URL", url.to_owned()));
    }
    env
}

/// Runs `serve` and waits for its `listening on <url>` line.
fn serve(
    dir: &tempfile::TempDir,
    port: u16,
    database_url: Option<&str>,
    log: &Arc<Mutex<String>>,
) -> (Child, String) {
    let mut child = Command::new(binary())
        .arg("serve")
        .env_clear()
        .envs(env(dir, port, database_url))
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

/// A fresh PostgreSQL database made from `TEST_DATABASE_URL`, dropped
/// with this value.
pub struct PgDatabase {
    /// Its URL, for [`Server::start_with`].
    pub url: String,
    admin: String,
    name: String,
}

impl PgDatabase {
    /// A new database, or `None` when `TEST_DATABASE_URL` is not set.
    pub async fn create() -> Option<Self> {
        use sqlx::Connection;
        let admin = std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|v| !v.is_empty())?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("securechat_sdk_{}_{nanos}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("TEST_DATABASE_URL: cannot connect to PostgreSQL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        conn.close().await.ok();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(Self {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}
