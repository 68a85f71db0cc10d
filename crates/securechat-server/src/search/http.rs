//! `GET /api/search`: the plaintext messages the caller can read that match
//! a query, most relevant (or newest) first, a page at a time.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::query::Query;
use super::rank::{Cursor, Sort};
use super::snippet::{Segment, snippet};
use super::store::{self, Search};
use crate::auth::AuthUser;
use crate::error::{Error, ErrorBody};
use crate::http::ApiQuery;
use crate::messages::view::MessageView;
use crate::rooms::access::RoomAccess;
use crate::state::AppState;

/// Default and largest page size.
const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 50;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words and filters: `"a phrase"`, `from:alice`, `in:general`,
    /// `before:2026-03-31` (sent before that day, UTC), `after:2026-03-01`
    /// (sent after that day), `has:file`, `has:link`. Every word must occur
    /// (as a substring, any case). At most 256 characters and 8 words;
    /// anything else is searched for literally.
    #[param(max_length = 256)]
    pub q: String,
    /// Only this channel (one the caller is a member of; 404 otherwise).
    pub channel_id: Option<i64>,
    /// `relevance` (default: the newest 1000 matches, most relevant first)
    /// or `newest` (every match, newest first).
    #[param(inline)]
    pub sort: Option<Sort>,
    /// The `next` value of the previous page.
    #[param(pattern = r"^([0-9]{1,18}\.[1-9][0-9]{0,17})?$")]
    pub before: Option<String>,
    /// 1-50, default 20.
    pub limit: Option<i64>,
}

/// Where a result was written.
#[derive(Serialize, ToSchema)]
pub struct ChannelRef {
    pub id: i64,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct RoomRef {
    pub id: i64,
    pub name: String,
    /// `room`, or `dm` for a direct-message conversation.
    pub kind: String,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResult {
    pub message: MessageView,
    pub channel: ChannelRef,
    pub room: RoomRef,
    /// The part of the message to show, split into runs; runs with `match`
    /// true are the query's words.
    pub snippet: Vec<Segment>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchPage {
    pub success: bool,
    pub results: Vec<SearchResult>,
    /// Pass as `before` for the next page; null on the last page.
    pub next: Option<String>,
}

/// Searches the plaintext messages of the channels the caller is a member
/// of now. Encrypted channels are not searched here: the server cannot read
/// them, so clients search what they decrypted.
#[utoipa::path(get, path = "/api/search", operation_id = "search_messages", tag = "search",
    params(SearchParams),
    responses((status = 200, body = SearchPage), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<axum::Json<SearchPage>, Error> {
    let query = Query::parse(&params.q)?;
    if let Some(channel_id) = params.channel_id {
        RoomAccess::member_channel(&state.db, &user, channel_id).await?;
    }
    // An empty `before` is no cursor (a form sends the field empty).
    let after = params
        .before
        .as_deref()
        .filter(|b| !b.is_empty())
        .map(Cursor::parse)
        .transpose()?;
    if query.is_empty() {
        return Ok(axum::Json(SearchPage {
            success: true,
            results: Vec::new(),
            next: None,
        }));
    }
    let limit = params.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let sort = params.sort.unwrap_or_default();
    // One extra row tells whether there is another page.
    let mut hits = store::search(
        &state.db,
        &Search {
            viewer: user.id,
            query: &query,
            channel_id: params.channel_id,
            sort,
            after,
            limit: limit + 1,
        },
    )
    .await?;
    let more = hits.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = match hits.last() {
        Some(last) if more => Some(
            Cursor {
                score: last.score,
                id: last.message.id,
            }
            .encode(),
        ),
        _ => None,
    };
    let results = hits
        .into_iter()
        .map(|hit| SearchResult {
            snippet: snippet(
                hit.message.content.as_deref().unwrap_or_default(),
                &query.terms,
            ),
            message: MessageView::from(&hit.message),
            channel: ChannelRef {
                id: hit.message.channel_id,
                name: hit.channel_name,
            },
            room: RoomRef {
                id: hit.room_id,
                name: hit.room_name,
                kind: hit.room_kind,
            },
        })
        .collect();
    Ok(axum::Json(SearchPage {
        success: true,
        results,
        next,
    }))
}
