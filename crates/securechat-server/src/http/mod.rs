//! What every domain's HTTP handlers share: the [`ApiJson`], [`ApiPath`]
//! and [`ApiQuery`] extractors, the [`Success`] body and the middleware.
//!
//! Domain modules own their handlers (`auth::http`, …); `app` assembles
//! them into one router. Nothing here imports a domain, so a domain's
//! handlers can use it without a cycle.

use serde::Serialize;

mod extract;
mod json;
mod middleware;

pub use extract::{ApiPath, ApiQuery};
pub use json::{ApiJson, MAX_JSON_BODY};
pub use middleware::{is_same_origin, panic_response, refuse_cross_site, security_headers};

/// The body length a request announces (`Content-Length`), if it does:
/// streamed uploads refuse one over their limit before reading a byte.
pub fn declared_length(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// `{"success": true}`: the body of a request that has nothing else to say.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Success {
    pub success: bool,
}

impl Success {
    pub fn new() -> Self {
        Self { success: true }
    }
}

impl Default for Success {
    fn default() -> Self {
        Self::new()
    }
}
