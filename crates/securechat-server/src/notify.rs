//! Pushes to users from code that has no socket handle (HTTP handlers):
//! "send event E with data D to every socket of user U", and "close the
//! sockets of sessions that just ended". The real-time
//! layer subscribes and emits; with no subscriber a push is dropped, which
//! is right: the same data is always also stored and fetchable.

use serde_json::Value;
use tokio::sync::broadcast;

/// What the real-time layer is asked to do.
#[derive(Debug, Clone)]
pub enum Notification {
    /// Emit `event` with `data` to every socket of `user_ids`.
    Emit {
        user_ids: Vec<i64>,
        event: &'static str,
        data: Value,
    },
    /// Some of the user's sessions ended: close their sockets whose session
    /// is no longer valid.
    SessionsEnded { user_id: i64 },
}

/// The push bus.
#[derive(Clone)]
pub struct Notifier {
    sender: broadcast::Sender<Notification>,
}

impl Notifier {
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        Self { sender }
    }

    /// Queues `event` for every socket of `user_ids`.
    pub fn send(&self, user_ids: Vec<i64>, event: &'static str, data: Value) {
        if !user_ids.is_empty() {
            let _ = self.sender.send(Notification::Emit {
                user_ids,
                event,
                data,
            });
        }
    }

    /// Asks for the sockets of ended sessions of `user_id` to be closed.
    pub fn sessions_ended(&self, user_id: i64) {
        let _ = self.sender.send(Notification::SessionsEnded { user_id });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.sender.subscribe()
    }
}

impl Default for Notifier {
    fn default() -> Self {
        Self::new(4096)
    }
}
