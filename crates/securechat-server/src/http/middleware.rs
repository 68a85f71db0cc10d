//! Request middleware: refusing cross-site writes, security headers, and
//! turning panics into JSON 500s.

use std::any::Any;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::json_error;
use crate::state::AppState;

/// Refuses state-changing requests that a browser says come from another
/// site.
///
/// This is the CSRF defence: the session cookie is `SameSite=Lax`, bodies
/// must be JSON, and here any non-safe method is refused with 403 when
/// `Sec-Fetch-Site` is `cross-site`/`same-site`, or (for browsers that do not
/// send it) when `Origin` names another host. Requests with neither header
/// come from non-browser clients, which cannot carry a victim's cookie.
/// Same-origin `fetch` calls, like the seed's, pass without a token.
pub async fn refuse_cross_site(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if is_safe(request.method())
        || is_same_origin(
            request.headers(),
            request.uri().authority().map(|a| a.as_str()),
            state.web.public_origin.as_deref(),
        )
    {
        return next.run(request).await;
    }
    tracing::warn!(method = %request.method(), path = request.uri().path(), "refused a cross-site request");
    json_error(
        StatusCode::FORBIDDEN,
        "cross_site_request",
        "Cross-site requests are refused; use the Securechat web app or an API client",
    )
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether the browser's own headers place the request on our origin.
/// `authority` is the request URI's: over HTTP/2 the host travels there
/// (`:authority`) and there is no `Host` header.
pub fn is_same_origin(
    headers: &HeaderMap,
    authority: Option<&str>,
    public_origin: Option<&str>,
) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.to_ascii_lowercase();
    if public_origin == Some(origin.as_str()) {
        return true;
    }
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority)
        .map(str::to_ascii_lowercase);
    matches!((origin_host, host), (Some(a), Some(h)) if a == h)
}

/// Headers every response carries. Pages set their own, fuller CSP first.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    if is_api && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if state.web.https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}

/// The body of a 500 answered after a handler panicked. The panic itself
/// is logged; the connection and every other request carry on.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = detail, "handler panicked");
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal_error",
        "Internal server error; the incident was logged",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn fetch_metadata_decides_first() {
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            None,
            None
        ));
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "none")]),
            None,
            None
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            None,
            None
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            None,
            None
        ));
    }

    #[test]
    fn origin_must_match_host_or_public_url() {
        let same = headers(&[
            ("origin", "http://localhost:5000"),
            ("host", "localhost:5000"),
        ]);
        assert!(is_same_origin(&same, None, None));
        let other = headers(&[
            ("origin", "https://evil.example"),
            ("host", "localhost:5000"),
        ]);
        assert!(!is_same_origin(&other, None, None));
        let null = headers(&[("origin", "null"), ("host", "localhost:5000")]);
        assert!(!is_same_origin(&null, None, None));
        let proxied = headers(&[
            ("origin", "https://chat.example.com"),
            ("host", "10.0.0.2:5000"),
        ]);
        assert!(is_same_origin(
            &proxied,
            None,
            Some("https://chat.example.com")
        ));
        assert!(is_same_origin(&headers(&[]), None, None));
        // HTTP/2: no Host header; the URI's authority names the host.
        let h2 = headers(&[("origin", "https://localhost:5000")]);
        assert!(is_same_origin(&h2, Some("localhost:5000"), None));
        assert!(!is_same_origin(&h2, Some("evil.example"), None));
    }
}
