//! Thread routes: a thread's history (keyset pages by message id, the
//! channel's cursor model, so a client resumes with `after` the last reply
//! it holds), following, the per-thread read marker and the list of
//! followed threads. Every route is for members of the thread's room only;
//! anyone else gets the 404 of a message they cannot see.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, MyThread};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::messages::history::{self, From};
use crate::messages::http::{DEFAULT_PAGE, MAX_PAGE};
use crate::messages::store::{self as messages, MessageRow, Scope};
use crate::messages::view::{MessageView, with_participants};
use crate::push::{Audience, ServerEvent, ThreadUnread};
use crate::rooms::access::RoomAccess;
use crate::state::AppState;
use crate::storage::now_ms;

/// Default and largest page of `GET /api/threads`.
const DEFAULT_THREADS: i64 = 30;
const MAX_THREADS: i64 = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(thread_history))
        .routes(routes!(follow, unfollow))
        .routes(routes!(read))
        .routes(routes!(followed))
}

pub fn thread_not_found() -> Error {
    Error::not_found(
        "thread_not_found",
        "No such thread in a channel of yours: a thread's id is its first message's",
    )
}

/// The root of a thread the user may read, and its room. A reply is no
/// root; outsiders learn nothing (404 either way).
pub async fn visible_root(
    state: &AppState,
    user: &AuthUser,
    root_id: i64,
) -> Result<(MessageRow, i64), Error> {
    let root = messages::by_id(&state.db, root_id)
        .await?
        .filter(|m| m.thread_root_id.is_none())
        .ok_or_else(thread_not_found)?;
    let (access, _) = RoomAccess::member_channel(&state.db, user, root.channel_id)
        .await
        .map_err(|_| thread_not_found())?;
    Ok((root, access.room.id))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ThreadQuery {
    /// Replies older than this id (scrolling back).
    pub before: Option<i64>,
    /// Replies newer than this id (catching up after a reconnect); wins
    /// over `before`.
    pub after: Option<i64>,
    /// 1-200, default 50.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ThreadPage {
    pub success: bool,
    /// The thread's first message, with its summary.
    pub root: MessageView,
    /// The replies. With `after`: oldest first. Otherwise: newest first.
    pub messages: Vec<MessageView>,
    /// Whether more replies lie beyond this page in the same direction.
    pub has_more: bool,
    /// Whether the caller follows the thread, and their unread replies.
    pub following: bool,
    pub unread: i64,
}

/// A page of a thread's replies. Non-members get 404.
#[utoipa::path(get, path = "/api/channels/{id}/threads/{root_id}/messages",
    operation_id = "list_thread_messages", tag = "threads",
    params(ThreadQuery, ("id" = i64, Path, description = "Channel id"),
        ("root_id" = i64, Path, description = "The thread's first message")),
    responses((status = 200, body = ThreadPage), (status = 404, body = ErrorBody)))]
async fn thread_history(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((channel_id, root_id)): ApiPath<(i64, i64)>,
    ApiQuery(query): ApiQuery<ThreadQuery>,
) -> Result<axum::Json<ThreadPage>, Error> {
    let (root, _) = visible_root(&state, &user, root_id).await?;
    if root.channel_id != channel_id {
        return Err(thread_not_found());
    }
    let limit = query.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let from = match query.after {
        Some(after) => From::After(after),
        None => From::Before(query.before.unwrap_or(i64::MAX)),
    };
    let scope = Scope::Thread(root_id);
    let page = history::page(&state.db, user.id, channel_id, scope, from, limit).await?;
    let mut root = [MessageView::from(&root)];
    with_participants(&state.db, &mut root).await?;
    let [root] = root;
    let mine = store::mine(&state.db, user.id, root_id).await?;
    Ok(axum::Json(ThreadPage {
        success: true,
        root,
        messages: page.messages,
        has_more: page.has_more,
        following: mine.following,
        unread: mine.unread,
    }))
}

/// The caller's state in a thread after a change.
#[derive(Serialize, ToSchema)]
pub struct ThreadState {
    pub success: bool,
    pub following: bool,
    /// Replies by others after the caller's read marker.
    pub unread: i64,
}

/// Tells the caller's sockets (every one: an HTTP request has no acting
/// socket) their new state in a thread, and answers with it.
fn tell_me(
    state: &AppState,
    user: &AuthUser,
    root: &MessageRow,
    room_id: i64,
    mine: &MyThread,
) -> axum::Json<ThreadState> {
    let event = ThreadUnread {
        room_id,
        channel_id: root.channel_id,
        root_id: root.id,
        following: mine.following,
        unread: mine.unread,
    };
    state.notify.push(
        ServerEvent::ThreadUnread(event),
        Audience::Users(vec![user.id]),
    );
    axum::Json(ThreadState {
        success: true,
        following: mine.following,
        unread: mine.unread,
    })
}

async fn set_following(
    state: &AppState,
    user: &AuthUser,
    root_id: i64,
    following: bool,
) -> Result<axum::Json<ThreadState>, Error> {
    let (root, room_id) = visible_root(state, user, root_id).await?;
    store::set_following(&state.db, user.id, root_id, following, now_ms()).await?;
    let mine = store::mine(&state.db, user.id, root_id).await?;
    Ok(tell_me(state, user, &root, room_id, &mine))
}

/// Follows a thread: its new replies count as unread for the caller and
/// it is listed in `GET /api/threads`.
#[utoipa::path(put, path = "/api/threads/{root_id}/follow", operation_id = "follow_thread",
    tag = "threads",
    params(("root_id" = i64, Path, description = "The thread's first message")),
    responses((status = 200, body = ThreadState), (status = 404, body = ErrorBody)))]
async fn follow(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(root_id): ApiPath<i64>,
) -> Result<axum::Json<ThreadState>, Error> {
    set_following(&state, &user, root_id, true).await
}

/// Stops following a thread (until the caller replies in it again).
#[utoipa::path(delete, path = "/api/threads/{root_id}/follow", operation_id = "unfollow_thread",
    tag = "threads",
    params(("root_id" = i64, Path, description = "The thread's first message")),
    responses((status = 200, body = ThreadState), (status = 404, body = ErrorBody)))]
async fn unfollow(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(root_id): ApiPath<i64>,
) -> Result<axum::Json<ThreadState>, Error> {
    set_following(&state, &user, root_id, false).await
}

#[derive(Deserialize, ToSchema)]
pub struct ReadBody {
    /// The newest reply the caller has seen.
    #[schema(minimum = 0)]
    pub message_id: i64,
}

/// Moves the caller's read marker in a thread forward (never back).
#[utoipa::path(post, path = "/api/threads/{root_id}/read", operation_id = "read_thread",
    tag = "threads", request_body = ReadBody,
    params(("root_id" = i64, Path, description = "The thread's first message")),
    responses((status = 200, body = ThreadState), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn read(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(root_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ReadBody>,
) -> Result<axum::Json<ThreadState>, Error> {
    // A thread the caller cannot see is a 404, whatever the body says.
    let (root, room_id) = visible_root(&state, &user, root_id).await?;
    if body.message_id < 0 {
        return Err(Error::unprocessable(
            "invalid_message_id",
            "message_id must be a reply's id",
        ));
    }
    store::mark_read(&state.db, user.id, root_id, body.message_id, now_ms()).await?;
    let mine = store::mine(&state.db, user.id, root_id).await?;
    Ok(tell_me(&state, &user, &root, room_id, &mine))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowedQuery {
    /// The `next` value of the previous page.
    pub before: Option<i64>,
    /// 1-100, default 30.
    pub limit: Option<i64>,
    /// Only threads with unread replies.
    #[serde(default)]
    pub unread_only: bool,
}

#[derive(Serialize, ToSchema)]
pub struct FollowedThread {
    pub room_id: i64,
    /// The thread's first message, with its summary (`root.channel_id` is
    /// the channel).
    pub root: MessageView,
    /// Replies by others after the caller's read marker.
    pub unread: i64,
}

#[derive(Serialize, ToSchema)]
pub struct FollowedPage {
    pub success: bool,
    /// Most recently replied first.
    pub threads: Vec<FollowedThread>,
    /// Pass as `before` for the next page; null on the last page.
    pub next: Option<i64>,
}

/// The threads the caller follows in rooms they are a member of now, with
/// unread counts.
#[utoipa::path(get, path = "/api/threads", operation_id = "list_threads", tag = "threads",
    params(FollowedQuery),
    responses((status = 200, body = FollowedPage)))]
async fn followed(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(query): ApiQuery<FollowedQuery>,
) -> Result<axum::Json<FollowedPage>, Error> {
    let limit = query.limit.unwrap_or(DEFAULT_THREADS).clamp(1, MAX_THREADS);
    let before = query.before.unwrap_or(i64::MAX);
    let mut rows =
        store::followed_page(&state.db, user.id, before, query.unread_only, limit + 1).await?;
    let page = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > page;
    rows.truncate(page);
    let next = rows.last().filter(|_| more).map(|r| r.last_reply_id);
    let mut roots: Vec<MessageView> = rows.iter().map(|r| MessageView::from(&r.root)).collect();
    with_participants(&state.db, &mut roots).await?;
    let threads = rows
        .iter()
        .zip(roots)
        .map(|(r, root)| FollowedThread {
            room_id: r.room_id,
            root,
            unread: r.unread,
        })
        .collect();
    Ok(axum::Json(FollowedPage {
        success: true,
        threads,
        next,
    }))
}
