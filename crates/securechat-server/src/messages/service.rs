//! The message operations, whatever the transport: each authorizes the
//! user against the channel's room and validates the input before touching
//! storage. Being connected proves nothing; every call checks membership.

use serde::Deserialize;

use super::envelope;
use super::store::{self, MessageRow};
use super::writer::{Integration, NewMessage};
use crate::auth::AuthUser;
use crate::error::Error;
use crate::rooms::access::{RoomAccess, channel_not_found};
use crate::rooms::model::Action;
use crate::rooms::store::ChannelRow;
use crate::state::AppState;
use crate::storage::now_ms;

/// Longest plaintext message, in bytes.
pub const MAX_CONTENT: usize = 8 * 1024;
/// Longest client message id.
pub const MAX_CLIENT_ID: usize = 64;

/// `send_message` as a client sends it.
#[derive(Debug, Deserialize)]
pub struct SendRequest {
    pub channel_id: i64,
    pub content: Option<String>,
    pub envelope: Option<String>,
    pub key_version: Option<i64>,
    pub client_msg_id: String,
    pub reply_to: Option<i64>,
    /// A file uploaded to this channel by the sender and not yet posted
    /// (encrypted channels: the envelope holds its key and name).
    pub file_id: Option<i64>,
    /// Reply in the thread of this top-level message of the channel.
    pub thread_root_id: Option<i64>,
    /// With `thread_root_id`: show the reply in the channel too.
    #[serde(default)]
    pub also_send_to_channel: bool,
}

/// What goes into a channel: text for plaintext channels, an envelope for
/// encrypted ones. Returns (content, envelope).
fn body_for<'a>(
    channel: &ChannelRow,
    content: Option<&'a str>,
    envelope: Option<&'a str>,
) -> Result<(Option<&'a str>, Option<&'a str>), Error> {
    if channel.is_encrypted {
        return Ok((None, Some(envelope::sealed(content.is_some(), envelope)?)));
    }
    Ok((Some(plain_content(content, envelope)?), None))
}

/// The text of a message to a plaintext channel.
fn plain_content<'a>(content: Option<&'a str>, envelope: Option<&str>) -> Result<&'a str, Error> {
    envelope::none_in_plaintext(envelope.is_some())?;
    let content = content
        .ok_or_else(|| Error::unprocessable("missing_content", "The message has no content"))?;
    if content.trim().is_empty() {
        return Err(Error::unprocessable(
            "empty_message",
            "The message is empty",
        ));
    }
    check_text(content)?;
    Ok(content)
}

/// The length limit of message text (captions included).
pub fn check_text(content: &str) -> Result<(), Error> {
    if content.len() > MAX_CONTENT {
        return Err(Error::PayloadTooLarge {
            message: format!("Messages are limited to {} KiB", MAX_CONTENT / 1024).into(),
        });
    }
    crate::text::message(content).map_err(|why| {
        Error::unprocessable("invalid_content", format!("A message {}", why.reason()))
    })
}

pub fn check_client_msg_id(id: &str) -> Result<(), Error> {
    if id.is_empty() || id.len() > MAX_CLIENT_ID || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::unprocessable(
            "invalid_client_msg_id",
            format!(
                "client_msg_id must be 1 to {MAX_CLIENT_ID} visible ASCII characters (no spaces)"
            ),
        ));
    }
    Ok(())
}

/// Stores a message; a retry with the same `client_msg_id` returns the
/// original (`false`) instead of a copy.
pub async fn send(
    state: &AppState,
    user: &AuthUser,
    req: &SendRequest,
) -> Result<(MessageRow, bool), Error> {
    let id = &req.client_msg_id;
    check_client_msg_id(id)?;
    if let Some(new) = plain_send(state, user, req) {
        return insert(state, (&user.username, user.bot_rooms.is_some()), &new).await;
    }
    // An envelope is checked against the sender's published key: read it
    // alongside the channel rather than after it (two reads in parallel
    // instead of in sequence; the key is the sender's own, so reading it
    // before the membership check reveals nothing).
    let (found, sender_key) = if req.envelope.is_some() {
        let (found, key) = tokio::join!(
            RoomAccess::member_channel(&state.db, user, req.channel_id),
            crate::keys::store::public_key(&state.db, user.id)
        );
        (found, Some(key))
    } else {
        (
            RoomAccess::member_channel(&state.db, user, req.channel_id).await,
            None,
        )
    };
    let (access, channel) = found?;
    if !channel.is_encrypted {
        state.plaintext.remember(channel.id);
    }
    let (content, envelope) = body_for(&channel, req.content.as_deref(), req.envelope.as_deref())?;
    if let Some(text) = content {
        crate::mentions::check(state, &access, text).await?;
    }
    if let (Some(envelope), Some(key)) = (envelope, sender_key) {
        envelope::check_key_version(&channel, req.key_version)?;
        envelope::verify(user.id, &channel, req.key_version, envelope, key?.as_ref())?;
    }
    if let Some(reply_to) = req.reply_to {
        let target = store::by_id(&state.db, reply_to).await?;
        if target.is_none_or(|m| m.channel_id != channel.id) {
            return Err(Error::unprocessable(
                "invalid_reply",
                "reply_to must be a message of the same channel",
            ));
        }
    }
    if let Some(file_id) = req.file_id {
        check_file(state, user, &channel, file_id).await?;
    }
    check_thread(
        state,
        &channel,
        req.thread_root_id,
        req.also_send_to_channel,
    )
    .await?;
    let new = NewMessage {
        channel_id: channel.id,
        sender_id: user.id,
        content,
        envelope,
        key_version: channel.is_encrypted.then_some(req.key_version.unwrap_or(0)),
        client_msg_id: id,
        reply_to: req.reply_to,
        file_id: req.file_id,
        thread_root_id: req.thread_root_id,
        also_send_to_channel: req.also_send_to_channel,
        webhook: None,
        now: now_ms(),
    };
    insert(state, (&user.username, user.bot_rooms.is_some()), &new).await
}

/// A thread a message may reply in: a live top-level message of the same
/// channel. The insert checks the same again in its transaction (a root
/// deleted in between); this says precisely what is wrong.
pub async fn check_thread(
    state: &AppState,
    channel: &ChannelRow,
    thread_root_id: Option<i64>,
    also_send_to_channel: bool,
) -> Result<(), Error> {
    let Some(root_id) = thread_root_id else {
        if also_send_to_channel {
            return Err(Error::unprocessable(
                "invalid_thread",
                "also_send_to_channel needs a thread_root_id",
            ));
        }
        return Ok(());
    };
    let root = store::by_id(&state.db, root_id)
        .await?
        .filter(|m| m.channel_id == channel.id);
    match root {
        None => Err(Error::unprocessable(
            "invalid_thread",
            "thread_root_id must be a message of the same channel",
        )),
        Some(m) if m.thread_root_id.is_some() => Err(Error::unprocessable(
            "thread_reply_to_reply",
            "A thread reply cannot start a thread; reply in its root's thread instead",
        )),
        Some(m) if m.deleted_at.is_some() => Err(thread_root_deleted()),
        Some(_) => Ok(()),
    }
}

fn thread_root_deleted() -> Error {
    Error::unprocessable(
        "thread_root_deleted",
        "That thread's first message was deleted; it takes no more replies",
    )
}

/// The short way for the common send: text to a channel this node knows
/// is plaintext, valid as it stands, no reply or file to check. Membership
/// is then checked by the insert itself ([`store::Stored::NotMember`]).
/// `None` sends take the long way, which checks access first.
fn plain_send<'a>(
    state: &AppState,
    user: &AuthUser,
    req: &'a SendRequest,
) -> Option<NewMessage<'a>> {
    let content = plain_content(req.content.as_deref(), req.envelope.as_deref()).ok()?;
    // A channel-wide mention needs the sender's role, a bot its scope:
    // the long way.
    let simple = user.bot_rooms.is_none()
        && req.key_version.is_none()
        && req.reply_to.is_none()
        && req.file_id.is_none()
        && req.thread_root_id.is_none()
        && !req.also_send_to_channel
        && !securechat_search::mentions_channel(content);
    (simple && state.plaintext.contains(req.channel_id)).then(|| NewMessage {
        channel_id: req.channel_id,
        sender_id: user.id,
        content: Some(content),
        envelope: None,
        key_version: None,
        client_msg_id: &req.client_msg_id,
        reply_to: None,
        file_id: None,
        thread_root_id: None,
        also_send_to_channel: false,
        webhook: None,
        now: now_ms(),
    })
}

/// Stores a message sent by `sender` (the username of `new.sender_id`, and
/// whether it is a bot); a file already carried by another message is a 409.
async fn insert(
    state: &AppState,
    sender: (&str, bool),
    new: &NewMessage<'_>,
) -> Result<(MessageRow, bool), Error> {
    match store::insert(&state.db, &state.writer, new, sender).await? {
        store::Stored::New(row) => {
            // Every new message passes here, whatever carried it; the
            // hand-overs to web push and outgoing webhooks never wait.
            state.webhooks.message_stored();
            state.webpush.message_stored(crate::webpush::NewMessage {
                message_id: row.id,
                channel_id: row.channel_id,
                sender_id: new.sender_id,
                sender: new.webhook.map_or(sender.0, |w| w.name.as_str()).to_owned(),
                text: row.content.clone(),
                thread_root_id: row.thread_root_id.filter(|_| !row.also_send_to_channel),
            });
            Ok((row, true))
        }
        store::Stored::Existing(row) => Ok((row, false)),
        store::Stored::FileTaken => Err(Error::conflict(
            "file_already_posted",
            "That file is already in a message",
        )),
        store::Stored::IdUsedElsewhere => Err(Error::conflict(
            "client_msg_id_taken",
            "This client_msg_id was already used for a message in another channel; \
             send with a new one",
        )),
        store::Stored::NotMember => Err(channel_not_found()),
        store::Stored::ThreadGone => Err(thread_root_deleted()),
    }
}

/// A file a message may carry: uploaded to this channel by the sender.
async fn check_file(
    state: &AppState,
    user: &AuthUser,
    channel: &ChannelRow,
    file_id: i64,
) -> Result<(), Error> {
    let file = crate::files::store::live(&state.db, file_id).await?;
    match file {
        Some(f) if f.channel_id == channel.id && f.uploader_id == Some(user.id) => {
            if f.message_id.is_some() {
                return Err(Error::conflict(
                    "file_already_posted",
                    "That file is already in a message",
                ));
            }
            Ok(())
        }
        _ => Err(Error::unprocessable(
            "invalid_file",
            "file_id must be a file you uploaded to this channel",
        )),
    }
}

/// Where a message posted over HTTP goes: the channel, or a thread of it.
#[derive(Debug, Clone, Copy, Default)]
pub struct ThreadTarget {
    pub root_id: Option<i64>,
    pub also_send_to_channel: bool,
}

/// Posts the message that carries a file just uploaded to a plaintext
/// channel, with an optional caption. A retry with the same `client_msg_id`
/// returns the original (`false`), which carries the file of the first try.
pub async fn post_file(
    state: &AppState,
    user: &AuthUser,
    channel: &ChannelRow,
    file_id: i64,
    caption: Option<&str>,
    client_msg_id: &str,
    thread: ThreadTarget,
) -> Result<(MessageRow, bool), Error> {
    check_client_msg_id(client_msg_id)?;
    check_thread(state, channel, thread.root_id, thread.also_send_to_channel).await?;
    let caption = caption.filter(|c| !c.trim().is_empty());
    if let Some(caption) = caption {
        check_text(caption)?;
        if securechat_search::mentions_channel(caption) {
            let (access, _) = RoomAccess::member_channel(&state.db, user, channel.id).await?;
            crate::mentions::check(state, &access, caption).await?;
        }
    }
    let new = NewMessage {
        channel_id: channel.id,
        sender_id: user.id,
        content: caption,
        envelope: None,
        key_version: None,
        client_msg_id,
        reply_to: None,
        file_id: Some(file_id),
        thread_root_id: thread.root_id,
        also_send_to_channel: thread.also_send_to_channel,
        webhook: None,
        now: now_ms(),
    };
    insert(state, (&user.username, user.bot_rooms.is_some()), &new).await
}

/// Posts the text an incoming webhook received (`webhooks/`) to its
/// plaintext channel, as the webhook's maker (`access`: their access to the
/// channel's room) shown as `webhook`: the same checks as a person's send
/// (text rules, channel-wide mentions by the maker's role) and the same
/// insert, so the message is searchable and pushed like any other.
pub async fn post_from_webhook(
    state: &AppState,
    access: &RoomAccess,
    maker: &str,
    channel: &ChannelRow,
    text: &str,
    webhook: &Integration,
) -> Result<MessageRow, Error> {
    let content = plain_content(Some(text), None)?;
    crate::mentions::check(state, access, content).await?;
    let client_msg_id = format!("webhook-{}-{:016x}", webhook.id, rand::random::<u64>());
    let new = NewMessage {
        channel_id: channel.id,
        sender_id: access.user_id,
        content: Some(content),
        envelope: None,
        key_version: None,
        client_msg_id: &client_msg_id,
        reply_to: None,
        file_id: None,
        thread_root_id: None,
        also_send_to_channel: false,
        webhook: Some(webhook),
        now: now_ms(),
    };
    insert(state, (maker, false), &new)
        .await
        .map(|(row, _)| row)
}

/// Posts a slash command's `in_channel` answer (`commands/`) to its
/// plaintext channel as the person who ran it (`access`): the same checks
/// as their own send (text rules, channel-wide mentions by their role) and
/// the same insert, so the message is searchable and pushed like any other.
pub async fn post_from_command(
    state: &AppState,
    access: &RoomAccess,
    username: &str,
    channel: &ChannelRow,
    text: &str,
) -> Result<MessageRow, Error> {
    let content = plain_content(Some(text), None)?;
    crate::mentions::check(state, access, content).await?;
    let client_msg_id = format!("command-{:016x}", rand::random::<u64>());
    let new = NewMessage {
        channel_id: channel.id,
        sender_id: access.user_id,
        content: Some(content),
        envelope: None,
        key_version: None,
        client_msg_id: &client_msg_id,
        reply_to: None,
        file_id: None,
        thread_root_id: None,
        also_send_to_channel: false,
        webhook: None,
        now: now_ms(),
    };
    insert(state, (username, false), &new)
        .await
        .map(|(row, _)| row)
}

fn message_not_found() -> Error {
    Error::not_found("message_not_found", "No such message in a channel of yours")
}

/// Loads a live message the user can see, with its channel access.
async fn visible_message(
    state: &AppState,
    user: &AuthUser,
    message_id: i64,
) -> Result<(MessageRow, RoomAccess, ChannelRow), Error> {
    let message = store::by_id(&state.db, message_id)
        .await?
        .filter(|m| m.deleted_at.is_none())
        .ok_or_else(message_not_found)?;
    let (access, channel) = RoomAccess::member_channel(&state.db, user, message.channel_id)
        .await
        .map_err(|_| message_not_found())?;
    Ok((message, access, channel))
}

/// Replaces the text (or envelope) of one's own message.
pub async fn edit(
    state: &AppState,
    user: &AuthUser,
    message_id: i64,
    content: Option<&str>,
    envelope: Option<&str>,
) -> Result<MessageRow, Error> {
    let (message, access, channel) = visible_message(state, user, message_id).await?;
    if message.sender_id != Some(user.id) || message.webhook_id.is_some() {
        return Err(Error::forbidden(
            "not_your_message",
            "You can edit only your own messages (not those a webhook posted)",
        ));
    }
    access.require(Action::EditOwnMessages)?;
    let (content, envelope) = body_for(&channel, content, envelope)?;
    if let Some(text) = content {
        crate::mentions::check(state, &access, text).await?;
    }
    if let Some(envelope) = envelope {
        envelope::check(state, user.id, &channel, message.key_version, envelope).await?;
    }
    store::edit(&state.db, message_id, content, envelope, now_ms()).await?;
    store::by_id(&state.db, message_id)
        .await?
        .ok_or_else(message_not_found)
}

/// Deletes a message: one's own, or anyone's for room admins.
pub async fn delete(
    state: &AppState,
    user: &AuthUser,
    message_id: i64,
) -> Result<MessageRow, Error> {
    let (message, access, _) = visible_message(state, user, message_id).await?;
    if message.sender_id != Some(user.id) {
        access.require(Action::DeleteAnyMessage).map_err(|_| {
            Error::forbidden(
                "not_your_message",
                "You can delete only your own messages; room admins can delete any",
            )
        })?;
    }
    if let Some((file_id, key)) = store::delete(&state.db, message_id, now_ms()).await? {
        crate::files::cleanup::purge(&state.db, &state.files.blobs, file_id, &key).await?;
    }
    Ok(message)
}

/// Toggles a reaction; returns the message and whether the reaction is now on.
pub async fn react(
    state: &AppState,
    user: &AuthUser,
    message_id: i64,
    emoji: &str,
) -> Result<(MessageRow, bool), Error> {
    if emoji.is_empty() || emoji.len() > 32 || crate::text::reaction(emoji).is_err() {
        return Err(Error::unprocessable(
            "invalid_emoji",
            "A reaction is 1 to 32 bytes, visible, without spaces",
        ));
    }
    let (message, _, _) = visible_message(state, user, message_id).await?;
    let on = store::toggle_reaction(&state.db, message_id, user.id, emoji, now_ms()).await?;
    Ok((message, on))
}

/// Moves the user's read marker in a channel; returns the new unread count.
pub async fn mark_read(
    state: &AppState,
    user: &AuthUser,
    channel_id: i64,
    message_id: i64,
) -> Result<i64, Error> {
    RoomAccess::member_channel(&state.db, user, channel_id).await?;
    if message_id < 0 {
        return Err(Error::unprocessable(
            "invalid_message_id",
            "message_id must be positive",
        ));
    }
    store::mark_read(&state.db, user.id, channel_id, message_id, now_ms()).await?;
    Ok(store::unread_in(&state.db, user.id, channel_id).await?)
}
