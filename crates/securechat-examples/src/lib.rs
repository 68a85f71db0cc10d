//! What the example bots share: signing in with a bot token, the bot's
//! end-to-end identity (a key store file of its own), joining every channel
//! of its rooms, and reading each new message — decrypted and verified in
//! encrypted channels — for a handler that may answer.
//!
//! A bot is a member like a person: it publishes its identity, a room admin
//! adds it to an encrypted room's signed membership log and the members
//! share channel keys with it. The server never sees what it reads or
//! writes there.
//!
//! Settings, from the environment:
//! - `SECURECHAT_URL`: the server, e.g. `https://chat.example.com`;
//! - `SECURECHAT_BOT_TOKEN`: the token shown once when the bot was made
//!   (`POST /api/rooms/{id}/bots`);
//! - `SECURECHAT_KEY_STORE`: the bot's key store file (its identity and
//!   channel keys; keep it: a new one cannot replace a published identity),
//!   by default `<bot name>-keys.json` in the working directory.

use std::collections::HashSet;

use anyhow::{Context, bail};
use securechat_client::{Body, Client, Event, EventStream, Message, SecureClient, Socket};

/// A signed-in bot with its identity and its socket.
pub struct Bot {
    pub sc: SecureClient,
    pub socket: Socket,
    events: EventStream,
    joined: HashSet<i64>,
}

/// What [`Bot::next_message_before`] saw first.
#[derive(Debug)]
pub enum Next {
    Message(Incoming),
    /// The deadline came first.
    Deadline,
    /// The connection ended (the token was revoked, or the server went away).
    Ended,
}

/// A message the bot read: where, from whom, and its text.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub channel_id: i64,
    pub sender_id: i64,
    pub sender_username: Option<String>,
    pub text: String,
}

impl Bot {
    /// Signs in from the environment (see the crate's documentation).
    pub async fn from_env(name: &str) -> anyhow::Result<Self> {
        let url = std::env::var("SECURECHAT_URL").context("SECURECHAT_URL is not set")?;
        let token =
            std::env::var("SECURECHAT_BOT_TOKEN").context("SECURECHAT_BOT_TOKEN is not set")?;
        let store =
            std::env::var("SECURECHAT_KEY_STORE").unwrap_or_else(|_| format!("{name}-keys.json"));
        Self::start(&url, &token, &store).await
    }

    /// Signs in with `token`, opens (or creates and publishes) the bot's
    /// identity in `store`, connects and joins its channels.
    pub async fn start(url: &str, token: &str, store: &str) -> anyhow::Result<Self> {
        let client = Client::bot(url, token)?;
        let me = client.me().await.context("the bot token was refused")?;
        if !me.is_bot {
            bail!("this token signs in {}, who is not a bot", me.username);
        }
        let sc = SecureClient::open(client, store).await?;
        let (socket, events) = sc.client().socket().await?;
        let mut bot = Self {
            sc,
            socket,
            events,
            joined: HashSet::new(),
        };
        bot.join_all().await?;
        tracing::info!(bot = %me.username, channels = bot.joined.len(), "bot ready");
        Ok(bot)
    }

    /// Joins every channel of the bot's rooms not joined yet (at start, and
    /// when it is added to a room or a channel is made).
    async fn join_all(&mut self) -> anyhow::Result<()> {
        for room in self.sc.client().rooms().await? {
            for channel in room.channels {
                if !self.joined.contains(&channel.id) {
                    self.socket.join_channel(channel.id, None).await?;
                    self.joined.insert(channel.id);
                }
            }
        }
        Ok(())
    }

    /// The next message someone else wrote, read: plaintext as it is,
    /// encrypted ones only once decrypted and verified (others are logged
    /// and skipped). Key shares, rotations and membership changes are
    /// handled on the way. `None` when the connection ended (the token was
    /// revoked, or the server went away).
    pub async fn next_message(&mut self) -> anyhow::Result<Option<Incoming>> {
        match self.next_message_before(None).await? {
            Next::Message(incoming) => Ok(Some(incoming)),
            Next::Ended | Next::Deadline => Ok(None),
        }
    }

    /// [`Bot::next_message`], giving up at `deadline` if one is given. Only
    /// the wait for the next event is cut short, never the handling of
    /// one, so no message is lost to the deadline.
    pub async fn next_message_before(
        &mut self,
        deadline: Option<tokio::time::Instant>,
    ) -> anyhow::Result<Next> {
        loop {
            let event = match deadline {
                Some(at) => match tokio::time::timeout_at(at, self.events.recv()).await {
                    Ok(event) => event,
                    Err(_) => return Ok(Next::Deadline),
                },
                None => self.events.recv().await,
            };
            let Some(event) = event else {
                return Ok(Next::Ended);
            };
            if let Some(incoming) = self.on_event(&event).await? {
                return Ok(Next::Message(incoming));
            }
        }
    }

    async fn on_event(&mut self, event: &Event) -> anyhow::Result<Option<Incoming>> {
        if let Err(e) = self.sc.handle_event(event).await {
            tracing::warn!(event = %event.name, "event not handled: {e}");
        }
        match event.name.as_str() {
            "member_joined" | "channel_created" => {
                self.join_all().await?;
                Ok(None)
            }
            "new_message" => {
                let message: Message = serde_json::from_value(event.data().clone())?;
                let me = self.sc.user_id();
                let Some(sender_id) = message.sender_id.filter(|&s| s != me) else {
                    return Ok(None);
                };
                let (channel_id, sender_username) =
                    (message.channel_id, message.sender_username.clone());
                let text = match self.sc.read(message).await?.body {
                    Body::Plain(text) | Body::Verified { text, .. } => text,
                    other => {
                        tracing::warn!(channel_id, "message skipped: {other:?}");
                        return Ok(None);
                    }
                };
                Ok(Some(Incoming {
                    channel_id,
                    sender_id,
                    sender_username,
                    text,
                }))
            }
            _ => Ok(None),
        }
    }

    /// Sends `text` to a channel: encrypted for its members in an
    /// encrypted channel, plaintext otherwise.
    pub async fn say(&mut self, channel_id: i64, text: &str) -> anyhow::Result<()> {
        self.sc.send(&self.socket, channel_id, text).await?;
        Ok(())
    }
}
