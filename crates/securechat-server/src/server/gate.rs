//! The connection gate: at most `cap` TCP connections are open at once, and
//! a connection that has not finished a request head yet is the first to go
//! when a new one needs its place.
//!
//! Every connection holds a file descriptor. Without a cap, idle sockets
//! run the process out of descriptors and `accept` fails for everyone,
//! health checks included. A plain cap only moves the problem: whoever
//! holds the slots, idle, locks everyone else out. So when the gate is full
//! it closes the *oldest connection that has never sent a whole request
//! head* (a silent or trickling socket, the slow-loris pattern) and lets the
//! new one in. A connection that has been served at least once is never
//! evicted: its idle time is bounded by the header-read timeout instead.
//! Only when every open connection has been served is the new one refused.
//!
//! An evicted connection keeps its descriptor until its task runs and
//! drops it, which under a burst on a busy machine can lag behind the
//! accepts. So evicted connections are counted until they are gone, and
//! while more than [`Gate::closing_limit`] of them are still closing the
//! gate refuses rather than evicts: descriptors held by connections stay
//! below `cap + cap / 8` however fast sockets arrive.

use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum_server::accept::Accept;
use futures_util::future::BoxFuture;
use futures_util::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tower::Service;

/// How often a full gate is reported in the log, at most.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Shared between the acceptor and every open connection; cheap to clone.
#[derive(Clone)]
pub struct Gate {
    shared: Arc<Shared>,
}

struct Shared {
    cap: usize,
    /// Evicted connections still holding their descriptor, at most.
    closing_limit: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    /// Open connections by age (ids only grow), evicted ones excluded.
    open: BTreeMap<u64, Arc<Flags>>,
    /// Evicted connections whose stream has not been dropped yet.
    closing: usize,
    last_report: Option<Instant>,
}

/// What the gate and one connection share.
#[derive(Default)]
struct Flags {
    /// A complete request head has arrived on this connection.
    served: AtomicBool,
    /// The gate wants this connection closed.
    evicted: AtomicBool,
    /// Woken on eviction, so a connection waiting to read notices at once.
    waker: AtomicWaker,
}

/// What admission decided.
enum Admission {
    In(u64, Arc<Flags>),
    Refused,
}

impl Gate {
    pub fn new(cap: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                cap: cap.max(1),
                closing_limit: (cap / 8).max(1),
                state: Mutex::new(State::default()),
            }),
        }
    }

    /// The most connections open at once.
    pub fn cap(&self) -> usize {
        self.shared.cap
    }

    /// Connections open now.
    #[cfg(test)]
    fn open(&self) -> usize {
        self.lock().open.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent across a panic (plain inserts and
        // removes), so a poisoned lock is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn admit(&self) -> Admission {
        let mut state = self.lock();
        if state.open.len() >= self.shared.cap {
            let victim = if state.closing >= self.shared.closing_limit {
                // Evicting more would only add descriptors still closing.
                None
            } else {
                state
                    .open
                    .iter()
                    .find(|(_, flags)| !flags.served.load(Ordering::Acquire))
                    .map(|(id, _)| *id)
            };
            match victim.and_then(|id| state.open.remove(&id)) {
                Some(flags) => {
                    flags.evicted.store(true, Ordering::Release);
                    state.closing += 1;
                    flags.waker.wake();
                }
                None => {
                    let now = Instant::now();
                    if state
                        .last_report
                        .is_none_or(|at| now.duration_since(at) >= REPORT_EVERY)
                    {
                        state.last_report = Some(now);
                        tracing::warn!(
                            cap = self.shared.cap,
                            "connection limit reached; refusing new connections \
                             (MAX_CONNECTIONS, or raise the open-file limit)"
                        );
                    }
                    return Admission::Refused;
                }
            }
        }
        let id = state.next_id;
        state.next_id += 1;
        let flags = Arc::new(Flags::default());
        state.open.insert(id, Arc::clone(&flags));
        Admission::In(id, flags)
    }

    /// A connection's stream is dropped: its place, or its count among the
    /// closing, is free again.
    fn release(&self, id: u64) {
        let mut state = self.lock();
        // Not listed any more: it was evicted (under this lock) and counted
        // among the closing.
        if state.open.remove(&id).is_none() {
            state.closing = state.closing.saturating_sub(1);
        }
    }
}

/// The acceptor that puts [`Gate`] in front of another one (plain TCP, or
/// rustls, whose handshake then runs on a gated stream).
#[derive(Clone)]
pub struct GateAcceptor<A> {
    gate: Gate,
    inner: A,
}

impl<A> GateAcceptor<A> {
    pub fn new(gate: Gate, inner: A) -> Self {
        Self { gate, inner }
    }
}

/// The connection's service, marking the connection served when hyper
/// hands it a parsed request.
#[derive(Clone)]
pub struct MarkServed<S> {
    inner: S,
    flags: Arc<Flags>,
}

impl<S: Service<R>, R> Service<R> for MarkServed<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        self.flags.served.store(true, Ordering::Release);
        self.inner.call(request)
    }
}

impl<I, S, A> Accept<I, S> for GateAcceptor<A>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Send + 'static,
    A: Accept<Gated<I>, MarkServed<S>> + Clone + Send + Sync + 'static,
    A::Future: Send,
{
    type Stream = A::Stream;
    type Service = A::Service;
    type Future = BoxFuture<'static, io::Result<(Self::Stream, Self::Service)>>;

    fn accept(&self, stream: I, service: S) -> Self::Future {
        // The place is held by a `Slot` from this moment, so a future that
        // is dropped unpolled (shutdown) still gives it back.
        let (slot, flags) = match self.gate.admit() {
            Admission::In(id, flags) => (
                Slot {
                    gate: self.gate.clone(),
                    id,
                },
                flags,
            ),
            Admission::Refused => {
                // Dropping the stream here closes it and frees its
                // descriptor at once.
                drop(stream);
                return Box::pin(async { Err(io::Error::other("connection limit reached")) });
            }
        };
        let inner = self.inner.clone();
        Box::pin(async move {
            let service = MarkServed {
                inner: service,
                flags: Arc::clone(&flags),
            };
            let gated = Gated {
                inner: stream,
                flags,
                _slot: slot,
            };
            inner.accept(gated, service).await
        })
    }
}

/// Gives the connection's place back when it closes.
struct Slot {
    gate: Gate,
    id: u64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gate.release(self.id);
    }
}

/// A stream that holds a place in the gate and fails once evicted.
pub struct Gated<I> {
    inner: I,
    flags: Arc<Flags>,
    _slot: Slot,
}

impl<I> Gated<I> {
    fn check(&self, cx: &Context<'_>) -> io::Result<()> {
        // Register before looking, so an eviction between the two wakes us.
        self.flags.waker.register(cx.waker());
        if self.flags.evicted.load(Ordering::Acquire) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "closed to make room for a new connection",
            ));
        }
        Ok(())
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Gated<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Err(e) = self.check(cx) {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Gated<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(gate: &Gate) -> (u64, Arc<Flags>) {
        match gate.admit() {
            Admission::In(id, flags) => (id, flags),
            Admission::Refused => panic!("refused with {} of {} open", gate.open(), gate.cap()),
        }
    }

    #[test]
    fn a_full_gate_evicts_the_oldest_connection_that_was_never_served() {
        let gate = Gate::new(3);
        let (_, served) = admitted(&gate);
        served.served.store(true, Ordering::Release);
        let (_, oldest_silent) = admitted(&gate);
        let (_, newer_silent) = admitted(&gate);
        let (_, _fourth) = admitted(&gate);
        assert!(oldest_silent.evicted.load(Ordering::Acquire));
        assert!(!newer_silent.evicted.load(Ordering::Acquire));
        assert!(!served.evicted.load(Ordering::Acquire));
        assert_eq!(gate.open(), 3);
    }

    #[test]
    fn a_gate_of_served_connections_refuses_the_next_one() {
        let gate = Gate::new(2);
        for _ in 0..2 {
            let (_, flags) = admitted(&gate);
            flags.served.store(true, Ordering::Release);
        }
        assert!(matches!(gate.admit(), Admission::Refused));
        let (id, _) = {
            let state = gate.lock();
            let (id, flags) = state
                .open
                .iter()
                .next()
                .map(|(i, f)| (*i, Arc::clone(f)))
                .unwrap();
            (id, flags)
        };
        gate.release(id);
        assert!(matches!(gate.admit(), Admission::In(..)));
    }

    #[test]
    fn evicted_connections_count_until_their_stream_is_dropped() {
        let gate = Gate::new(16);
        let limit = gate.shared.closing_limit;
        assert_eq!(limit, 2);
        let mut silent = Vec::new();
        for _ in 0..16 {
            silent.push(admitted(&gate));
        }
        // Two evictions while nothing has closed yet, then refusals.
        for _ in 0..limit {
            silent.push(admitted(&gate));
        }
        assert!(matches!(gate.admit(), Admission::Refused));
        assert_eq!(gate.lock().closing, limit);
        // The first evicted stream drops: one more may come in.
        let (id, flags) = &silent[0];
        assert!(flags.evicted.load(Ordering::Acquire));
        gate.release(*id);
        assert!(matches!(gate.admit(), Admission::In(..)));
        assert_eq!(gate.open(), 16);
    }
}
