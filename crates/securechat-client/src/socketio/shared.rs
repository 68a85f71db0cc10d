//! State shared by a connection's handles and its driver task.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tokio::sync::{Notify, oneshot, watch};

use super::event::DisconnectReason;

/// What the driver hands to a caller waiting for an ack.
pub(crate) enum AckReply {
    Args(Vec<Value>),
    /// The server answered with a BINARY_ACK, which is not supported.
    Binary,
}

/// Acks in flight. A plain mutex: it is held only to insert or remove one
/// entry, never across an await.
pub(crate) type Pending = HashMap<u64, oneshot::Sender<AckReply>>;

pub(crate) struct Shared {
    pub socket_id: Option<String>,
    pub engine_sid: String,
    pub max_payload: u64,
    pub next_ack: AtomicU64,
    pending: Mutex<Pending>,
    /// `None` while connected; the reason once the driver has stopped.
    pub state: watch::Sender<Option<DisconnectReason>>,
    /// Asks the driver to close. A signal beside the command queue, so a
    /// close is heard even while the driver waits for a slow event reader
    /// or the queue is full.
    pub close: Notify,
}

impl Shared {
    pub fn new(
        socket_id: Option<String>,
        engine_sid: String,
        max_payload: u64,
        state: watch::Sender<Option<DisconnectReason>>,
    ) -> Self {
        Self {
            socket_id,
            engine_sid,
            max_payload,
            next_ack: AtomicU64::new(0),
            pending: Mutex::new(HashMap::new()),
            state,
            close: Notify::new(),
        }
    }

    /// The pending acks. A panic while holding the lock cannot leave the map
    /// inconsistent (each operation is one insert or remove), so a poisoned
    /// lock is simply taken over.
    pub fn pending(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Why the connection ended, or `TransportClosed` if the driver is
    /// stopping and has not said yet.
    pub fn reason(&self) -> DisconnectReason {
        self.state
            .borrow()
            .clone()
            .unwrap_or(DisconnectReason::TransportClosed)
    }
}
