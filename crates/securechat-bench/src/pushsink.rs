//! A stand-in push service for the push scenario: the receiving end of
//! RFC 8030 that every subscription of the scenario names, on the port the
//! server under test was told to allow (`PUSH_ALLOW_HOSTS`).
//!
//! It answers each push with 201 at once, as a push service does once it
//! has queued a message, and counts it. It does not decrypt: that the
//! payloads decrypt and the VAPID tokens verify is proven against an
//! independent implementation by the server's own test suite
//! (`tests/push.rs`). Here a push counts only if it has the shape one must
//! have — `Content-Encoding: aes128gcm`, a VAPID `Authorization`, a `TTL`
//! and a body at least as long as the RFC 8188 header plus one record — so
//! a server that sent nothing worth delivering could not score.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand_core::{OsRng, RngCore};
use securechat_client::{PushKeys, PushSubscription};
use tokio::sync::oneshot;

/// RFC 8188's header with a 65-byte key id (salt, record size, id length,
/// id), then at least a padding delimiter and a 16-byte tag.
const MIN_BODY: usize = 16 + 4 + 1 + 65 + 1 + 16;

#[derive(Default)]
struct Counts {
    pushes: AtomicU64,
    malformed: AtomicU64,
    /// When the first and the latest well-formed push arrived.
    span: Mutex<Option<(Instant, Instant)>>,
}

/// The running stand-in and what it has received.
pub struct PushSink {
    addr: SocketAddr,
    counts: Arc<Counts>,
    /// Dropped with the sink: its thread then stops serving and ends.
    _stop: oneshot::Sender<()>,
}

/// What the sink received up to now.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub pushes: u64,
    pub malformed: u64,
    /// From the first well-formed push to the latest.
    pub span: Option<(Instant, Instant)>,
}

impl PushSink {
    /// Serves on `port` of the loopback address, from a thread of its own
    /// at the lowest scheduling priority: it stands for a push service
    /// elsewhere on the internet, so the CPU time it takes must not come
    /// out of the server's under test, nor the generator's that measures
    /// message latency (on a small machine all three share the cores).
    pub async fn start(port: u16) -> Result<Self> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))
            .with_context(|| format!("cannot listen on 127.0.0.1:{port} for the push sink"))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let counts = Arc::new(Counts::default());
        let app = Router::new()
            .route("/push/{user}", post(receive))
            .with_state(Arc::clone(&counts));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let (ready, listening) = oneshot::channel::<std::io::Result<()>>();
        std::thread::Builder::new()
            .name("push-sink".to_owned())
            .spawn(move || {
                let _ = thread_priority::set_current_thread_priority(
                    thread_priority::ThreadPriority::Min,
                );
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let _ = ready.send(Ok(()));
                            listener
                        }
                        Err(e) => {
                            let _ = ready.send(Err(e));
                            return;
                        }
                    };
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = stopped => {}
                    }
                });
            })?;
        listening
            .await
            .context("the push sink's thread ended before listening")??;
        Ok(Self {
            addr,
            counts,
            _stop: stop,
        })
    }

    /// The endpoint of `user_id`'s subscription.
    pub fn endpoint(&self, user_id: i64) -> String {
        endpoint(self.addr.port(), user_id)
    }

    pub fn received(&self) -> Received {
        Received {
            pushes: self.counts.pushes.load(Ordering::Relaxed),
            malformed: self.counts.malformed.load(Ordering::Relaxed),
            span: *self
                .counts
                .span
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// Waits until no push has arrived for `quiet`, at most `limit`.
    pub async fn settle(&self, quiet: Duration, limit: Duration) -> Received {
        let started = Instant::now();
        let mut last = self.received().pushes;
        let mut since = Instant::now();
        while started.elapsed() < limit {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let now = self.received().pushes;
            if now != last {
                last = now;
                since = Instant::now();
            } else if since.elapsed() >= quiet {
                break;
            }
        }
        self.received()
    }
}

/// The endpoint of `user_id`'s subscription at the sink on `port`.
pub fn endpoint(port: u16, user_id: i64) -> String {
    format!("http://127.0.0.1:{port}/push/{user_id}")
}

/// A subscription with real keys (a fresh P-256 key pair and secret): the
/// server encrypts every push for them as it would for a browser.
pub fn subscription(endpoint: String) -> PushSubscription {
    let secret = p256::SecretKey::random(&mut OsRng);
    let point = secret.public_key().to_encoded_point(false);
    let mut auth = [0u8; 16];
    OsRng.fill_bytes(&mut auth);
    PushSubscription {
        endpoint,
        keys: PushKeys {
            p256dh: URL_SAFE_NO_PAD.encode(point.as_bytes()),
            auth: URL_SAFE_NO_PAD.encode(auth),
        },
    }
}

async fn receive(State(counts): State<Arc<Counts>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let has = |name: header::HeaderName, check: fn(&str) -> bool| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(check)
    };
    let well_formed = has(header::CONTENT_ENCODING, |v| v == "aes128gcm")
        && has(header::AUTHORIZATION, |v| v.starts_with("vapid t="))
        && has(header::HeaderName::from_static("ttl"), |v| {
            v.parse::<u64>().is_ok()
        })
        && body.len() >= MIN_BODY;
    if !well_formed {
        counts.malformed.fetch_add(1, Ordering::Relaxed);
        return StatusCode::BAD_REQUEST;
    }
    counts.pushes.fetch_add(1, Ordering::Relaxed);
    let now = Instant::now();
    let mut span = counts.span.lock().unwrap_or_else(PoisonError::into_inner);
    *span = Some(span.map_or((now, now), |(first, _)| (first, now)));
    StatusCode::CREATED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_carry_a_point_and_a_secret() {
        let s = subscription(endpoint(9, 4));
        assert_eq!(s.endpoint, "http://127.0.0.1:9/push/4");
        let point = URL_SAFE_NO_PAD.decode(&s.keys.p256dh).unwrap_or_default();
        assert_eq!(point.len(), 65);
        assert_eq!(point[0], 4, "uncompressed");
        assert!(p256::PublicKey::from_sec1_bytes(&point).is_ok());
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(&s.keys.auth)
                .unwrap_or_default()
                .len(),
            16
        );
    }

    #[tokio::test]
    async fn counts_only_pushes_of_the_right_shape() {
        let sink = PushSink::start(0).await.unwrap_or_else(|e| panic!("{e}"));
        let http = reqwest::Client::new();
        let good = http
            .post(sink.endpoint(1))
            .header("content-encoding", "aes128gcm")
            .header("authorization", "vapid t=x, k=y")
            .header("ttl", "60")
            .body(vec![0u8; MIN_BODY])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(good.status(), 201);
        let bad = http
            .post(sink.endpoint(1))
            .header("content-encoding", "aesgcm")
            .body(vec![0u8; MIN_BODY])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bad.status(), 400);
        let got = sink.received();
        assert_eq!((got.pushes, got.malformed), (1, 1));
        assert!(got.span.is_some());
    }
}
