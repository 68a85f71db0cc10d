//! Starting the real binary: a fresh database per server (SQLite file, or
//! a fresh PostgreSQL database when `TEST_DATABASE_URL` is set), a free
//! port, restarts, extra nodes of a cluster, and the CLI on the same data.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::Connection;

use super::http::text;

/// The storage engines a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL too when `TEST_DATABASE_URL` is set.
pub fn backends() -> Vec<Backend> {
    let mut all = vec![Backend::Sqlite];
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|v| !v.is_empty()) {
        all.push(Backend::Postgres);
    }
    all
}

/// A fresh database for one server.
struct TestDb {
    url: String,
    /// (admin URL, database name) to drop afterwards, for PostgreSQL.
    postgres: Option<(String, String)>,
}

impl TestDb {
    async fn create(backend: Backend, data_dir: &Path) -> Self {
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}", data_dir.join("securechat.db").display()),
                postgres: None,
            },
            Backend::Postgres => {
                let admin = std::env::var("TEST_DATABASE_URL").unwrap();
                let name = format!(
                    "securechat_test_{}_{}",
                    std::process::id(),
                    rand::random::<u32>()
                );
                let mut conn = sqlx::PgConnection::connect(&admin)
                    .await
                    .expect("TEST_DATABASE_URL: cannot connect to PostgreSQL");
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .expect("CREATE DATABASE");
                conn.close().await.ok();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                Self {
                    url: format!("{base}/{name}"),
                    postgres: Some((admin, name)),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.postgres.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
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
}

/// Path of the binary under test: `SECURECHAT_BIN` if set, else the
/// workspace's `target/debug/securechat` (under `CARGO_TARGET_DIR` if that
/// was set when this crate was built).
pub fn binary() -> PathBuf {
    let path = match std::env::var_os("SECURECHAT_BIN") {
        Some(path) => PathBuf::from(path),
        None => {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            let target = match option_env!("CARGO_TARGET_DIR") {
                Some(dir) if !dir.is_empty() => workspace.join(dir),
                _ => workspace.join("target"),
            };
            target.join("debug/securechat")
        }
    };
    assert!(
        path.is_file(),
        "the securechat server binary is missing at {}: run `cargo build -p securechat-server` \
         (or set SECURECHAT_BIN to the binary)",
        path.display()
    );
    path
}

/// A running server.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT` (or https).
    pub base: String,
    pub port: u16,
    pub data_dir: PathBuf,
    pub backend: Backend,
    /// The server's database, for tests that check what is stored.
    pub db_url: String,
    env: Vec<(String, String)>,
    log: Arc<Mutex<String>>,
    _dir: tempfile::TempDir,
    _db: TestDb,
}

impl Server {
    /// Starts a server with demo users.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, &[]).await
    }

    /// Starts a server with extra environment variables, after `init-db --demo`.
    pub async fn start_with(backend: Backend, extra: &[(&str, &str)]) -> Self {
        Self::start_limited(backend, extra, None).await
    }

    /// As [`Server::start_with`], with the process's open-file limit (soft
    /// and hard) set to `open_files` before it starts.
    pub async fn start_limited(
        backend: Backend,
        extra: &[(&str, &str)],
        open_files: Option<u64>,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::create(backend, dir.path()).await;
        let env = environment(dir.path(), &db.url, extra);
        let init = run_binary(&env, &["init-db", "--demo"], None);
        assert!(
            init.status.success(),
            "init-db failed: {}",
            text(&init.stderr)
        );

        Self::serve(env, open_files, dir, backend, db)
    }

    /// Starts `serve` on a data directory that already holds an SQLite
    /// deployment (one `securechat restore` filled), without `init-db`.
    pub fn start_on(dir: tempfile::TempDir, extra: &[(&str, &str)]) -> Self {
        let db = TestDb {
            url: format!("sqlite://{}", dir.path().join("securechat.db").display()),
            postgres: None,
        };
        let env = environment(dir.path(), &db.url, extra);
        Self::serve(env, None, dir, Backend::Sqlite, db)
    }

    /// The environment the server runs with (for CLI commands run on
    /// another deployment, change `DATA_DIR` and `DATABASE_URL`).
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    /// Starts `serve` with `env` on the data directory `dir` and database
    /// `db`, both kept for as long as the server lives.
    fn serve(
        env: Vec<(String, String)>,
        open_files: Option<u64>,
        dir: tempfile::TempDir,
        backend: Backend,
        db: TestDb,
    ) -> Self {
        let (child, base, log) = spawn_serve(&env, open_files);
        Self {
            child,
            port: port_of(&base),
            base,
            data_dir: dir.path().to_owned(),
            backend,
            db_url: db.url.clone(),
            env,
            log,
            _dir: dir,
            _db: db,
        }
    }

    /// The server process id (to read its memory use).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The server's SQLite database file, for tests that read or edit it
    /// directly (a lying server); only for [`Backend::Sqlite`].
    pub fn db_path(&self) -> PathBuf {
        let path = self.db_url.strip_prefix("sqlite://");
        PathBuf::from(path.expect("db_path is SQLite's file"))
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once it contains every one of `needles`, or as it is after
    /// 10 s. The server's stderr is read by a thread of its own, so a line
    /// written before the server said it listens (a start-up warning) or
    /// before it exited may not have reached [`Server::log`] yet.
    pub async fn log_containing(&self, needles: &[&str]) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if needles.iter().all(|n| log.contains(n)) || std::time::Instant::now() > deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Runs a CLI command against this server's database.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_binary(&self.env, args, stdin)
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A test server's environment: `dir`, `db_url`, development, a free
/// port, debug logs, then `extra` (replacing any of those).
fn environment(dir: &Path, db_url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = vec![
        ("DATA_DIR".into(), dir.display().to_string()),
        ("DATABASE_URL".into(), db_url.to_owned()),
        ("APP_ENV".into(), "development".into()),
        ("HOST".into(), "127.0.0.1".into()),
        ("PORT".into(), "0".into()),
        (
            "RUST_LOG".into(),
            "debug,sqlx=warn,hyper=info,h2=info,rustls=info".into(),
        ),
    ];
    for (k, v) in extra {
        env.retain(|(key, _)| key != k);
        env.push(((*k).into(), (*v).into()));
    }
    env
}

/// Starts `securechat serve` with `env` only and waits for its "listening
/// on" line; returns the process, its base URL and its growing stderr log.
fn spawn_serve(
    env: &[(String, String)],
    open_files: Option<u64>,
) -> (Child, String, Arc<Mutex<String>>) {
    let mut command = match open_files {
        None => Command::new(binary()),
        Some(n) => {
            // util-linux's prlimit sets the limit, then execs the server.
            let mut command = Command::new("prlimit");
            command
                .arg(format!("--nofile={n}:{n}"))
                .arg("--")
                .arg(binary());
            command
        }
    };
    let mut child = command
        .arg("serve")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = Arc::clone(&log);
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
    match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(url) => (child, url, log),
        Err(_) => {
            let _ = child.kill();
            panic!("server did not start; log:\n{}", log.lock().unwrap());
        }
    }
}

impl Server {
    /// Starts another node of `first`'s cluster: same database and
    /// environment (so `SECRET_KEY` and `REDIS_URL` must be in it), its own
    /// data directory and port, with a copy of `first`'s VAPID key file
    /// (every node must sign pushes with the same key). The database stays
    /// owned by `first`.
    pub async fn start_node(first: &Server) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let key = first.data_dir.join("vapid_private_key");
        if key.is_file() {
            std::fs::copy(&key, dir.path().join("vapid_private_key")).unwrap();
        }
        let mut env = first.env.clone();
        env.retain(|(k, _)| k != "DATA_DIR");
        env.push(("DATA_DIR".into(), dir.path().display().to_string()));
        let db = TestDb {
            url: first.db_url.clone(),
            postgres: None,
        };
        Self::serve(env, None, dir, first.backend, db)
    }

    /// Kills the process with SIGKILL: no shutdown, no goodbye to Redis.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again after [`Server::kill`] or
    /// [`Server::terminate`]: same database, data directory and environment,
    /// a new port (`base` and `port` change; earlier sockets are gone).
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (child, base, log) = spawn_serve(&self.env, None);
        self.child = child;
        self.port = port_of(&base);
        self.base = base;
        self.log = log;
    }

    /// Stops the server (SIGKILL: no goodbye to clients) and, `down_for`
    /// later, starts it again on the same port with the same database and
    /// environment, so clients can reconnect to the same `base`.
    pub fn restart_after(&mut self, down_for: Duration) {
        self.kill();
        std::thread::sleep(down_for);
        let mut env = self.env.clone();
        env.retain(|(k, _)| k != "PORT");
        env.push(("PORT".into(), self.port.to_string()));
        let (child, base, log) = spawn_serve(&env, None);
        assert_eq!(base, self.base, "the server came back on another port");
        self.child = child;
        self.log = log;
    }
}

/// The port of a base URL.
fn port_of(base: &str) -> u16 {
    base.rsplit(':').next().unwrap().parse().unwrap()
}

/// Runs the binary with `env` only.
pub fn run_binary(env: &[(String, String)], args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut child = Command::new(binary())
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(data) = stdin {
        input.write_all(data.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

/// The resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// The peak resident memory of a process so far (`VmHWM`), in KiB.
pub fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
