//! `GET /metrics` (Prometheus text format) behind the `METRICS_TOKEN`
//! bearer token — a 404 when no token is configured, so an unconfigured
//! server exposes nothing — and the middleware counting every response.
//! Outside `/api/` and its OpenAPI document, like `/healthz`: it is for
//! the scraper, not for clients.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::json_error;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.metrics_token else {
        return json_error(StatusCode::NOT_FOUND, "not_found", "Not found");
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !presented.is_some_and(|p| token.matches(p)) {
        let mut response = json_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Send the METRICS_TOKEN as a bearer token",
        );
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
        return response;
    }
    let metrics = super::get();
    // A queue whose depth cannot be read keeps its last value; the failure
    // is logged, and the scrape still answers.
    match crate::webpush::store::queue::depth(&state.db).await {
        Ok(n) => metrics.set_queue("web_push", n),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the push queue's depth"),
    }
    match crate::email::store::pending::depth(&state.db).await {
        Ok(n) => metrics.set_queue("email", n),
        Err(e) => tracing::warn!(error = %e, "metrics: cannot read the email queue's depth"),
    }
    metrics.set_queue("message_writer", state.writer.queued() as i64);
    metrics.set_queue("password_hashing", state.hasher.queued() as i64);
    match metrics.render() {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "metrics: cannot render");
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "Cannot render the metrics",
            )
        }
    }
}

/// Counts every response by status class, including the timeouts and
/// panics the layers inside it answer.
pub async fn count_responses(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    super::get().response(response.status().as_u16());
    response
}
