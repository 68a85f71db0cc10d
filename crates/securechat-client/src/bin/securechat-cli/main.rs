//! `securechat-cli`: Securechat from the terminal, on the client SDK.
//!
//! One module per command, each with its clap `Args` and an async `run`:
//! `login`, `logout`, `whoami`, `rooms`, `send`, `tail`. Shared pieces:
//! `session` (the login kept between runs), `target` (which channel
//! `<room>/<channel>` or `--channel-id` means), `output` (standard output
//! that a closed pipe ends quietly).

mod login;
mod logout;
mod output;
mod rooms;
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
    /// Send a message: `send <room>/<channel> <text…>` (`-`: standard input).
    Send(send::Args),
    /// Print a channel's last messages, then new ones as they arrive.
    Tail(tail::Args),
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
        match cli.command {
            Command::Login(args) => login::run(args, &file).await,
            Command::Logout => logout::run(&file).await,
            Command::Whoami => whoami::run(&file).await,
            Command::Rooms => rooms::run(&file).await,
            Command::Send(args) => send::run(args, &file).await,
            Command::Tail(args) => tail::run(args, &file, offset).await,
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
