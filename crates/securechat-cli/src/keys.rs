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
    /// Back up my identity, pins and verified log heads on the server,
    /// sealed under a new recovery key (12 words, printed once) or, with
    /// `--passphrase`, under a passphrase. The backup then stays up to date
    /// by itself.
    Backup(BackupArgs),
    /// Restore my identity, pins and log heads from the server's backup
    /// (a new device), with the recovery key's words or the passphrase.
    Restore(RestoreArgs),
    /// Show my fingerprint and the key store's path.
    Show,
}

#[derive(clap::Args)]
pub struct BackupArgs {
    /// Seal under a passphrase of my own instead of a recovery key. It must
    /// be hard to guess and differ from my login password, which is asked
    /// for to compare (never sent).
    #[arg(long)]
    passphrase: bool,
    /// With a passphrase: read it from the first line of standard input and
    /// my login password from the second.
    #[arg(long)]
    passphrase_stdin: bool,
}

#[derive(clap::Args)]
pub struct RestoreArgs {
    /// Read the recovery key's words (or the passphrase) from the first
    /// line of standard input.
    #[arg(long, visible_alias = "passphrase-stdin")]
    stdin: bool,
}

fn stdin_line(lines: &mut impl BufRead, what: &str) -> Result<String> {
    let mut line = String::new();
    lines
        .read_line(&mut line)
        .with_context(|| format!("cannot read {what} from standard input"))?;
    let line = line.trim_end_matches(['\n', '\r']).to_owned();
    if line.is_empty() {
        bail!("no {what} on standard input");
    }
    Ok(line)
}

fn prompt(label: &str, what: &str) -> Result<String> {
    let answer = rpassword::prompt_password(label)
        .with_context(|| format!("cannot read {what} from the terminal (see --help for stdin)"))?;
    if answer.is_empty() {
        bail!("no {what} given");
    }
    Ok(answer)
}

pub async fn keys(command: KeysCommand, file: &SessionFile, store: PathBuf) -> Result<()> {
    match command {
        KeysCommand::Backup(args) if args.passphrase || args.passphrase_stdin => {
            let (passphrase, login_password) = if args.passphrase_stdin {
                let mut lines = std::io::stdin().lock();
                (
                    stdin_line(&mut lines, "the passphrase")?,
                    stdin_line(&mut lines, "the login password")?,
                )
            } else {
                let passphrase = prompt("Backup passphrase: ", "the passphrase")?;
                if prompt("The same passphrase again: ", "the passphrase")? != passphrase {
                    bail!("the two passphrases differ; nothing was backed up");
                }
                let login = prompt(
                    "Your login password (only compared with the passphrase, never sent): ",
                    "the login password",
                )?;
                (passphrase, login)
            };
            let session = file.require()?;
            let mut client = session.client()?;
            client.remember_login_password(&login_password);
            let mut secure = SecureClient::open(client, store)
                .await
                .map_err(|e| file.explain(&session, e))?;
            secure.backup_with_passphrase(&passphrase).await?;
            println!(
                "Identity, pins and log heads backed up on the server, sealed under your \
                 passphrase. The backup is kept up to date from this device."
            );
        }
        KeysCommand::Backup(_) => {
            let (_, mut secure) = open(file, store).await?;
            let words = secure.backup_with_recovery_key().await?;
            println!("Your recovery key (shown only this once; write it down and keep it safe):\n");
            println!("    {words}\n");
            println!(
                "Identity, pins and log heads backed up on the server, sealed under this key. \
                 Restore on a new device with `securechat-cli keys restore`. The backup is \
                 kept up to date from this device."
            );
        }
        KeysCommand::Restore(args) => {
            let secret = if args.stdin {
                stdin_line(&mut std::io::stdin().lock(), "the recovery key")?
            } else {
                prompt(
                    "Recovery key (12 words) or backup passphrase: ",
                    "the recovery key",
                )?
            };
            let session = file.require()?;
            let secure = SecureClient::restore(session.client()?, store, &secret)
                .await
                .context("cannot restore from the backup")?;
            println!(
                "Identity, pins and log heads restored into {} (fingerprint {}).",
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
    for (user_id, reason) in &done.skipped {
        println!("Left out (user {user_id}): {reason}");
    }
    Ok(())
}
