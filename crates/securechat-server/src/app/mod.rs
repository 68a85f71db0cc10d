//! The application: one router assembled from each domain's routes, wrapped
//! in the middleware every request goes through, plus the OpenAPI document
//! built from the same routes.
//!
//! This is the one module that imports every domain; nothing imports it
//! but `server`, so the domains stay free of cycles through it.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

mod openapi;

use crate::error::json_error;
use crate::http::{MAX_JSON_BODY, panic_response, refuse_cross_site, security_headers};
use crate::state::AppState;

/// How long a request may take before it is answered with 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole application, standalone (for the unit tests that drive it
/// without a socket).
#[cfg(test)]
pub fn router(state: AppState) -> Router {
    let realtime = crate::realtime::local_layer(&state);
    router_with(state, realtime)
}

/// The router with the given Socket.IO layer (standalone or clustered).
pub fn router_with(state: AppState, realtime: crate::realtime::RealtimeLayer) -> Router {
    let (api, openapi) = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(crate::auth::http::router())
        .merge(crate::auth::directory::router())
        .merge(crate::twofactor::http::router())
        .merge(crate::oidc::http::router())
        .merge(crate::passkeys::http::router())
        .merge(crate::passkeys::signin::router())
        .merge(crate::rooms::http::router())
        .merge(crate::messages::http::router())
        .merge(crate::timeline::http::router())
        .merge(crate::search::http::router())
        .merge(crate::mentions::http::router())
        .merge(crate::pins::http::router())
        .merge(crate::pins::saved::router())
        .merge(crate::retention::http::router())
        .merge(crate::threads::http::router())
        .merge(crate::keys::http::router())
        .merge(crate::devices::http::router())
        .merge(crate::devices::link::router())
        .merge(crate::files::http::router())
        .merge(crate::resources::http::router())
        .merge(crate::webpush::http::router())
        .merge(crate::email::http::router())
        .merge(crate::webhooks::http::router())
        .merge(crate::webhooks::outgoing::http::router())
        .merge(crate::profiles::http::router())
        .merge(crate::account::http::router())
        .merge(crate::admin::users::router())
        .merge(crate::admin::site::router())
        .merge(crate::commands::http::router())
        .merge(crate::reminders::http::router())
        .merge(crate::bots::http::router())
        .split_for_parts();
    let mut openapi = openapi;
    openapi::complete(&mut openapi);
    let openapi = Arc::new(openapi);
    let request_id = HeaderName::from_static("x-request-id");

    let routes = Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = Arc::clone(&openapi);
                async move { axum::Json(doc) }
            }),
        )
        .route("/healthz", get(healthz))
        .merge(crate::metrics::http::router())
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed);
    realtime
        .apply(routes)
        .layer(DefaultBodyLimit::max(MAX_JSON_BODY))
        .layer(axum::middleware::from_fn(crate::bots::refuse_bots))
        .layer(from_fn_with_state(state.clone(), refuse_cross_site))
        .layer(from_fn_with_state(state.clone(), security_headers))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn(
            crate::metrics::http::count_responses,
        ))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // The path only: query strings may carry tokens.
            tracing::info_span!("request", id, method = %req.method(), path = req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(state)
}

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    status: &'static str,
    database: &'static str,
}

/// Liveness and database reachability, for load balancers and monitors.
async fn healthz(State(state): State<AppState>) -> Response {
    let database = state.db.engine();
    match state.db.ping().await {
        Ok(()) => axum::Json(Health {
            status: "ok",
            database,
        })
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(Health {
                    status: "database unreachable",
                    database,
                }),
            )
                .into_response()
        }
    }
}

/// Unknown `/api/…` paths get a JSON 404; everything else is the web app.
async fn fallback(
    method: Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such API endpoint; see /api/openapi.json",
        );
    }
    if method == Method::GET || method == Method::HEAD {
        let accept_encoding = headers
            .get(axum::http::header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok());
        return crate::web::serve(path, accept_encoding);
    }
    json_error(StatusCode::NOT_FOUND, "not_found", "Not found")
}

async fn method_not_allowed() -> Response {
    json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not accept that method; see /api/openapi.json",
    )
}
