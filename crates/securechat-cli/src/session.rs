//! The remembered login: server URL, username and session token in a JSON
//! file only its owner can read (mode 0600, in a 0700 directory).
//!
//! Location: `$SECURECHAT_CLI_HOME/session.json` when that is set (tests,
//! several identities side by side), else `$XDG_CONFIG_HOME/securechat/`,
//! else `~/.config/securechat/`.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use securechat_client::{ApiError, Client, Error, SessionToken};
use serde::{Deserialize, Serialize};

const FILE_NAME: &str = "session.json";

/// What `login` saves.
#[derive(Serialize, Deserialize)]
pub struct Session {
    pub server: String,
    pub username: String,
    pub token: String,
}

impl Session {
    /// An SDK client resuming this session.
    pub fn client(&self) -> Result<Client> {
        Ok(Client::new(&self.server)?.with_token(SessionToken::new(self.token.clone())))
    }
}

/// Where the session is kept.
pub struct SessionFile {
    path: PathBuf,
}

impl SessionFile {
    pub fn locate() -> Result<Self> {
        let var = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dir = if let Some(home) = var("SECURECHAT_CLI_HOME") {
            home
        } else if let Some(config) = var("XDG_CONFIG_HOME") {
            config.join("securechat")
        } else if let Some(home) = var("HOME") {
            home.join(".config").join("securechat")
        } else {
            bail!("cannot find a place for the session file: set SECURECHAT_CLI_HOME or HOME");
        };
        Ok(Self {
            path: dir.join(FILE_NAME),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The saved session, if any.
    pub fn load(&self) -> Result<Option<Session>> {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).with_context(|| {
                format!(
                    "{} is damaged; delete it and log in again",
                    self.path.display()
                )
            }),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(error) => {
                Err(error).with_context(|| format!("cannot read {}", self.path.display()))
            }
        }
    }

    /// The saved session, or the advice to log in.
    pub fn require(&self) -> Result<Session> {
        self.load()?
            .context("not logged in; run `securechat-cli login <username>`")
    }

    /// An SDK error as the CLI reports it. A 401 means the server has ended
    /// the session: it is forgotten here too, and the user told to log in.
    pub fn explain(&self, session: &Session, error: Error) -> anyhow::Error {
        if let Error::Api(ApiError { status: 401, .. }) = error {
            if let Err(removal) = self.remove() {
                return removal;
            }
            return anyhow!(
                "the session of {} has ended (logged out elsewhere, password changed or expired); log in again",
                session.username
            );
        }
        error.into()
    }

    /// Saves atomically: a private temporary file renamed over the old one,
    /// so the token is never readable by others, not even for a moment.
    pub fn save(&self, session: &Session) -> Result<()> {
        let dir = self
            .path
            .parent()
            .context("the session path has no directory")?;
        create_private_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let temporary = self.path.with_extension("json.tmp");
        let written = (|| {
            let mut file = create_private_file(&temporary)?;
            file.write_all(&serde_json::to_vec_pretty(session)?)?;
            file.sync_all()?;
            fs::rename(&temporary, &self.path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written.with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Forgets the session; `false` if there was none.
    pub fn remove(&self) -> Result<bool> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(true),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(error) => {
                Err(error).with_context(|| format!("cannot delete {}", self.path.display()))
            }
        }
    }
}

/// Opens `path` for appending, made private (0600) if new, in a private
/// directory: what only its owner should read, written as it goes.
pub fn open_private_append(path: &Path) -> io::Result<fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut options = fs::OpenOptions::new();
    options.append(true).create(true).read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> io::Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}
