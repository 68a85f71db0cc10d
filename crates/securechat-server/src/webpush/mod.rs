//! Web Push straight from the server: notifications that reach people
//! whose Securechat tab is closed, sent to whichever push service their
//! browser names (RFC 8030), encrypted for their browser (RFC 8291) and
//! signed with the server's VAPID key (RFC 8292). No relay of ours or of
//! any vendor sits in between.
//!
//! - [`ece`], [`vapid`]: the cryptography, pure and tested against the RFCs.
//! - [`keys`]: the VAPID key at start-up, the same on every node.
//! - [`guard`]: the SSRF guard — which endpoints a push may go to.
//! - [`http`]: the routes (public key, subscriptions, settings).
//! - [`decide`]: whether one person gets a push about one message (pure).
//! - [`payload`]: what a push carries (pure); ids only for encrypted channels.
//! - [`fanout`]: new messages → rows of the push queue, in the background.
//! - [`sender`]: the queue → push services: bounded concurrency, leases,
//!   retries; [`request`]: one push request and what its answer means.
//! - [`store`]: the SQL.
//!
//! The message path only hands each new message to [`WebPush::message_stored`],
//! which never waits: deciding, queueing and sending all happen on tasks
//! of their own. The queue is a table, so pushes survive a restart; the
//! hand-over itself is in memory, so a crash in the milliseconds between a
//! commit and its fan-out loses those pushes (never the message).

use std::sync::{Mutex, PoisonError};

use tokio::sync::{Notify, mpsc};

use crate::config::push::{AllowHosts, PushConfig};
use vapid::VapidKey;

pub mod decide;
pub mod ece;
pub mod fanout;
pub mod guard;
pub mod http;
pub mod keys;
pub mod payload;
pub mod request;
pub mod sender;
pub mod store;
pub mod vapid;

/// New messages waiting for the fan-out task before further ones are
/// dropped (with a warning): pushes are a courtesy, the message is stored.
const FANOUT_QUEUE: usize = 2048;

/// A message just committed, as the fan-out needs it.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub message_id: i64,
    pub channel_id: i64,
    pub sender_id: i64,
    pub sender: String,
    /// Plaintext channels' text (`None` in encrypted channels).
    pub text: Option<String>,
}

/// This node's Web Push: the key, the settings, the hand-over from the
/// message path, and the bell that wakes the sender.
pub struct WebPush {
    pub vapid: VapidKey,
    /// `VAPID_SUBJECT`.
    pub subject: String,
    /// `PUSH_ALLOW_HOSTS`.
    pub allow_hosts: AllowHosts,
    new_messages: mpsc::Sender<NewMessage>,
    fanout: Mutex<Option<mpsc::Receiver<NewMessage>>>,
    /// Rung when rows were queued, so the sender need not wait for its poll.
    pub queued: Notify,
}

impl WebPush {
    pub fn new(vapid: VapidKey, config: &PushConfig) -> Self {
        let (new_messages, fanout) = mpsc::channel(FANOUT_QUEUE);
        Self {
            vapid,
            subject: config.subject.clone(),
            allow_hosts: config.allow_hosts.clone(),
            new_messages,
            fanout: Mutex::new(Some(fanout)),
            queued: Notify::new(),
        }
    }

    /// Hands a committed message to the fan-out task without waiting.
    pub fn message_stored(&self, message: NewMessage) {
        if let Err(mpsc::error::TrySendError::Full(_)) = self.new_messages.try_send(message) {
            tracing::warn!("web push fan-out is behind; pushes about a message were skipped");
        }
    }

    /// The fan-out's end of the hand-over, once (for [`fanout::run`]).
    pub fn take_fanout(&self) -> Option<mpsc::Receiver<NewMessage>> {
        self.fanout
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}
