//! The `securechat` command line.
//!
//! ```text
//! securechat serve                 run the server (applies migrations first)
//! securechat init-db [--demo]      create or upgrade the database, optionally with demo users
//! securechat user add|list|disable|enable|set-password|set-admin|promote|demote
//! securechat invite create [--expires-in-hours H] [--uses N]
//! securechat migrate-to-postgres --to postgres://…   copy an SQLite deployment to PostgreSQL
//! securechat backup --to FILE      an online snapshot of the database, files and keys
//! securechat restore --from FILE   bring one back into a stopped, empty deployment
//! securechat import mattermost|slack FILE [--owner USER]   import another chat's export
//! ```
//!
//! Configuration comes from environment variables (see the README) with
//! flags taking precedence. Failures print one line and exit non-zero.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use zeroize::Zeroizing;

use crate::auth::{admin, store};
use crate::config::{self, ConfigError, ListenOverrides, Overrides, Settings};
use crate::storage::{Db, rfc3339};

#[derive(Debug, Parser)]
#[command(
    name = "securechat",
    version,
    about = "Self-hosted end-to-end encrypted team chat"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (applies pending migrations first)
    Serve {
        #[command(flatten)]
        db: Overrides,
        #[command(flatten)]
        listen: ListenOverrides,
    },
    /// Create or upgrade the database
    InitDb {
        #[command(flatten)]
        db: Overrides,
        /// Also create the demo users (admin, alice, bob, charlie); refused in production
        #[arg(long)]
        demo: bool,
    },
    /// Copy this SQLite deployment (DATABASE_URL / --database-url) into an
    /// empty PostgreSQL database, then verify every row; stop the server first
    MigrateToPostgres {
        #[command(flatten)]
        db: Overrides,
        /// The empty PostgreSQL database to fill (postgres://…)
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Write a consistent backup (database snapshot, uploaded files, key
    /// files, manifest) to a new file while the server keeps running
    Backup {
        #[command(flatten)]
        db: Overrides,
        /// The archive to create (.tar.gz); an existing file is never overwritten
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// Restore a backup into a stopped, empty deployment, checking every
    /// hash and row count against its manifest first
    Restore {
        #[command(flatten)]
        db: Overrides,
        /// The archive `securechat backup` wrote
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// Replace a deployment that is not empty (its database, keys and
        /// same-named files); stop its server first
        #[arg(long)]
        force: bool,
    },
    /// Import a Mattermost bulk export or a Slack export into plaintext
    /// channels; run again after an interruption, it imports only the rest
    Import {
        #[command(flatten)]
        db: Overrides,
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Manage user accounts
    User {
        #[command(flatten)]
        db: Overrides,
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage invitation links (for REGISTRATION_MODE=invite-only)
    Invite {
        #[command(flatten)]
        db: Overrides,
        #[command(subcommand)]
        action: InviteAction,
    },
}

#[derive(Debug, Subcommand)]
enum ImportSource {
    /// A Mattermost bulk export (the JSONL file of `mattermost export bulk`)
    Mattermost {
        file: PathBuf,
        /// Who owns the new rooms (default: the first enabled site administrator)
        #[arg(long)]
        owner: Option<String>,
    },
    /// A Slack export (the zip of the workspace export)
    Slack {
        file: PathBuf,
        /// Who owns the new rooms (default: the first enabled site administrator)
        #[arg(long)]
        owner: Option<String>,
        /// The name of the room the workspace becomes
        #[arg(long, default_value = "Slack")]
        room_name: String,
    },
}

#[derive(Debug, Subcommand)]
enum InviteAction {
    /// Make an invitation link and print its path (append it to PUBLIC_URL)
    Create {
        /// Hours until the link stops working (1-2160)
        #[arg(long, default_value_t = 168)]
        expires_in_hours: i64,
        /// Accounts the link may create (1-1000)
        #[arg(long, default_value_t = 1)]
        uses: i64,
    },
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Create an account (asks for the password, or reads it from stdin)
    Add {
        username: String,
        /// Make the user a site administrator
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// List accounts
    List,
    /// Disable an account and end its sessions at once
    Disable { username: String },
    /// Re-enable a disabled account
    Enable { username: String },
    /// Set a new password and end the user's sessions
    SetPassword {
        username: String,
        /// Read the password from the first line of standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Turn two-factor sign-in off for someone locked out of it (they can
    /// then sign in with their password and set it up again)
    #[command(name = "reset-2fa")]
    Reset2fa { username: String },
    /// Grant (or with --revoke, remove) site administration; the last
    /// enabled administrator keeps it
    SetAdmin {
        username: String,
        #[arg(long)]
        revoke: bool,
    },
    /// Make someone a site administrator
    Promote { username: String },
    /// Remove site administration (never from the last enabled administrator)
    Demote { username: String },
}

/// Parses the command line, runs the command, and maps failure to exit code 1.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match config::observability::log_format(env("LOG_FORMAT").as_deref()) {
        Ok(json) => init_tracing(json),
        Err(e) => {
            eprintln!("securechat: configuration error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("securechat: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<ConfigError>() {
                Some(config) => eprintln!("securechat: configuration error: {config}"),
                None => eprintln!("securechat: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

async fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { db, listen } => {
            let config = config::load_serve(&env, &db, &listen)?;
            crate::server::run(config).await
        }
        Command::InitDb { db, demo } => {
            let settings = config::load_settings(&env, &db)?;
            let database = open(&settings).await?;
            println!("Database ready ({}).", database.engine());
            if demo {
                let created = crate::demo::create(&database, settings.app_env).await?;
                if created.is_empty() {
                    println!("Demo data already present.");
                } else {
                    println!("Created demo data: {}.", created.join(", "));
                }
            }
            database.close().await;
            Ok(())
        }
        Command::MigrateToPostgres { db, to } => {
            let settings = config::load_settings(&env, &db)?;
            let report = crate::migrate::sqlite_to_postgres(&settings.database_url, &to).await?;
            for (table, rows) in &report.tables {
                println!("{table:<24} {rows:>9} rows");
            }
            println!("Copied and verified row by row. Set DATABASE_URL to the PostgreSQL URL.");
            Ok(())
        }
        Command::Backup { db, to } => {
            let deployment = deployment(&db)?;
            let done = crate::backup::write::backup(&deployment, &to).await?;
            let m = &done.manifest;
            println!(
                "Backup written to {} ({} bytes): schema {}, {} tables, {} messages, {} files.",
                done.path.display(),
                done.bytes,
                m.schema_version,
                m.tables.len(),
                m.tables.get("messages").copied().unwrap_or(0),
                m.entries.keys().filter(|p| p.starts_with("files/")).count()
            );
            Ok(())
        }
        Command::Restore { db, from, force } => {
            let deployment = deployment(&db)?;
            let done = crate::backup::restore::restore(&deployment, &from, force).await?;
            println!(
                "Restored the backup of {} (schema {}, {} tables, {} files); every hash and row \
                 count matched its manifest. Start the server as usual.",
                done.manifest.created_at,
                done.manifest.schema_version,
                done.manifest.tables.len(),
                done.files
            );
            Ok(())
        }
        Command::Invite { db, action } => {
            let settings = config::load_settings(&env, &db)?;
            let database = open(&settings).await?;
            let InviteAction::Create {
                expires_in_hours,
                uses,
            } = action;
            let result = admin::create_invite(&database, expires_in_hours, uses).await;
            database.close().await;
            let path = result?;
            println!("Invitation for {uses} account(s), valid {expires_in_hours} hour(s):");
            println!("{path}");
            Ok(())
        }
        Command::Import { db, source } => {
            let settings = config::load_settings(&env, &db)?;
            let database = open(&settings).await?;
            let result = import(&database, source).await;
            database.close().await;
            print!("{}", result?);
            Ok(())
        }
        Command::User { db, action } => {
            let settings = config::load_settings(&env, &db)?;
            let database = open(&settings).await?;
            let result = user_command(&database, action, &settings.default_rooms).await;
            database.close().await;
            result
        }
    }
}

async fn import(db: &Db, source: ImportSource) -> anyhow::Result<crate::import::Summary> {
    use crate::import::Source;
    let (kind, file, owner, room_name) = match source {
        ImportSource::Mattermost { file, owner } => {
            (Source::Mattermost, file, owner, String::new())
        }
        ImportSource::Slack {
            file,
            owner,
            room_name,
        } => (Source::Slack, file, owner, room_name),
    };
    let owner = crate::import::owner(db, owner.as_deref()).await?;
    crate::import::run(db, kind, &file, owner, &room_name).await
}

/// Where the deployment's database, files and key files are.
fn deployment(flags: &Overrides) -> anyhow::Result<crate::backup::Deployment> {
    let settings = config::load_settings(&env, flags)?;
    let files = crate::files::config::load(&env, &settings.data_dir)?;
    Ok(crate::backup::Deployment {
        data_dir: settings.data_dir,
        database_url: settings.database_url,
        files: files.store,
    })
}

async fn open(settings: &Settings) -> anyhow::Result<Db> {
    let db = Db::connect(&settings.database_url).await?;
    db.migrate().await?;
    crate::auth::store::fill_username_skeletons(&db).await?;
    crate::search::store::catch_up_cjk(&db).await?;
    Ok(db)
}

async fn user_command(db: &Db, action: UserAction, default_rooms: &[String]) -> anyhow::Result<()> {
    match action {
        UserAction::Add {
            username,
            admin: is_admin,
            password_stdin,
        } => {
            let password = read_password(password_stdin, true)?;
            let rooms = crate::rooms::store::default_rooms(db, default_rooms).await?;
            let user = admin::add_user(db, &username, &password, is_admin, &rooms).await?;
            println!("Created user {} (id {}).", user.username, user.id);
        }
        UserAction::List => {
            let users = store::list_users(db).await?;
            println!(
                "{:>6}  {:<32}  {:<5}  {:<8}  created",
                "id", "username", "admin", "status"
            );
            for u in users {
                println!(
                    "{:>6}  {:<32}  {:<5}  {:<8}  {}",
                    u.id,
                    u.username,
                    if u.is_admin { "yes" } else { "no" },
                    if u.disabled { "disabled" } else { "active" },
                    rfc3339(u.created_at)
                );
            }
        }
        UserAction::Disable { username } => {
            let user_id = admin::set_disabled(db, &username, true).await?;
            let rooms = crate::rooms::membership::server_remove(db, user_id).await?;
            println!("Disabled {username}; their sessions have ended.");
            if rooms > 0 {
                println!(
                    "Removed them from {rooms} room(s) with signed membership, \
                     whose encrypted channels will get new keys."
                );
            }
        }
        UserAction::Enable { username } => {
            admin::set_disabled(db, &username, false).await?;
            println!("Enabled {username}.");
        }
        UserAction::SetPassword {
            username,
            password_stdin,
        } => {
            let password = read_password(password_stdin, true)?;
            admin::set_password(db, &username, &password).await?;
            println!("Password of {username} changed; their sessions have ended.");
        }
        UserAction::Reset2fa { username } => {
            if admin::reset_two_factor(db, &username).await? {
                println!(
                    "Two-factor sign-in of {username} is off; they sign in with their password."
                );
            } else {
                println!("{username} had no two-factor sign-in.");
            }
        }
        UserAction::Promote { username } => {
            admin::set_admin(db, &username, true).await?;
            println!("{username} is now a site administrator.");
        }
        UserAction::Demote { username } => {
            admin::set_admin(db, &username, false).await?;
            println!("{username} is no longer a site administrator.");
        }
        UserAction::SetAdmin { username, revoke } => {
            admin::set_admin(db, &username, !revoke).await?;
            if revoke {
                println!("{username} is no longer a site administrator.");
            } else {
                println!("{username} is now a site administrator.");
            }
        }
    }
    Ok(())
}

/// Reads a password from stdin (`--password-stdin`) or prompts twice on a
/// terminal without echo. Never from a flag: it would show in `ps`.
fn read_password(from_stdin: bool, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
    if from_stdin {
        let mut line = Zeroizing::new(String::new());
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        let trimmed = line.trim_end_matches(['\r', '\n']).to_owned();
        return Ok(Zeroizing::new(trimmed));
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password; pass --password-stdin and pipe it in");
    }
    let first = Zeroizing::new(rpassword::prompt_password("Password: ")?);
    if confirm {
        let second = Zeroizing::new(rpassword::prompt_password("Repeat password: ")?);
        if *first != *second {
            bail!("the passwords do not match");
        }
    }
    Ok(first)
}

/// Logs to stderr, as text or (`LOG_FORMAT=json`) one JSON object per
/// line with the event's fields and its spans' (request id, method, path);
/// `RUST_LOG` overrides the default level.
fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let mut filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("securechat_server=info,tower_http=info,warn"));
    // Whatever `RUST_LOG` asks for: the Socket.IO and Engine.IO layers log
    // every packet received at debug level, the handshake's session token
    // included, so they never go below info.
    for cap in ["socketioxide=info", "engineioxide=info"] {
        if let Ok(directive) = cap.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().with_current_span(false).try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
