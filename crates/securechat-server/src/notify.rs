//! Pushes from code that has no socket handle (HTTP handlers): "send this
//! [`ServerEvent`] to this [`Audience`]", and "close the sockets of
//! sessions that just ended". The real-time
//! layer subscribes and emits; with no subscriber a push is dropped, which
//! is right: the same data is always also stored and fetchable.

use tokio::sync::broadcast;

use crate::push::{Audience, ServerEvent};

/// What the real-time layer is asked to do.
#[derive(Debug, Clone)]
pub enum Notification {
    /// Push `event` to `to` (never a relative audience: there is no
    /// acting socket). Boxed: events are much larger than the other
    /// variant, and the bus stores every notification at that size.
    Push {
        event: Box<ServerEvent>,
        to: Audience,
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

    /// Queues `event` for `to`. An empty list of users or rooms is no one.
    pub fn push(&self, event: ServerEvent, to: Audience) {
        let no_one = match &to {
            Audience::Users(ids) | Audience::Rooms(ids) => ids.is_empty(),
            _ => false,
        };
        if !no_one {
            let _ = self.sender.send(Notification::Push {
                event: Box::new(event),
                to,
            });
        }
    }

    /// Queues `event` for every socket of `user_ids`.
    pub fn to_users(&self, user_ids: Vec<i64>, event: ServerEvent) {
        self.push(event, Audience::Users(user_ids));
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
