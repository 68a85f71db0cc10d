//! The `securechat` command line.
//!
//! ```text
//! securechat serve                 run the server (applies migrations first)
//! securechat init-db [--demo]      create or upgrade the database, optionally with demo users
//! securechat user add|list|disable|enable|set-password|set-admin
//! securechat migrate-to-postgres --to postgres://…   copy an SQLite deployment to PostgreSQL
//! ```
//!
//! Configuration comes from environment variables (see the README) with
//! flags taking precedence. Failures print one line and exit non-zero.

use std::io::{BufRead, IsTerminal};
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
    /// Manage user accounts
    User {
        #[command(flatten)]
        db: Overrides,
        #[command(subcommand)]
        action: UserAction,
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
    /// Grant (or with --revoke, remove) site administration
    SetAdmin {
        username: String,
        #[arg(long)]
        revoke: bool,
    },
}

/// Parses the command line, runs the command, and maps failure to exit code 1.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
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
        Command::User { db, action } => {
            let settings = config::load_settings(&env, &db)?;
            let database = open(&settings).await?;
            let result = user_command(&database, action, &settings.default_rooms).await;
            database.close().await;
            result
        }
    }
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

/// Logs to stderr; `RUST_LOG` overrides the default level.
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("securechat_server=info,tower_http=info,warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
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
