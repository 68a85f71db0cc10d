//! `securechat-cli create-room <name> [--public] [--encrypted <channel>]`:
//! a new room, whose signed membership log is started at once (so keys can
//! be shared in it from the first message), with an encrypted channel if
//! asked.

use std::path::PathBuf;

use anyhow::Result;
use securechat_client::NewRoom;

use crate::keys;
use crate::session::SessionFile;

#[derive(clap::Args)]
pub struct Args {
    /// The room's name (1-64 characters).
    name: String,
    /// Anyone may find and join it (default: private, by invitation).
    #[arg(long)]
    public: bool,
    /// Also create an end-to-end encrypted channel of this name.
    #[arg(long, value_name = "CHANNEL")]
    encrypted: Option<String>,
}

pub async fn run(args: Args, file: &SessionFile, store: PathBuf) -> Result<()> {
    let (_, mut secure) = keys::open(file, store).await?;
    let room = if args.public {
        NewRoom::public(&args.name)
    } else {
        NewRoom::private(&args.name)
    };
    let created = secure.create_room(&room).await?;
    println!(
        "Created {} room {} (id {}); its signed membership log is started.",
        if args.public { "public" } else { "private" },
        created.name,
        created.id
    );
    if let Some(channel) = args.encrypted {
        let made = secure.create_channel(created.id, &channel, true).await?;
        println!(
            "Created encrypted channel #{} (id {}), registered in the room's signed log.",
            made.name, made.id
        );
    }
    Ok(())
}
