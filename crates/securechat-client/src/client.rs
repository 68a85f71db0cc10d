//! `Client`: the HTTP core every API module builds on.
//!
//! It knows the base URL, the session token and the response envelope
//! (`{success: true, ...}` or `{success: false, message, code}` with a 4xx or
//! 5xx status). Endpoint modules (`auth.rs` today; `rooms.rs`,
//! `messages.rs` … as the server grows them) are `impl Client` blocks that
//! call [`Client::call`] with a method, a path and a body type: adding one
//! changes nothing here.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{ApiError, Error, Result};
use crate::socketio::{EventStream, Socket, SocketOptions};
use crate::token::SessionToken;

/// A connection to one Securechat server, as one user (or nobody yet).
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<SessionToken>,
    /// The password of the last login, in memory only: a backup passphrase
    /// equal to it is refused.
    pub(crate) login_password: Option<crate::token::Secret>,
}

/// Whether a request carries the session token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// Register, login: sent without a token even when one is held.
    None,
    /// Fails with [`Error::NotLoggedIn`] before any request if no token is held.
    Required,
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://localhost:5000`).
    pub fn new(base_url: &str) -> Result<Self> {
        Self::with_http_client(base_url, reqwest::Client::new())
    }

    /// Like [`Client::new`], sharing `http`'s connection pool and settings
    /// (many users in one process, custom TLS roots, timeouts).
    pub fn with_http_client(base_url: &str, http: reqwest::Client) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if base.host_str().is_none() {
            return Err(invalid("no host"));
        }
        // Endpoint paths are joined relative to the base, so a prefix such as
        // `https://example.com/chat` must end in a slash to be kept.
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        Ok(Self {
            http,
            base,
            token: None,
            login_password: None,
        })
    }

    /// Resumes a session saved earlier.
    #[must_use]
    pub fn with_token(mut self, token: SessionToken) -> Self {
        self.token = Some(token);
        self
    }

    /// A client signed in as a bot with its API token (`scb_…`, shown once
    /// when a room admin created the bot): no password, no login; the
    /// token reaches only the bot's rooms.
    pub fn bot(base_url: &str, token: &str) -> Result<Self> {
        Ok(Self::new(base_url)?.with_token(SessionToken::new(token)))
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The session token, once logged in.
    pub fn token(&self) -> Option<&SessionToken> {
        self.token.as_ref()
    }

    pub(crate) fn set_token(&mut self, token: Option<SessionToken>) {
        self.token = token;
    }

    /// Socket.IO options for this server, authenticated with the session
    /// token, to adjust before [`Socket::connect`].
    pub fn socket_options(&self) -> Result<SocketOptions> {
        let token = self.token.as_ref().ok_or(Error::NotLoggedIn)?;
        Ok(SocketOptions::new(self.base.as_str())?.token(token.expose()))
    }

    /// Opens the real-time connection as the logged-in user.
    pub async fn socket(&self) -> Result<(Socket, EventStream)> {
        Socket::connect(self.socket_options()?).await
    }

    /// `GET path` as the logged-in user.
    pub(crate) async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call::<(), T>(Method::GET, path, Auth::Required, None)
            .await
    }

    /// `POST path` with an optional JSON body, as the logged-in user.
    pub(crate) async fn post<B, T>(&self, path: &str, body: Option<&B>) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        self.call(Method::POST, path, Auth::Required, body).await
    }

    /// Sends one API request and decodes the success body as `T`.
    ///
    /// `path` is relative to the base URL, without a leading slash
    /// (`"api/auth/me"`). `T` describes the fields next to `success`.
    pub(crate) async fn call<B, T>(
        &self,
        method: Method,
        path: &str,
        auth: Auth,
        body: Option<&B>,
    ) -> Result<T>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let url = self.base.join(path).map_err(|e| Error::InvalidUrl {
            url: format!("{}{path}", self.base),
            reason: e.to_string(),
        })?;
        let mut request = self.http.request(method, url);
        if auth == Auth::Required {
            let token = self.token.as_ref().ok_or(Error::NotLoggedIn)?;
            request = request.bearer_auth(token.expose());
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        let bytes = response.bytes().await?;
        decode(status, retry_after, &bytes)
    }
}

/// `path?key=value&…`, percent-encoded; empty values are left out.
pub(crate) fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs.iter().filter(|(_, value)| !value.is_empty()) {
        query.append_pair(key, value);
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// The success envelope: `success` plus the endpoint's own fields.
#[derive(serde::Deserialize)]
struct Envelope<T> {
    success: bool,
    #[serde(flatten)]
    data: T,
}

/// Bodies that carry nothing but `success` (extra fields are ignored).
#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

/// The error envelope.
#[derive(serde::Deserialize)]
struct ErrorBody {
    message: String,
    code: String,
}

/// Turns a response into `T` or the error it reports.
fn decode<T: DeserializeOwned>(
    status: StatusCode,
    retry_after: Option<Duration>,
    bytes: &[u8],
) -> Result<T> {
    let api_error = |body: ErrorBody| {
        Error::Api(ApiError {
            status: status.as_u16(),
            code: body.code,
            message: body.message,
            retry_after,
        })
    };
    let unexpected = |detail: String| Error::UnexpectedResponse {
        status: status.as_u16(),
        detail,
    };
    if !status.is_success() {
        return match serde_json::from_slice::<ErrorBody>(bytes) {
            Ok(body) => Err(api_error(body)),
            Err(_) => Err(unexpected(excerpt(bytes))),
        };
    }
    let envelope: Envelope<T> = serde_json::from_slice(bytes)
        .map_err(|e| unexpected(format!("{e}: {}", excerpt(bytes))))?;
    if envelope.success {
        Ok(envelope.data)
    } else {
        // A 2xx saying `success: false` is still a refusal.
        serde_json::from_slice::<ErrorBody>(bytes).map_or_else(
            |_| Err(unexpected(excerpt(bytes))),
            |body| Err(api_error(body)),
        )
    }
}

/// The start of a body, for error messages.
fn excerpt(bytes: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(bytes);
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.into_owned(),
    }
}

/// `Retry-After` in seconds (the server never sends the date form).
fn retry_after(headers: &header::HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Thing {
        id: i64,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Nothing {}

    #[test]
    fn decodes_success_bodies() {
        let thing: Thing = decode(StatusCode::OK, None, br#"{"success":true,"id":4}"#).unwrap();
        assert_eq!(thing, Thing { id: 4 });
        let nothing: Nothing = decode(StatusCode::OK, None, br#"{"success":true}"#).unwrap();
        assert_eq!(nothing, Nothing {});
    }

    #[test]
    fn decodes_error_envelopes_with_status_code_and_retry_after() {
        let error = decode::<Nothing>(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(30)),
            br#"{"success":false,"message":"Too many attempts","code":"too_many_attempts"}"#,
        )
        .unwrap_err();
        let Error::Api(api) = error else {
            panic!("expected an API error, got {error:?}");
        };
        assert_eq!(api.status, 429);
        assert_eq!(api.code, "too_many_attempts");
        assert_eq!(api.message, "Too many attempts");
        assert_eq!(api.retry_after, Some(Duration::from_secs(30)));
    }

    #[test]
    fn a_2xx_with_success_false_is_an_api_error() {
        let error = decode::<Nothing>(
            StatusCode::OK,
            None,
            br#"{"success":false,"message":"no","code":"nope"}"#,
        )
        .unwrap_err();
        assert_eq!(error.code(), Some("nope"));
        assert_eq!(error.status(), Some(200));
    }

    #[test]
    fn other_bodies_are_unexpected_responses() {
        let error = decode::<Nothing>(StatusCode::BAD_GATEWAY, None, b"<html>bad gateway</html>")
            .unwrap_err();
        assert!(
            matches!(&error, Error::UnexpectedResponse { status: 502, detail } if detail.contains("bad gateway")),
            "{error:?}"
        );
        let error = decode::<Thing>(StatusCode::OK, None, br#"{"success":true}"#).unwrap_err();
        assert!(
            matches!(error, Error::UnexpectedResponse { status: 200, .. }),
            "{error:?}"
        );
        let long = "é".repeat(500);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), 201);
    }

    #[test]
    fn queries_are_encoded_and_empty_values_dropped() {
        assert_eq!(with_query("api/users", &[("q", "")]), "api/users");
        assert_eq!(
            with_query("api/users", &[("q", "a b&c"), ("limit", "5")]),
            "api/users?q=a+b%26c&limit=5"
        );
    }

    #[test]
    fn base_urls_keep_their_prefix() {
        let client = Client::new("https://example.com/chat?x=1").unwrap();
        assert_eq!(client.base_url().as_str(), "https://example.com/chat/");
        assert_eq!(
            client.base_url().join("api/auth/me").unwrap().as_str(),
            "https://example.com/chat/api/auth/me"
        );
        assert!(matches!(
            Client::new("ws://h"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(matches!(Client::new("nope"), Err(Error::InvalidUrl { .. })));
    }

    #[test]
    fn socket_options_need_a_session() {
        let client = Client::new("http://127.0.0.1:5000").unwrap();
        assert!(matches!(client.socket_options(), Err(Error::NotLoggedIn)));
        let client = client.with_token(SessionToken::new("t"));
        assert_eq!(
            client.socket_options().unwrap().url().as_str(),
            "ws://127.0.0.1:5000/socket.io/?EIO=4&transport=websocket"
        );
    }
}
