//! Client events. Each handler: parse (a malformed payload is an error ack,
//! never a dropped connection), authorize against the database, act, ack,
//! then push to whoever should see it.

use serde::{Deserialize, Serialize};
use serde_json::json;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Extension, SocketRef, State, TryData};

use super::deliver::{Via, deliver};
use super::node::Realtime;
use super::{ack, names, viewing};
use crate::auth::AuthUser;
use crate::messages::history::{self, From};
use crate::messages::service::{self, SendRequest};
use crate::messages::store;
use crate::messages::view::MessageView;
use crate::push::{self, Audience, ServerEvent};
use crate::rooms::access::RoomAccess;
use crate::state::AppState;
use crate::threads;

/// Newest messages returned by `join_channel` without `after`.
const JOIN_PAGE: i64 = 50;
/// Most messages returned by one `join_channel` with `after`; beyond it
/// `has_more` says to page on with the history endpoint.
const RESUME_LIMIT: i64 = 1000;

/// Registers every client event on a new socket.
pub fn register<A: Adapter>(socket: &SocketRef<A>) {
    socket.on("join_channel", join_channel::<A>);
    socket.on("join_thread", join_thread::<A>);
    socket.on("leave_channel", leave_channel::<A>);
    socket.on("send_message", send_message::<A>);
    socket.on("edit_message", edit_message::<A>);
    socket.on("delete_message", delete_message::<A>);
    socket.on("typing", typing::<A>);
    socket.on("mark_read", mark_read::<A>);
    socket.on("react", react::<A>);
    socket.on("viewing", viewing::viewing::<A>);
}

#[derive(Debug, Deserialize)]
pub struct JoinChannel {
    pub channel_id: i64,
    /// The last message id the client has; it gets everything after it.
    pub after: Option<i64>,
}

async fn join_channel<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    TryData(data): TryData<JoinChannel>,
    ack: AckSender<A>,
) {
    let Some((req, ack)) = ack::parsed(data, ack) else {
        return;
    };
    if let Err(e) = RoomAccess::member_channel(&state.db, &user, req.channel_id).await {
        return ack::err(ack, &e);
    }
    // Join before reading, so nothing committed in between is missed; a
    // message in both is deduplicated by id on the client.
    socket.join(names::channel(req.channel_id));
    let (from, limit) = match req.after {
        Some(after) => (From::After(after), RESUME_LIMIT),
        None => (From::Before(i64::MAX), JOIN_PAGE),
    };
    let scope = store::Scope::Channel(req.channel_id);
    match history::page(&state.db, user.id, req.channel_id, scope, from, limit).await {
        Ok(mut page) => {
            if req.after.is_none() {
                // The first page is shown oldest first.
                page.messages.reverse();
            }
            let reply = PageReply {
                channel_id: req.channel_id,
                messages: &page.messages,
                has_more: page.has_more,
            };
            ack::ok_with(ack, &reply);
        }
        Err(e) => ack::err(ack, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct JoinThread {
    pub channel_id: i64,
    pub root_id: i64,
    /// The last reply id the client has; it gets every reply after it.
    pub after: Option<i64>,
}

/// Joins the thread's channel (its replies arrive as `new_message` with
/// `thread_root_id`) and answers with the newest replies, or, with
/// `after`, every reply after it: a thread resumes as a channel does.
async fn join_thread<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    TryData(data): TryData<JoinThread>,
    ack: AckSender<A>,
) {
    let Some((req, ack)) = ack::parsed(data, ack) else {
        return;
    };
    let root = match threads::http::visible_root(&state, &user, req.root_id).await {
        Ok((root, _)) if root.channel_id == req.channel_id => root,
        Ok(_) => return ack::err(ack, &threads::http::thread_not_found()),
        Err(e) => return ack::err(ack, &e),
    };
    // Join before reading, as `join_channel` does.
    socket.join(names::channel(root.channel_id));
    let (from, limit) = match req.after {
        Some(after) => (From::After(after), RESUME_LIMIT),
        None => (From::Before(i64::MAX), JOIN_PAGE),
    };
    let scope = store::Scope::Thread(root.id);
    match history::page(&state.db, user.id, root.channel_id, scope, from, limit).await {
        Ok(mut page) => {
            if req.after.is_none() {
                page.messages.reverse();
            }
            let reply = ThreadPageReply {
                channel_id: root.channel_id,
                root_id: root.id,
                messages: &page.messages,
                has_more: page.has_more,
            };
            ack::ok_with(ack, &reply);
        }
        Err(e) => ack::err(ack, &e),
    }
}

/// The ack of `join_thread`: a page of the thread's replies.
#[derive(Serialize)]
struct ThreadPageReply<'a> {
    channel_id: i64,
    root_id: i64,
    messages: &'a [MessageView],
    has_more: bool,
}

/// The ack of `join_channel`: a page of the channel's messages.
#[derive(Serialize)]
struct PageReply<'a> {
    channel_id: i64,
    messages: &'a [MessageView],
    has_more: bool,
}

/// The ack of a send or an edit: the stored message.
#[derive(Serialize)]
struct MessageReply<'a> {
    message: &'a MessageView,
}

#[derive(Debug, Deserialize)]
pub struct ChannelRef {
    pub channel_id: i64,
}

async fn leave_channel<A: Adapter>(
    socket: SocketRef<A>,
    TryData(data): TryData<ChannelRef>,
    ack: AckSender<A>,
) {
    match data {
        Ok(req) => {
            socket.leave(names::channel(req.channel_id));
            ack::ok(ack, json!({"channel_id": req.channel_id}));
        }
        Err(e) => ack::bad_payload(ack, &e.to_string()),
    }
}

async fn send_message<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    State(realtime): State<Realtime>,
    Extension(user): Extension<AuthUser>,
    TryData(data): TryData<SendRequest>,
    ack: AckSender<A>,
) {
    let Some((req, ack)) = ack::parsed(data, ack) else {
        return;
    };
    if let Err(wait) = realtime.may_send(user.id).await {
        return ack::rate_limited(ack, wait);
    }
    match service::send(&state, &user, &req).await {
        Ok((row, created)) => {
            let message = MessageView::from(&row);
            // Acked only now: the row is committed.
            ack::ok_with(ack, &MessageReply { message: &message });
            if created {
                let to = Audience::Channel(row.channel_id);
                deliver(Via::Socket(&socket), &ServerEvent::NewMessage(message), to).await;
                threads::replied(&state, &row).await;
            }
        }
        Err(e) => {
            let pending = e.code() == "key_rotation_pending";
            ack::err(ack, &e);
            if pending {
                ask_to_rotate(&socket, &state, &user, req.channel_id).await;
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct EditMessage {
    pub message_id: i64,
    pub content: Option<String>,
    pub envelope: Option<String>,
}

async fn edit_message<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    TryData(data): TryData<EditMessage>,
    ack: AckSender<A>,
) {
    let Some((req, ack)) = ack::parsed(data, ack) else {
        return;
    };
    match service::edit(
        &state,
        &user,
        req.message_id,
        req.content.as_deref(),
        req.envelope.as_deref(),
    )
    .await
    {
        Ok(row) => {
            let message = MessageView::from(&row);
            ack::ok_with(ack, &MessageReply { message: &message });
            let to = Audience::Channel(row.channel_id);
            deliver(
                Via::Socket(&socket),
                &ServerEvent::MessageEdited(message),
                to,
            )
            .await;
        }
        Err(e) => ack::err(ack, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct MessageRef {
    pub message_id: i64,
}

async fn delete_message<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    TryData(data): TryData<MessageRef>,
    ack: AckSender<A>,
) {
    let Some((req, ack)) = ack::parsed(data, ack) else {
        return;
    };
    match service::delete(&state, &user, req.message_id).await {
        Ok(row) => {
            let body = push::MessageDeleted {
                id: row.id,
                channel_id: row.channel_id,
                deleted_by: user.id,
            };
            ack::ok_with(ack, &body);
            let to = Audience::Channel(row.channel_id);
            deliver(Via::Socket(&socket), &ServerEvent::MessageDeleted(body), to).await;
            threads::replied(&state, &row).await;
        }
        Err(e) => ack::err(ack, &e),
    }
}

async fn typing<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    State(realtime): State<Realtime>,
    Extension(user): Extension<AuthUser>,
    TryData(data): TryData<ChannelRef>,
    ack: AckSender<A>,
) {
    let Some((req, ack)) = ack::parsed(data, ack) else {
        return;
    };
    if let Err(e) = RoomAccess::member_channel(&state.db, &user, req.channel_id).await {
        return ack::err(ack, &e);
    }
    let forwarded = realtime.typing_allowed(user.id, req.channel_id).await;
    ack::ok(ack, json!({"forwarded": forwarded}));
    if forwarded {
        let body = push::Typing {
            channel_id: req.channel_id,
            user_id: user.id,
            username: user.username,
        };
        let to = Audience::OthersInChannel(req.channel_id);
        deliver(Via::Socket(&socket), &ServerEvent::Typing(body), to).await;
    }
}

#[derive(Debug, Deserialize)]
pub struct MarkRead {
    pub channel_id: i64,
    pub message_id: i64,
}

async fn mark_read<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    TryData(data): TryData<MarkRead>,
    ack: AckSender<A>,
) {
    let Some((req, ack)) = ack::parsed(data, ack) else {
        return;
    };
    match service::mark_read(&state, &user, req.channel_id, req.message_id).await {
        Ok(unread) => {
            let body = push::Unread {
                channel_id: req.channel_id,
                unread,
            };
            ack::ok_with(ack, &body);
            // The user's other tabs and devices update their badges.
            let to = Audience::MyOtherSockets(user.id);
            deliver(Via::Socket(&socket), &ServerEvent::Unread(body), to).await;
        }
        Err(e) => ack::err(ack, &e),
    }
}

#[derive(Debug, Deserialize)]
pub struct React {
    pub message_id: i64,
    pub emoji: String,
}

async fn react<A: Adapter>(
    socket: SocketRef<A>,
    State(state): State<AppState>,
    Extension(user): Extension<AuthUser>,
    TryData(data): TryData<React>,
    ack: AckSender<A>,
) {
    let Some((req, ack)) = ack::parsed(data, ack) else {
        return;
    };
    let result = async {
        let (message, on) = service::react(&state, &user, req.message_id, &req.emoji).await?;
        let counts = store::reactions(&state.db, req.message_id).await?;
        Ok::<_, crate::error::Error>((message, on, counts))
    }
    .await;
    match result {
        Ok((message, on, counts)) => {
            let body = push::ReactionUpdated {
                message_id: message.id,
                channel_id: message.channel_id,
                user_id: user.id,
                emoji: req.emoji,
                on,
                reactions: counts
                    .into_iter()
                    .map(|c| push::ReactionCount {
                        emoji: c.emoji,
                        count: c.count,
                    })
                    .collect(),
            };
            ack::ok_with(ack, &body);
            let to = Audience::Channel(message.channel_id);
            deliver(
                Via::Socket(&socket),
                &ServerEvent::ReactionUpdated(body),
                to,
            )
            .await;
        }
        Err(e) => ack::err(ack, &e),
    }
}

/// The seed's "first speaks" rule: the member who tries to send while a
/// rotation waits is asked to perform it — unless another member has
/// already claimed that version and the claim has not expired: then the
/// asker waits for their key.
async fn ask_to_rotate<A: Adapter>(
    socket: &SocketRef<A>,
    state: &AppState,
    user: &AuthUser,
    channel_id: i64,
) {
    let found = async {
        let (access, channel) = RoomAccess::member_channel(&state.db, user, channel_id).await?;
        let claim = crate::keys::store::pending_claim(&state.db, channel_id).await?;
        let members = crate::rooms::store::members(&state.db, access.room.id).await?;
        Ok::<_, crate::error::Error>((channel, claim, members))
    }
    .await;
    let claimed_by_other = |claim: Option<(i64, i64)>| {
        claim.is_some_and(|(by, at)| {
            by != user.id && at >= crate::storage::now_ms() - crate::keys::store::CLAIM_TIMEOUT_MS
        })
    };
    if let Ok((channel, claim, members)) = found
        && let Some(version) = channel.pending_version
        && !claimed_by_other(claim)
    {
        let payload = crate::keys::rotation::payload(
            &channel,
            version,
            "first_sender",
            &members,
            Some(user.id),
        );
        let event = ServerEvent::KeyRotationNeeded(payload);
        deliver(Via::Socket(socket), &event, Audience::Me).await;
    }
}
