//! Web Push straight from the server: notifications that reach people
//! whose Securechat tab is closed, sent to whichever push service their
//! browser names (RFC 8030), encrypted for their browser (RFC 8291) and
//! signed with the server's VAPID key (RFC 8292). No relay of ours or of
//! any vendor sits in between.
//!
//! - [`ece`], [`vapid`]: the cryptography, pure and tested against the RFCs.
//! - [`keys`]: the VAPID key at start-up, the same on every node.
//! - `outbound::guard`: the SSRF guard — which endpoints a push may go to.
//! - [`http`]: the routes (public key, subscriptions, settings).
//! - [`decide`]: whether one person gets a push about one message (pure).
//! - [`payload`]: what a push carries (pure); ids only for encrypted channels.
//! - [`fanout`]: new messages → rows of the push queue, in the background
//!   (and, for people with a verified email address, rows of the email
//!   digest queue: `email::store::pending`).
//! - [`sender`]: the queue → push services: bounded concurrency, leases,
//!   retries; [`request`]: one push request and what its answer means.
//! - [`store`]: the SQL.
//!
//! The message path only hands each new message to [`WebPush::message_stored`],
//! which never waits: deciding, queueing and sending all happen on tasks
//! of their own, on a thread of their own at the lowest priority
//! (`crate::background`), except the queue's writes on SQLite, which hold
//! the writer the message path shares and so run at normal priority, a
//! few times a second at most ([`WebPush::write`]). The queue is a table, so pushes survive a restart; the
//! hand-over itself is in memory, so a crash in the milliseconds between a
//! commit and its fan-out loses those pushes (never the message).

use std::sync::{Mutex, PoisonError};

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::background::Background;
use crate::storage::Db;

use crate::config::allow_hosts::AllowHosts;
use crate::config::push::PushConfig;
use vapid::VapidKey;

pub mod budget;
pub mod decide;
pub mod ece;
pub mod fanout;
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

/// PostgreSQL connections of each of the fan-out and the sender, which run
/// on the background thread with pools of their own
/// (`crate::storage::Db::for_background`); each runs one query at a time.
pub const DB_CONNECTIONS: u32 = 2;

/// A message just committed, as the fan-out needs it.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub message_id: i64,
    pub channel_id: i64,
    pub sender_id: i64,
    pub sender: String,
    /// Plaintext channels' text (`None` in encrypted channels).
    pub text: Option<String>,
    /// For a thread reply kept in its thread (not also sent to the
    /// channel): its root, whose followers hear about it.
    pub thread_root_id: Option<i64>,
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
    /// Where the fan-out and the sender run.
    background: Background,
}

impl WebPush {
    /// Also starts the background thread the fan-out and the sender will
    /// run on.
    pub fn new(vapid: VapidKey, config: &PushConfig) -> std::io::Result<Self> {
        let (new_messages, fanout) = mpsc::channel(FANOUT_QUEUE);
        Ok(Self {
            vapid,
            subject: config.subject.clone(),
            allow_hosts: config.allow_hosts.clone(),
            new_messages,
            fanout: Mutex::new(Some(fanout)),
            queued: Notify::new(),
            background: Background::start("web-push")?,
        })
    }

    /// Runs one of Web Push's tasks on its background thread.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.background.spawn(task)
    }

    /// Runs one of the fan-out's or the sender's writes where it cannot
    /// hold up the message path ([`Background::write`]).
    pub async fn write<T, F>(&self, db: &Db, work: F) -> Result<T, sqlx::Error>
    where
        F: Future<Output = Result<T, sqlx::Error>> + Send + 'static,
        T: Send + 'static,
    {
        self.background.write(db, work).await
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
