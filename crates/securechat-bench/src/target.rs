//! The servers under test: how each is started, found ready, restarted
//! (same data, fresh process) and stopped.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a server may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    SecurechatSqlite,
    SecurechatPostgres,
    Node,
    Python,
}

impl TargetKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::SecurechatSqlite => "Securechat (SQLite)",
            Self::SecurechatPostgres => "Securechat (PostgreSQL)",
            Self::Node => "Node socket.io 4.8 + better-sqlite3",
            Self::Python => "Flask-SocketIO + eventlet (seed stack)",
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Self::SecurechatSqlite => "securechat-sqlite",
            Self::SecurechatPostgres => "securechat-postgres",
            Self::Node => "node",
            Self::Python => "python",
        }
    }

    pub fn is_securechat(self) -> bool {
        matches!(self, Self::SecurechatSqlite | Self::SecurechatPostgres)
    }
}

/// Where the programs under test are.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub securechat_bin: PathBuf,
    pub peers_dir: PathBuf,
    pub python_venv: PathBuf,
    pub postgres_url: String,
}

impl Toolchain {
    /// Fails early, saying what to install, if a target cannot be started.
    pub fn check(&self, targets: &[TargetKind]) -> Result<()> {
        for target in targets {
            let (path, fix) = match target {
                TargetKind::SecurechatSqlite | TargetKind::SecurechatPostgres => (
                    self.securechat_bin.clone(),
                    "build it: cargo build --release -p securechat-server",
                ),
                TargetKind::Node => (
                    self.peers_dir.join("node/node_modules/socket.io"),
                    "install the peers: make bench-peers",
                ),
                TargetKind::Python => (
                    self.python_venv.join("bin/gunicorn"),
                    "install the peers: make bench-peers",
                ),
            };
            if !path.exists() {
                bail!(
                    "{} is missing for {}: {fix}",
                    path.display(),
                    target.label()
                );
            }
        }
        Ok(())
    }
}

/// A server under test and its data, across restarts.
pub struct Target {
    pub kind: TargetKind,
    toolchain: Toolchain,
    pub dir: PathBuf,
    /// The PostgreSQL database of a `securechat-postgres` run.
    pub database_url: Option<String>,
    pub port: u16,
    /// Where the push scenario's stand-in push service listens: the only
    /// host the server may send pushes to (`PUSH_ALLOW_HOSTS`).
    pub push_port: u16,
    child: Option<Child>,
}

impl Target {
    /// Prepares a fresh data directory (and database) and starts the server.
    pub async fn create(toolchain: &Toolchain, kind: TargetKind, dir: &Path) -> Result<Self> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let database_url = match kind {
            TargetKind::SecurechatPostgres => {
                Some(crate::db::fresh_postgres(&toolchain.postgres_url).await?)
            }
            _ => None,
        };
        let mut target = Self {
            kind,
            toolchain: toolchain.clone(),
            dir: dir.to_owned(),
            database_url,
            port: free_port()?,
            push_port: free_port()?,
            child: None,
        };
        target.start().await?;
        Ok(target)
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The SQLite file (every target but `securechat-postgres`).
    pub fn sqlite_path(&self) -> PathBuf {
        match self.kind {
            TargetKind::Node | TargetKind::Python => self.dir.join("peer.db"),
            _ => self.dir.join("securechat.db"),
        }
    }

    /// The database as an sqlx URL.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.sqlite_path().display()),
        }
    }

    /// The size of what a deployment runs: the server binary, or the
    /// runtime's installed packages for the peers.
    pub fn install_size(&self) -> Result<(u64, &'static str)> {
        match self.kind {
            TargetKind::SecurechatSqlite | TargetKind::SecurechatPostgres => Ok((
                std::fs::metadata(&self.toolchain.securechat_bin)?.len(),
                "the binary (web UI included)",
            )),
            TargetKind::Node => Ok((
                dir_size(&self.toolchain.peers_dir.join("node/node_modules"))?,
                "node_modules (the Node runtime itself not counted)",
            )),
            TargetKind::Python => Ok((
                dir_size(&self.toolchain.python_venv)?,
                "the virtualenv (the Python runtime itself not counted)",
            )),
        }
    }

    /// Starts the server and waits until it accepts HTTP requests; returns
    /// how long that took.
    pub async fn start(&mut self) -> Result<Duration> {
        let started = Instant::now();
        let mut command = self.command();
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.dir.join("server.log"))?,
            ))
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {}", self.kind.label()))?;
        // Drain stdout so the server never blocks on a full pipe.
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(async move {
                let mut lines = BufReader::new(stdout).lines();
                while let Ok(Some(_)) = lines.next_line().await {}
            });
        }
        self.child = Some(child);
        self.wait_ready(started).await?;
        Ok(started.elapsed())
    }

    fn command(&self) -> Command {
        let port = self.port.to_string();
        match self.kind {
            TargetKind::SecurechatSqlite | TargetKind::SecurechatPostgres => {
                let mut c = Command::new(&self.toolchain.securechat_bin);
                c.arg("serve")
                    .env("DATA_DIR", &self.dir)
                    .env("PORT", &port)
                    .env("HOST", "127.0.0.1")
                    .env("SECRET_KEY", "bench-secret-key-0123456789abcdef-0123")
                    .env("SEND_RATE_LIMIT", "off")
                    // Thousands of generator accounts register from one address.
                    .env("REGISTER_LIMIT", "off")
                    // The idle scenario holds ~190 sockets per account.
                    .env("SOCKETS_PER_USER", "off")
                    // The purge scenario's policy is acted on within a second.
                    .env("RETENTION_PURGE_SECS", "1")
                    .env("RUST_LOG", "warn")
                    .env("PUSH_ALLOW_HOSTS", format!("127.0.0.1:{}", self.push_port))
                    .env_remove("REDIS_URL");
                match &self.database_url {
                    Some(url) => c.env("DATABASE_URL", url),
                    None => c.env_remove("DATABASE_URL"),
                };
                c
            }
            TargetKind::Node => {
                let mut c = Command::new("node");
                c.arg(self.toolchain.peers_dir.join("node/server.mjs"))
                    .env("PORT", &port)
                    .env("DB_PATH", self.sqlite_path());
                c
            }
            TargetKind::Python => {
                // The seed's way: gunicorn, one eventlet worker (gunicorn.conf.py).
                let mut c = Command::new(self.toolchain.python_venv.join("bin/gunicorn"));
                c.current_dir(self.toolchain.peers_dir.join("python"))
                    .args(["-c", "gunicorn.conf.py", "app:app"])
                    .env("PORT", &port)
                    .env("DB_PATH", self.sqlite_path());
                c
            }
        }
    }

    async fn wait_ready(&mut self, started: Instant) -> Result<()> {
        let url = format!("{}/api/auth/login", self.base_url());
        let http = reqwest::Client::new();
        loop {
            // Any HTTP answer (a 4xx for the empty body) means it serves.
            if http
                .post(&url)
                .json(&serde_json::json!({}))
                .send()
                .await
                .is_ok()
            {
                return Ok(());
            }
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "{} exited during start-up ({status}); see {}",
                    self.kind.label(),
                    self.dir.join("server.log").display()
                );
            }
            if started.elapsed() > START_TIMEOUT {
                bail!(
                    "{} did not answer within {START_TIMEOUT:?}",
                    self.kind.label()
                );
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Stops the server gracefully (SIGTERM, then SIGKILL after 10 s).
    pub async fn stop(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_err()
        {
            child.kill().await?;
        }
        Ok(())
    }

    /// A fresh process on the same data: resets memory between scenarios.
    pub async fn restart(&mut self) -> Result<Duration> {
        self.stop().await?;
        self.start().await
    }

    /// Stops the server and drops its PostgreSQL database.
    pub async fn destroy(mut self) {
        let _ = self.stop().await;
        if let Some(url) = &self.database_url {
            crate::db::drop_postgres(&self.toolchain.postgres_url, url).await;
        }
    }
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn dir_size(path: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in
        std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?
    {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() {
            total += dir_size(&entry.path())?;
        } else {
            total += meta.len();
        }
    }
    Ok(total)
}
