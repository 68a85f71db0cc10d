//! `securechat-cli send <room>/<channel> <text…>`, or `send --channel-id N
//! <text…>`; the text `-` means "read the message from standard input".
//!
//! The message goes over Socket.IO with a fresh `client_msg_id`; rate
//! limits are waited out and the same id retried, so it is posted once.

use std::io::Read;

use anyhow::{Context, Result, bail};
use securechat_client::OutgoingMessage;

use crate::session::SessionFile;
use crate::{output, target};

#[derive(clap::Args)]
pub struct Args {
    /// The channel by id instead of by name: every word is then text.
    #[arg(long, value_name = "ID")]
    channel_id: Option<i64>,
    /// Answer this message (its id).
    #[arg(long, value_name = "MESSAGE_ID")]
    reply_to: Option<i64>,
    /// `<room>/<channel>` then the text, or `-` to read it from standard input.
    #[arg(required = true, num_args = 1.., value_name = "ROOM/CHANNEL] [TEXT")]
    words: Vec<String>,
}

pub async fn run(args: Args, file: &SessionFile, store: std::path::PathBuf) -> Result<()> {
    let session = file.require()?;
    let (spec, words) = match args.channel_id {
        Some(_) => (None, &args.words[..]),
        None => match args.words.split_first() {
            Some((spec, words)) => (Some(spec.as_str()), words),
            None => bail!("name a channel as <room>/<channel>, or give --channel-id"),
        },
    };
    let content = message_text(words)?;

    let client = session.client()?;
    let rooms = client
        .rooms()
        .await
        .map_err(|e| file.explain(&session, e))?;
    let target = target::resolve(&rooms, spec, args.channel_id)?;
    let mut message = OutgoingMessage::new(target.channel.id, content);
    if let Some(reply_to) = args.reply_to {
        message = message.reply_to(reply_to);
    }
    let (socket, _events) = client.socket().await?;
    let sent = if target.channel.is_encrypted {
        // Encrypted: the key store's identity and keys, checked against pins.
        let (_, mut secure) = crate::keys::open(file, store).await?;
        secure
            .send(&socket, target.channel.id, &message.content)
            .await
    } else {
        socket.send_message(&message).await
    };
    socket.close().await;
    let sent = sent.with_context(|| format!("cannot send to {}", target.label()))?;
    output::write_all(&format!(
        "Sent message {} to {}.\n",
        sent.id,
        target.label()
    ))
}

/// The words joined by spaces, or standard input for `-`.
fn message_text(words: &[String]) -> Result<String> {
    let text = match words {
        [] => bail!("no message text; give it after the channel, or `-` to read standard input"),
        [dash] if dash == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the message from standard input")?;
            let text = text.strip_suffix('\n').unwrap_or(&text);
            text.strip_suffix('\r').unwrap_or(text).to_owned()
        }
        words => words.join(" "),
    };
    if text.trim().is_empty() {
        bail!("the message is empty");
    }
    Ok(text)
}
