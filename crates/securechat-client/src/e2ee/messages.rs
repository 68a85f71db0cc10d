//! Messages in encrypted channels, as I/O around the core: it plans each
//! send (which version, or which key to make or fetch first) and seals it;
//! it reads each message back as verified, a warning, or what to fetch
//! first (a key, a sender's bundle). Nothing that fails is ever shown as
//! encrypted.

use std::time::Duration;

use serde::Serialize;

use securechat_e2ee::{MessageFacts, SealAs, SendPlan, Shown};

use super::{Handled, SecureClient, now};
use crate::error::{Error, Result};
use crate::messages::{HistoryQuery, Message, OutgoingMessage, SendOptions, new_client_msg_id};
use crate::socketio::Socket;

/// A message as the reader should present it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMessage {
    pub message: Message,
    pub body: Body,
}

/// What a message turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// A plaintext channel's text (not end-to-end encrypted, as expected).
    Plain(String),
    /// Decrypted and verified: `sender_id` wrote exactly this.
    Verified { text: String, sender_id: i64 },
    /// In an encrypted channel but not an envelope: put there by the
    /// server (or a tool writing to its database). Never encrypted.
    Injected { content: Option<String> },
    /// An envelope that cannot be read or does not verify, and why.
    Undecryptable { reason: String },
    /// Deleted by its sender or a moderator.
    Deleted,
}

impl Body {
    /// Whether the reader may trust this as an end-to-end encrypted message.
    pub fn is_verified(&self) -> bool {
        matches!(self, Self::Verified { .. })
    }
}

#[derive(Serialize)]
struct EnvelopeMessage<'a> {
    channel_id: i64,
    envelope: &'a str,
    key_version: u32,
    client_msg_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_root_id: Option<i64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    also_send_to_channel: bool,
}

/// How many times [`SecureClient::send`] plans again (a key to make, fetch
/// or wait for) before giving up.
const SEND_ATTEMPTS: usize = 12;
/// The pause before planning again while another member makes the version.
const KEY_WAIT: Duration = Duration::from_millis(250);

impl SecureClient {
    /// Sends `text` to a channel: encrypted under its current key when the
    /// channel is encrypted, plaintext otherwise. The core plans each step:
    /// making version 1, making the next version when this device's is used
    /// up (100 messages or 7 days) or a rotation waits, fetching my copy of
    /// a newer version; another member's claim on a version is waited for.
    pub async fn send(&mut self, socket: &Socket, channel_id: i64, text: &str) -> Result<Message> {
        self.send_placed(socket, channel_id, None, text, &new_client_msg_id())
            .await
    }

    /// Sends `message` as [`SecureClient::send`] (or, with a thread root,
    /// [`SecureClient::send_in_thread`]) does, with the message's own
    /// `client_msg_id`: the server keeps one message per sender and id, so
    /// sending again with the same id — after a crash lost the answer —
    /// returns the message already stored, never a copy. An importer
    /// derives the id from the source's key for that. (`reply_to` is not
    /// sealed: an envelope binds thread placement only.)
    pub async fn send_message(
        &mut self,
        socket: &Socket,
        message: &OutgoingMessage,
    ) -> Result<Message> {
        let place = message
            .thread_root_id
            .map(|root| (root, message.also_send_to_channel));
        self.send_placed(
            socket,
            message.channel_id,
            place,
            &message.content,
            &message.client_msg_id,
        )
        .await
    }

    /// Sends `text` as a reply in the thread of `root_id`, as
    /// [`SecureClient::send`] does; in an encrypted channel the envelope
    /// binds the root and whether the reply is also shown in the channel,
    /// so the server cannot move it (readers warn `wrong_thread`).
    pub async fn send_in_thread(
        &mut self,
        socket: &Socket,
        channel_id: i64,
        root_id: i64,
        also_send_to_channel: bool,
        text: &str,
    ) -> Result<Message> {
        let place = Some((root_id, also_send_to_channel));
        self.send_placed(socket, channel_id, place, text, &new_client_msg_id())
            .await
    }

    async fn send_placed(
        &mut self,
        socket: &Socket,
        channel_id: i64,
        thread: Option<(i64, bool)>,
        text: &str,
        client_msg_id: &str,
    ) -> Result<Message> {
        let seal_as = match thread {
            Some((root, also)) => SealAs {
                kind: Some(
                    if also {
                        "thread_reply_in_channel"
                    } else {
                        "thread_reply"
                    }
                    .into(),
                ),
                target_id: Some(root),
                reply_to: None,
            },
            None => SealAs::default(),
        };
        let mut refresh = false;
        let mut last_error = None;
        for _ in 0..SEND_ATTEMPTS {
            let facts = self.channel_facts(channel_id, refresh).await?;
            refresh = true;
            let plan = self.machine.plan_send(&facts, now());
            self.save()?;
            match plan? {
                SendPlan::Plain => {
                    let mut message =
                        OutgoingMessage::new(channel_id, text).client_msg_id(client_msg_id);
                    if let Some((root, also)) = thread {
                        message = message.in_thread(root, also);
                    }
                    return socket.send_message(&message).await;
                }
                SendPlan::MakeVersion { version, .. } => {
                    match self.make_version(channel_id, version, None).await {
                        Ok(_) => {}
                        Err(error) if waits_for_another_member(&error) => {
                            tokio::time::sleep(KEY_WAIT).await;
                            last_error = Some(error);
                        }
                        Err(error) => return Err(error),
                    }
                }
                SendPlan::FetchKey { version } => match self.fetch_key(channel_id, version).await {
                    Ok(Handled::KeyAccepted { .. } | Handled::Ignored(_)) => {}
                    Ok(Handled::Rejected(reason)) => {
                        return Err(Error::UnexpectedResponse {
                            status: 200,
                            detail: format!(
                                "my copy of version {version} does not verify: {reason}"
                            ),
                        });
                    }
                    Ok(_) => {}
                    // My copy is not there yet: its maker is still sharing.
                    Err(error) if error.status() == Some(404) => {
                        tokio::time::sleep(KEY_WAIT).await;
                        last_error = Some(error);
                    }
                    Err(error) => return Err(error),
                },
                SendPlan::Seal { version } => {
                    let envelope = self
                        .machine
                        .seal(channel_id, version, text, &seal_as, now());
                    self.save()?;
                    let envelope = envelope?;
                    let body = EnvelopeMessage {
                        channel_id,
                        envelope: &envelope,
                        key_version: version,
                        client_msg_id,
                        thread_root_id: thread.map(|(root, _)| root),
                        also_send_to_channel: thread.is_some_and(|(_, also)| also),
                    };
                    match socket.send_body(&body, &SendOptions::default()).await {
                        Ok(message) => return Ok(message),
                        Err(error)
                            if matches!(
                                error.code(),
                                Some(
                                    "no_channel_key" | "key_rotation_pending" | "stale_key_version"
                                )
                            ) =>
                        {
                            last_error = Some(error);
                        }
                        Err(error) => return Err(error),
                    }
                }
            }
        }
        Err(last_error.unwrap_or(Error::NoChannelKey {
            channel_id,
            version: 0,
        }))
    }

    /// A page of history, each message read as [`SecureClient::read`] does.
    pub async fn history(
        &mut self,
        channel_id: i64,
        query: HistoryQuery,
    ) -> Result<Vec<ReadMessage>> {
        let page = self.client.history(channel_id, query).await?;
        let mut out = Vec::with_capacity(page.messages.len());
        for message in page.messages {
            out.push(self.read(message).await?);
        }
        Ok(out)
    }

    /// A page of a thread's replies, each read as [`SecureClient::read`]
    /// does (the root is in [`crate::ThreadPage::root`], read it too).
    pub async fn thread_history(
        &mut self,
        channel_id: i64,
        root_id: i64,
        query: HistoryQuery,
    ) -> Result<Vec<ReadMessage>> {
        let page = self
            .client
            .thread_history(channel_id, root_id, query)
            .await?;
        let mut out = Vec::with_capacity(page.messages.len());
        for message in page.messages {
            out.push(self.read(message).await?);
        }
        Ok(out)
    }

    /// Decrypts and verifies one message (history, `new_message`, acks).
    pub async fn read(&mut self, message: Message) -> Result<ReadMessage> {
        let body = self.read_body(&message).await?;
        Ok(ReadMessage { message, body })
    }

    async fn read_body(&mut self, message: &Message) -> Result<Body> {
        let encrypted = if message.deleted {
            false
        } else {
            self.channel_facts(message.channel_id, false)
                .await?
                .is_encrypted
        };
        let facts = MessageFacts {
            id: message.id,
            channel_id: message.channel_id,
            sender_id: message.sender_id,
            content: message.content.clone(),
            envelope: message.envelope.clone(),
            key_version: message.key_version,
            deleted: message.deleted,
            reply_to: message.reply_to,
            resource: false,
            thread_root_id: message.thread_root_id,
            also_send_to_channel: message.also_send_to_channel,
        };
        let mut fetched_key = false;
        let mut fetched_bundle = false;
        loop {
            let shown = self.machine.read(&facts, encrypted);
            self.save()?;
            return Ok(match shown {
                Shown::Deleted => Body::Deleted,
                Shown::Plain { text } => Body::Plain(text),
                Shown::Verified {
                    text, sender_id, ..
                } => Body::Verified { text, sender_id },
                Shown::Injected { content } => Body::Injected { content },
                Shown::Warning { code, reason } => Body::Undecryptable {
                    reason: format!("{reason} ({code})"),
                },
                Shown::NeedKey {
                    channel_id,
                    version,
                } if !fetched_key => {
                    fetched_key = true;
                    let _ = self.fetch_key(channel_id, version).await;
                    continue;
                }
                Shown::NeedKey { version, .. } => Body::Undecryptable {
                    reason: format!(
                        "no key for version {version} (request it: `securechat-cli request-key`)"
                    ),
                },
                Shown::NeedBundle { user_id } if !fetched_bundle => {
                    fetched_bundle = true;
                    if let Err(error) = self.ensure_pinned(user_id).await {
                        return Ok(Body::Undecryptable {
                            reason: format!("no trusted key for the sender: {error}"),
                        });
                    }
                    continue;
                }
                Shown::NeedBundle { user_id } => Body::Undecryptable {
                    reason: format!("no trusted key for the sender {user_id}"),
                },
                Shown::Locked => Body::Undecryptable {
                    reason: "this device has no identity: restore your keys from your backup"
                        .into(),
                },
            });
        }
    }
}

/// Another member is making the version (their claim came first, or my
/// copy of it is not shared yet): wait for their key.
fn waits_for_another_member(error: &Error) -> bool {
    matches!(
        error.code(),
        Some("rotation_taken" | "share_exists" | "stale_key_version" | "key_rotation_pending")
    )
}
