//! `securechat-cli`: Securechat from the terminal, on the client SDK.
//!
//! One module per command, each with its clap `Args` and an async `run`:
//! `login`, `logout`, `whoami`, `rooms`, `create-room`, `send`, `tail`,
//! `import` (with `import_state`, its resume log, and `import_summary`), and the end-to-end
//! encryption commands of `keys` (`keys`, `verify`, `trust`, `request-key`,
//! `requests`, `approve`), and `device` (setup, list, link, approve,
//! revoke). Shared pieces:
//! `session` (the login kept between runs), `target` (which channel
//! `<room>/<channel>` or `--channel-id` means), `output` (standard output
//! that a closed pipe ends quietly).

mod create_room;
mod device;
mod import;
mod import_state;
mod import_summary;
mod keys;
mod local_search;
mod login;
mod logout;
mod output;
mod rooms;
mod search;
mod send;
mod session;
mod tail;
mod target;
mod whoami;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use session::SessionFile;

#[derive(Parser)]
#[command(
    name = "securechat-cli",
    version,
    about = "Securechat from the terminal"
)]
struct Cli {
    /// The local key store (identity, pinned keys, channel keys); default:
    /// `keys.json` beside the session file.
    #[arg(long, global = true, env = "SECURECHAT_KEY_STORE", value_name = "FILE")]
    key_store: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Log in and remember the session.
    Login(login::Args),
    /// End the session on the server and forget it here.
    Logout,
    /// Show who the remembered session belongs to.
    Whoami,
    /// List my rooms and DMs with their channels and unread counts.
    Rooms,
    /// Create a room (its signed membership log is started at once).
    CreateRoom(create_room::Args),
    /// Send a message: `send <room>/<channel> <text…>` (`-`: standard input).
    Send(send::Args),
    /// Print a channel's last messages, then new ones as they arrive.
    Tail(tail::Args),
    /// Import a Mattermost bulk export or a Slack export into encrypted
    /// channels, encrypted here: `import mattermost export.jsonl`.
    Import(import::Args),
    /// Search the messages I can read: `search deploy from:bob in:general`.
    Search(search::Args),
    /// My identity: `keys backup`, `keys restore`, `keys show`.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// This key store as a device: `device setup`, `list`, `link`,
    /// `approve CODE`, `revoke ID`.
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// Show the safety number shared with a user, and both fingerprints.
    Verify { user: String },
    /// Accept the key the server now serves for a user (after `verify`).
    Trust {
        user: String,
        /// The fingerprint `verify` showed for the new key: exactly that key
        /// is trusted (refused if the server now offers another).
        #[arg(long)]
        fingerprint: Option<String>,
    },
    /// Ask a channel's admins for its key: `request-key <room>/<channel>`.
    RequestKey { channel: String },
    /// List key requests waiting for my approval.
    Requests,
    /// Send the channel key to a member who asked (`requests` lists them).
    Approve { request_id: i64 },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Read while the process has one thread (see `tail::local_offset`).
    let offset = tail::local_offset();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("securechat-cli: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let file = SessionFile::locate()?;
        let store = keys::store_path(cli.key_store, &file);
        match cli.command {
            Command::Login(args) => login::run(args, &file, store).await,
            Command::Logout => logout::run(&file).await,
            Command::Whoami => whoami::run(&file).await,
            Command::Rooms => rooms::run(&file).await,
            Command::CreateRoom(args) => create_room::run(args, &file, store).await,
            Command::Send(args) => send::run(args, &file, store).await,
            Command::Tail(args) => tail::run(args, &file, store, offset).await,
            Command::Import(args) => import::run(args, &file, store).await,
            Command::Search(args) => search::run(args, &file, store, offset).await,
            Command::Keys(command) => keys::keys(command, &file, store).await,
            Command::Device(command) => device::run(command, &file, store).await,
            Command::Verify { user } => keys::verify(&user, &file, store).await,
            Command::Trust { user, fingerprint } => {
                keys::trust(&user, fingerprint.as_deref(), &file, store).await
            }
            Command::RequestKey { channel } => keys::request_key(&channel, &file, store).await,
            Command::Requests => keys::requests(&file, store).await,
            Command::Approve { request_id } => keys::approve(request_id, &file, store).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("securechat-cli: {error:#}");
            ExitCode::FAILURE
        }
    }
}
