//! Room events: every membership, role, channel and room change is
//! published here after it is committed. The real-time layer subscribes to
//! push them to sockets (and to drop sockets from channels at once), and
//! announces the key rotations a membership change started.
//!
//! A `broadcast` channel: publishing never blocks a request, and a
//! subscriber that falls behind learns it lagged instead of stalling others.
//! Nothing that must happen depends on an event arriving: a rotation is
//! recorded by the change's own transaction, and an event only announces it.

use tokio::sync::broadcast;

use super::model::Role;
use crate::keys::store::PendingRotation;

/// Why someone is no longer a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    Left,
    Kicked,
    Banned,
}

/// A committed change to a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomEvent {
    /// `rotations`: what the change's transaction started (none when a
    /// room is created: its channels have no key yet).
    MemberJoined {
        room_id: i64,
        user_id: i64,
        role: Role,
        rotations: Vec<PendingRotation>,
    },
    MemberLeft {
        room_id: i64,
        user_id: i64,
        how: Departure,
        rotations: Vec<PendingRotation>,
    },
    RoleChanged {
        room_id: i64,
        user_id: i64,
        role: Role,
    },
    ChannelCreated {
        room_id: i64,
        channel_id: i64,
    },
    ChannelUpdated {
        room_id: i64,
        channel_id: i64,
    },
    ChannelDeleted {
        room_id: i64,
        channel_id: i64,
    },
    RoomUpdated {
        room_id: i64,
    },
    RoomDeleted {
        room_id: i64,
        channel_ids: Vec<i64>,
        member_ids: Vec<i64>,
    },
}

/// Publishes [`RoomEvent`]s to whoever subscribes.
#[derive(Clone)]
pub struct RoomEvents {
    sender: broadcast::Sender<RoomEvent>,
}

impl RoomEvents {
    /// Subscribers that fall more than `capacity` events behind are told so.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        Self { sender }
    }

    /// Publishes an event; with no subscribers it is simply dropped.
    pub fn publish(&self, event: RoomEvent) {
        let _ = self.sender.send(event);
    }

    /// A new subscription, receiving events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<RoomEvent> {
        self.sender.subscribe()
    }
}

impl Default for RoomEvents {
    fn default() -> Self {
        Self::new(1024)
    }
}
