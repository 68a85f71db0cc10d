//! The web UI, built by Vite into `web/dist` and embedded in the binary.
//!
//! Unknown paths without a file extension get `index.html`, so the
//! single-page app's client-side routes survive a reload. Pages carry the
//! strict Content-Security-Policy: scripts only from this origin, plus
//! `wasm-unsafe-eval` for the WebAssembly crypto module, nothing inline.
//!
//! The build writes a Brotli and a gzip copy beside each text and WebAssembly
//! file (`web/vite.config.ts`); a browser that accepts one gets it, so the
//! app's first load moves about a quarter of the bytes, with no compression
//! work per request.

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

/// The policy of the service worker (web/src/sw/sw.ts), which a worker
/// takes from its own script's response: it fetches the app's files to
/// cache them (`connect-src`) and may run the E2EE core's WebAssembly.
pub const WORKER_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self'; object-src 'none'; base-uri 'none'";

/// The service worker's file in the build.
const SERVICE_WORKER: &str = "sw.js";

/// The precompressed copies the build writes, best first: (suffix, encoding).
const ENCODINGS: [(&str, &str); 2] = [(".br", "br"), (".gz", "gzip")];

/// Whether an `Accept-Encoding` header value accepts `coding` (not `;q=0`).
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    accept_encoding.split(',').any(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        name.eq_ignore_ascii_case(coding) && !refused
    })
}

/// Answers a GET for `path` from the embedded assets; `accept_encoding` is
/// the request's `Accept-Encoding` header, if any.
pub fn serve(path: &str, accept_encoding: Option<&str>) -> Response {
    let file = path.trim_start_matches('/');
    if let Some(asset) = Assets::get(file).filter(|_| !file.is_empty()) {
        return asset_response(file, asset, accept_encoding);
    }
    // `/`, `/login`, `/rooms/3`: a route of the single-page app.
    let last = file.rsplit('/').next().unwrap_or(file);
    if !last.contains('.') {
        return match Assets::get("index.html") {
            Some(index) => asset_response("index.html", index, accept_encoding),
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

fn asset_response(
    name: &str,
    asset: rust_embed::EmbeddedFile,
    accept_encoding: Option<&str>,
) -> Response {
    let mime = asset.metadata.mimetype().to_owned();
    let compressed = ENCODINGS.iter().find_map(|(suffix, coding)| {
        accept_encoding
            .filter(|accept| accepts(accept, coding))
            .and_then(|_| Assets::get(&format!("{name}{suffix}")))
            .map(|copy| (copy, *coding))
    });
    let mut response = match compressed {
        Some((copy, coding)) => {
            let mut response = copy.data.into_owned().into_response();
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
            response
        }
        None => asset.data.into_owned().into_response(),
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // Caches keep the copy for each encoding apart.
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
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
    } else if name == SERVICE_WORKER {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(WORKER_CSP),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::accepts;

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        let chrome = "gzip, deflate, br, zstd";
        assert!(accepts(chrome, "br"));
        assert!(accepts(chrome, "gzip"));
        assert!(accepts("GZIP;q=0.5", "gzip"));
        assert!(!accepts("gzip;q=0, br", "gzip"));
        assert!(!accepts("identity", "br"));
        assert!(!accepts("", "gzip"));
        // A coding is matched whole, not as a prefix.
        assert!(!accepts("brotli", "br"));
    }
}
