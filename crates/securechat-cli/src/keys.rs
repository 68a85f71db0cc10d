//! End-to-end encryption commands: `keys backup|restore|show`, `trust`,
//! `verify`, `request-key`, `requests`, `approve`. They open the local key
//! store (see `KeyStorePath`) with the saved session.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use securechat_client::{Client, SecureClient};

use crate::session::{Session, SessionFile};
use crate::target;

/// Where the key store is: `--key-store`, `$SECURECHAT_KEY_STORE`, or
/// `keys.json` beside the session file.
pub fn store_path(flag: Option<PathBuf>, file: &SessionFile) -> PathBuf {
    flag.unwrap_or_else(|| file.path().with_file_name("keys.json"))
}

/// The saved session's client with end-to-end encryption (the identity is
/// generated and published on first use).
pub async fn open(file: &SessionFile, store: PathBuf) -> Result<(Session, SecureClient)> {
    let session = file.require()?;
    let client = session.client()?;
    let secure = SecureClient::open(client, store)
        .await
        .map_err(|e| file.explain(&session, e))?;
    Ok((session, secure))
}

#[derive(clap::Subcommand)]
pub enum KeysCommand {
    /// Seal my identity under a recovery passphrase and store it on the server.
    Backup(PassphraseArgs),
    /// Restore my identity from the server's backup (a new device).
    Restore(PassphraseArgs),
    /// Show my fingerprint and the key store's path.
    Show,
}

#[derive(clap::Args)]
pub struct PassphraseArgs {
    /// Read the passphrase from the first line of standard input.
    #[arg(long)]
    passphrase_stdin: bool,
}

impl PassphraseArgs {
    fn read(&self) -> Result<String> {
        let passphrase = if self.passphrase_stdin {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the passphrase from standard input")?;
            line.trim_end_matches(['\n', '\r']).to_owned()
        } else {
            rpassword::prompt_password("Recovery passphrase: ")
                .context("cannot read the passphrase from the terminal (try --passphrase-stdin)")?
        };
        if passphrase.is_empty() {
            bail!("no passphrase given");
        }
        Ok(passphrase)
    }
}

pub async fn keys(command: KeysCommand, file: &SessionFile, store: PathBuf) -> Result<()> {
    match command {
        KeysCommand::Backup(args) => {
            let passphrase = args.read()?;
            let (_, secure) = open(file, store).await?;
            secure.backup(&passphrase).await?;
            println!("Identity backed up on the server (sealed under your passphrase).");
        }
        KeysCommand::Restore(args) => {
            let passphrase = args.read()?;
            let session = file.require()?;
            let secure = SecureClient::restore(session.client()?, store, &passphrase)
                .await
                .context("cannot restore the identity (wrong passphrase, or no backup)")?;
            println!(
                "Identity restored into {} (fingerprint {}).",
                secure.store_path().display(),
                fingerprint(&secure)
            );
        }
        KeysCommand::Show => {
            let (_, secure) = open(file, store).await?;
            println!(
                "User {}: fingerprint {}\nKey store: {}",
                secure.user_id(),
                fingerprint(&secure),
                secure.store_path().display()
            );
        }
    }
    Ok(())
}

fn fingerprint(secure: &SecureClient) -> String {
    secure
        .bundle()
        .fingerprint()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A user by name (exact, case-insensitive) or `#id`.
async fn user_id(client: &Client, name: &str) -> Result<i64> {
    if let Some(id) = name.strip_prefix('#') {
        return id.parse().context("a user id after # must be a number");
    }
    let wanted = name.trim_start_matches('@').to_lowercase();
    client
        .find_users(&wanted)
        .await?
        .into_iter()
        .find(|u| u.username.to_lowercase() == wanted)
        .map(|u| u.id)
        .with_context(|| format!("no user named {name}"))
}

pub async fn verify(user: &str, file: &SessionFile, store: PathBuf) -> Result<()> {
    let (_, mut secure) = open(file, store).await?;
    let id = user_id(secure.client(), user).await?;
    let info = secure.safety_number(id).await?;
    if info.offered {
        println!(
            "WARNING: the server now offers a DIFFERENT key for {user}; it is not trusted. \
             The number below is computed with that new key: compare it, then \
             `securechat-cli trust {user} --fingerprint {}`.",
            info.theirs
        );
    }
    println!("Safety number with {user}:\n{}", info.number);
    println!("Your fingerprint:   {}", info.mine);
    println!("Their fingerprint:  {}", info.theirs);
    println!("Compare the number with {user} in person or over a trusted channel.");
    Ok(())
}

pub async fn trust(
    user: &str,
    fingerprint: Option<&str>,
    file: &SessionFile,
    store: PathBuf,
) -> Result<()> {
    let (_, mut secure) = open(file, store).await?;
    let id = user_id(secure.client(), user).await?;
    let (previous, now) = match fingerprint {
        Some(shown) => secure.trust_fingerprint(id, shown).await?,
        None => secure.trust(id).await?,
    };
    match previous {
        Some(previous) if previous != now => {
            println!("Now trusting {user}'s new key {now} (was {previous}).");
        }
        _ => println!("Trusting {user}'s key {now}."),
    }
    Ok(())
}

pub async fn request_key(spec: &str, file: &SessionFile, store: PathBuf) -> Result<()> {
    let (_, mut secure) = open(file, store).await?;
    let rooms = secure.client().rooms().await?;
    let target = target::resolve(&rooms, Some(spec), None)?;
    let id = secure.request_key(target.channel.id).await?;
    println!(
        "Asked the admins of {} for the key (request {id}).",
        target.label()
    );
    Ok(())
}

pub async fn requests(file: &SessionFile, store: PathBuf) -> Result<()> {
    let (_, secure) = open(file, store).await?;
    let pending = secure.pending_requests();
    if pending.is_empty() {
        println!("No key requests waiting (they arrive while `securechat-cli tail` runs).");
    }
    for r in pending {
        println!(
            "request {}: {} (user {}) asks for the key of channel {}",
            r.request_id, r.requester_username, r.requester_id, r.channel_id
        );
    }
    Ok(())
}

pub async fn approve(request_id: i64, file: &SessionFile, store: PathBuf) -> Result<()> {
    let (_, mut secure) = open(file, store).await?;
    let done = secure.approve(request_id).await?;
    println!(
        "Sent version {} of channel {} to user {}.",
        done.version,
        done.channel_id,
        done.shared_with.first().copied().unwrap_or_default()
    );
    Ok(())
}
