//! `securechat-cli device …`: this key store as one of my devices.
//!
//! - `device setup`: make this key store a device (device key, signed list,
//!   first prekey);
//! - `device list`: my devices as my identity signed them, with when the
//!   server last saw each;
//! - `device link`: on a new key store, show a code and wait for another
//!   device of mine to approve it;
//! - `device approve CODE`: on a device that is set up, answer a code, show
//!   the number to compare, and on confirmation sign the new device in and
//!   send it my keys;
//! - `device revoke ID`: drop a device from my signed list and rotate every
//!   channel key it could hold.

use std::io::BufRead;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use securechat_client::{Carry, PendingLink};

use crate::keys::open;
use crate::output::write_all;
use crate::session::SessionFile;

/// How long each side waits for the other.
const WAIT: Duration = Duration::from_secs(600);

#[derive(clap::Subcommand)]
pub enum DeviceCommand {
    /// Make this key store one of my devices (device key, list, prekey).
    Setup,
    /// List my devices.
    List,
    /// On a new key store: show a code, then wait for approval.
    Link,
    /// Approve a new device's code (asks to compare a number first).
    Approve(ApproveArgs),
    /// Revoke one of my other devices.
    Revoke { device_id: u64 },
}

#[derive(clap::Args)]
pub struct ApproveArgs {
    /// The code the new device shows (`XXXX-XXXX`).
    code: String,
    /// Which channels' keys to carry over: `all` (default), `none`, or
    /// channel ids separated by commas.
    #[arg(long, default_value = "all")]
    carry: String,
}

fn carry_of(spec: &str) -> Result<Carry> {
    match spec {
        "all" => Ok(Carry::All),
        "none" => Ok(Carry::Nothing),
        ids => ids
            .split(',')
            .map(|id| {
                id.trim()
                    .parse::<i64>()
                    .with_context(|| format!("--carry: {id:?} is not a channel id"))
            })
            .collect::<Result<Vec<_>>>()
            .map(Carry::Channels),
    }
}

pub async fn run(command: DeviceCommand, file: &SessionFile, store: PathBuf) -> Result<()> {
    match command {
        DeviceCommand::Setup => {
            let (_, mut secure) = open(file, store).await?;
            let id = secure.set_up_device().await?;
            write_all(&format!("this key store is device {id}\n"))
        }
        DeviceCommand::List => {
            let (_, mut secure) = open(file, store).await?;
            let me = secure.user_id();
            let mine = secure.device_id();
            let page = secure.client().devices(me).await?;
            if page.device_list.is_none() {
                return write_all("no devices yet: `securechat-cli device setup`\n");
            }
            let mut out = String::new();
            for device in &page.devices {
                let seen = device.last_seen_at.as_deref().unwrap_or("never");
                let this = if Some(device.device_id) == mine {
                    " (this one)"
                } else {
                    ""
                };
                out.push_str(&format!("{}{this}\tlast seen {seen}\n", device.device_id));
            }
            secure.sync_device().await?;
            write_all(&out)
        }
        DeviceCommand::Link => {
            let session = file.require()?;
            let client = session.client()?;
            let mut pending = PendingLink::start(client, store)
                .await
                .map_err(|e| file.explain(&session, e))?;
            write_all(&format!(
                "On a device that is already set up, run:\n  securechat-cli device approve {}\n",
                pending.code()
            ))?;
            let sas = pending.sas(WAIT).await?;
            write_all(&format!(
                "Both devices must show this number: {sas}\nConfirm it on the other device.\n"
            ))?;
            let secure = pending.finish(WAIT).await?;
            write_all(&format!(
                "Linked: this key store is device {} of {}.\n",
                secure.device_id().unwrap_or_default(),
                session.username
            ))
        }
        DeviceCommand::Approve(args) => {
            let carry = carry_of(&args.carry)?;
            let (_, mut secure) = open(file, store).await?;
            if secure.device_id().is_none() {
                secure.set_up_device().await?;
            }
            let sas = secure.answer_link(&args.code).await?;
            write_all(&format!(
                "The new device must show this number: {sas}\nDoes it? [y/N] "
            ))?;
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the answer from standard input")?;
            if !matches!(line.trim(), "y" | "Y" | "yes") {
                bail!(
                    "not approved: the numbers must match (a different number means someone is in between)"
                );
            }
            secure.approve_link(&args.code, &carry).await?;
            write_all("Approved: the new device now has your keys.\n")
        }
        DeviceCommand::Revoke { device_id } => {
            let (_, mut secure) = open(file, store).await?;
            let rotated = secure.revoke_device(device_id).await?;
            write_all(&format!(
                "device {device_id} revoked; new keys made for {} channel(s)\n",
                rotated.len()
            ))
        }
    }
}
