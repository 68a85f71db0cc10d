//! The web UI, built by Vite into `web/dist` and embedded in the binary.
//!
//! Unknown paths without a file extension get `index.html`, so the
//! single-page app's client-side routes survive a reload. Pages carry the
//! strict Content-Security-Policy: scripts only from this origin, plus
//! `wasm-unsafe-eval` for the WebAssembly crypto module, nothing inline.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Assets;

/// The policy for HTML pages.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Answers a GET for `path` from the embedded assets.
pub fn serve(path: &str) -> Response {
    let file = path.trim_start_matches('/');
    if let Some(asset) = Assets::get(file).filter(|_| !file.is_empty()) {
        return asset_response(file, asset);
    }
    // `/`, `/login`, `/rooms/3`: a route of the single-page app.
    let last = file.rsplit('/').next().unwrap_or(file);
    if !last.contains('.') {
        return match Assets::get("index.html") {
            Some(index) => asset_response("index.html", index),
            None => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The web UI is not built into this binary; build it with `make run` \
                 (or `npm run build` in web/ before compiling).",
            )
                .into_response(),
        };
    }
    (StatusCode::NOT_FOUND, "Not found").into_response()
}

fn asset_response(name: &str, asset: rust_embed::EmbeddedFile) -> Response {
    let mime = asset.metadata.mimetype();
    let mut response = asset.data.into_owned().into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // Vite puts content hashes in the names under assets/: cache forever.
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if mime.starts_with("text/html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        );
    }
    response
}
