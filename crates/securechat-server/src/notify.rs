//! Pushes to users from code that has no socket handle (HTTP handlers):
//! "send event E with data D to every socket of user U". The real-time
//! layer subscribes and emits; with no subscriber a push is dropped, which
//! is right: the same data is always also stored and fetchable.

use serde_json::Value;
use tokio::sync::broadcast;

/// One push to the sockets of some users.
#[derive(Debug, Clone)]
pub struct Notification {
    pub user_ids: Vec<i64>,
    pub event: &'static str,
    pub data: Value,
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
            let _ = self.sender.send(Notification {
                user_ids,
                event,
                data,
            });
        }
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
