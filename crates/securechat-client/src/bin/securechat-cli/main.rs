//! `securechat-cli`: Securechat from the terminal, on the client SDK.
//!
//! One module per command, each with its clap `Args` and an async `run`:
//! `login`, `logout`, `whoami`. Room and message commands (`rooms`, `send`,
//! `tail`) join as modules of the same shape once the server has those
//! endpoints and events. `session` keeps the login between runs.

mod login;
mod logout;
mod session;
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
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match SessionFile::locate() {
        Ok(file) => match cli.command {
            Command::Login(args) => login::run(args, &file).await,
            Command::Logout => logout::run(&file).await,
            Command::Whoami => whoami::run(&file).await,
        },
        Err(error) => Err(error),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("securechat-cli: {error:#}");
            ExitCode::FAILURE
        }
    }
}
