//! How to reach a Socket.IO server: URL, auth payload, upgrade headers,
//! timeouts and per-connection buffer sizes.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use url::Url;

use crate::error::{Error, Result};

/// The path the server mounts Socket.IO on, below its base URL.
const SOCKET_IO_PATH: &str = "socket.io/";

/// Options for [`Socket::connect`](super::Socket::connect).
///
/// Defaults suit many connections per process: small websocket buffers
/// (the tungstenite default eagerly allocates 128 KiB per connection for
/// reading alone), a bounded event queue, a 10 s connect timeout.
#[derive(Clone)]
pub struct SocketOptions {
    pub(crate) url: Url,
    pub(crate) auth: Option<Value>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) connect_timeout: Duration,
    pub(crate) local_addr: Option<IpAddr>,
    pub(crate) event_buffer: usize,
    pub(crate) command_buffer: usize,
    pub(crate) websocket: WebSocketConfig,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
}

impl SocketOptions {
    /// Options for the server at `server_url` (`http`, `https`, `ws` or
    /// `wss`, optionally with a path prefix). Socket.IO's `socket.io/` path
    /// and the `EIO=4&transport=websocket` query are added here.
    pub fn new(server_url: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: server_url.to_owned(),
            reason: reason.to_owned(),
        };
        let mut url = Url::parse(server_url).map_err(|e| invalid(&e.to_string()))?;
        let scheme = match url.scheme() {
            "http" | "ws" => "ws",
            "https" | "wss" => "wss",
            _ => return Err(invalid("the scheme must be http, https, ws or wss")),
        };
        if url.host_str().is_none() {
            return Err(invalid("no host"));
        }
        url.set_scheme(scheme)
            .map_err(|()| invalid("cannot change the scheme"))?;
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        if !url.path().ends_with(SOCKET_IO_PATH) {
            url = url
                .join(SOCKET_IO_PATH)
                .map_err(|e| invalid(&e.to_string()))?;
        }
        url.set_fragment(None);
        url.set_query(Some("EIO=4&transport=websocket"));
        Ok(Self {
            url,
            auth: None,
            headers: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            local_addr: None,
            event_buffer: 256,
            command_buffer: 64,
            websocket: WebSocketConfig::default()
                .read_buffer_size(8 * 1024)
                .write_buffer_size(8 * 1024),
            tls: None,
        })
    }

    /// The websocket URL that will be dialled.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The auth payload of the `CONNECT` packet.
    #[must_use]
    pub fn auth(mut self, auth: Value) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Authenticates with a Securechat session token: auth `{"token": …}`.
    #[must_use]
    pub fn token(self, token: &str) -> Self {
        self.auth(json!({ "token": token }))
    }

    /// Adds a header to the websocket upgrade request (`Cookie`, `Origin` …).
    pub fn header(mut self, name: &str, value: &str) -> Result<Self> {
        let invalid = || Error::InvalidHeader {
            name: name.to_owned(),
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
        self.headers.push((name, value));
        Ok(self)
    }

    /// How long the TCP, TLS, websocket and Socket.IO handshakes may take
    /// together.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The local address to connect from. A load generator spreads its
    /// connections over `127.0.0.x` to get past one address's ephemeral ports.
    #[must_use]
    pub fn local_addr(mut self, address: IpAddr) -> Self {
        self.local_addr = Some(address);
        self
    }

    /// How many received events may wait for the reader. When full, the
    /// connection stops reading (back-pressure reaches the server) rather
    /// than buffering without bound.
    #[must_use]
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.event_buffer = events.max(1);
        self
    }

    /// The websocket's buffer sizes and message limits.
    #[must_use]
    pub fn websocket_config(mut self, config: WebSocketConfig) -> Self {
        self.websocket = config;
        self
    }

    /// TLS settings for `wss://` (by default, the Mozilla roots from
    /// `webpki-roots`), e.g. to trust a test certificate.
    #[must_use]
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }
}

/// Auth payloads and header values carry tokens and cookies: never print them.
impl fmt::Debug for SocketOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("SocketOptions")
            .field("url", &self.url.as_str())
            .field("auth", &self.auth.as_ref().map(|_| "<redacted>"))
            .field("headers", &headers)
            .field("connect_timeout", &self.connect_timeout)
            .field("local_addr", &self.local_addr)
            .field("event_buffer", &self.event_buffer)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(base: &str) -> String {
        SocketOptions::new(base).unwrap().url().to_string()
    }

    #[test]
    fn builds_the_websocket_url() {
        assert_eq!(
            url("http://127.0.0.1:5000"),
            "ws://127.0.0.1:5000/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            url("https://chat.example.com/team/"),
            "wss://chat.example.com/team/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            url("ws://h:1/socket.io/?x=1#f"),
            "ws://h:1/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            url("wss://h/prefix"),
            "wss://h/prefix/socket.io/?EIO=4&transport=websocket"
        );
    }

    #[test]
    fn rejects_unusable_urls() {
        assert!(matches!(
            SocketOptions::new("ftp://h/"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(matches!(
            SocketOptions::new("not a url"),
            Err(Error::InvalidUrl { .. })
        ));
    }

    #[test]
    fn rejects_invalid_headers_and_hides_secrets_in_debug() {
        let options = SocketOptions::new("http://h").unwrap();
        assert!(matches!(
            options.clone().header("Bad Name", "x"),
            Err(Error::InvalidHeader { .. })
        ));
        assert!(matches!(
            options.clone().header("Cookie", "a\nb"),
            Err(Error::InvalidHeader { .. })
        ));
        let options = options
            .token("secret-token")
            .header("Cookie", "session=secret-cookie")
            .unwrap();
        let debug = format!("{options:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(debug.contains("cookie"), "{debug}");
    }
}
