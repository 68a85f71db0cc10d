//! From committed room changes to sockets: pushes `member_joined`,
//! `member_left`, `member_role_changed`, `channel_created`,
//! `channel_updated`, `channel_deleted`, `room_updated`, `room_deleted`
//! (each change that wrote system events followed by `timeline_updated`), and
//! moves sockets in and out of rooms so that a kicked, banned or departed
//! member — on every socket — stops receiving a room's events at once.
//! Membership changes also announce the key rotations of encrypted channels
//! that their transaction recorded (`key_rotation_needed`); a lost
//! announcement loses no rotation. Pushes queued by HTTP handlers on the
//! [`Notifier`](crate::notify::Notifier) (key shares and requests, public
//! key changes, membership logs, resources, file messages) are delivered
//! here. Every push goes through [`deliver`].

use super::names::Room;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use tokio::sync::broadcast::error::RecvError;

use super::deliver::{Via, deliver};
use super::names;
use super::node::Realtime;
use crate::auth::store as users;
use crate::keys;
use crate::keys::store::PendingRotation;
use crate::notify::Notification;
use crate::push::{self, Audience, ServerEvent};
use crate::rooms::events::{Departure, RoomEvent};
use crate::rooms::store as rooms;
use crate::rooms::view::ChannelView;
use crate::state::AppState;
use securechat_crypto::RotationReason;

/// Runs until the buses close (server shutdown): room events, and pushes
/// from HTTP handlers ([`crate::notify`]).
pub async fn run<A: Adapter>(io: SocketIo<A>, state: AppState, realtime: Realtime) {
    let mut events = state.events.subscribe();
    let mut pushes = state.notify.subscribe();
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) => {
                    if let Err(e) = apply(&io, &state, &realtime, event).await {
                        tracing::error!(error = %e, "applying a room event to sockets failed");
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::error!(missed, "socket bridge fell behind room events");
                }
                Err(RecvError::Closed) => return,
            },
            push = pushes.recv() => match push {
                Ok(Notification::Push { event, to }) => {
                    deliver(Via::Server(&io), &event, to).await;
                }
                Ok(Notification::SessionsEnded { user_id }) => {
                    super::sessions::close_ended_of_user(&io, &state, user_id).await;
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::error!(missed, "socket bridge fell behind pushes");
                }
                Err(RecvError::Closed) => return,
            },
        }
    }
}

/// Announces the key rotations a membership change of `room_id` started
/// (recorded in its transaction; this only says who should make them).
async fn announce_rotations<A: Adapter>(
    io: &SocketIo<A>,
    state: &AppState,
    realtime: &Realtime,
    room_id: i64,
    rotations: &[PendingRotation],
    reason: RotationReason,
) -> anyhow::Result<()> {
    if rotations.is_empty() {
        return Ok(());
    }
    let members = rooms::members(&state.db, room_id).await?;
    let ids: Vec<i64> = members.iter().map(|m| m.user_id).collect();
    let online = realtime.online_among(&ids).await;
    let channels = rooms::channels_of_room(&state.db, room_id).await?;
    let announcements =
        keys::rotation::announcements(&channels, &members, rotations, reason.as_str(), |id| {
            online.contains(&id)
        });
    for a in announcements {
        let event = ServerEvent::KeyRotationNeeded(a.payload);
        deliver(Via::Server(io), &event, Audience::Users(a.recipients)).await;
    }
    Ok(())
}

async fn apply<A: Adapter>(
    io: &SocketIo<A>,
    state: &AppState,
    realtime: &Realtime,
    event: RoomEvent,
) -> anyhow::Result<()> {
    match event {
        RoomEvent::MemberJoined {
            room_id,
            user_id,
            role,
            rotations,
        } => {
            io.to(names::user(user_id))
                .join(names::room(room_id))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let username = users::user_by_id(&state.db, user_id)
                .await?
                .map(|u| u.username);
            let body = push::MemberJoined {
                room_id,
                user_id,
                username,
                role,
            };
            to_room(io, room_id, ServerEvent::MemberJoined(body)).await;
            timeline_updated(io, room_id).await;
            let why = RotationReason::MemberAdded;
            announce_rotations(io, state, realtime, room_id, &rotations, why).await?;
        }
        RoomEvent::MemberLeft {
            room_id,
            user_id,
            how,
            rotations,
        } => {
            let mut gone: Vec<Room> = rooms::channels_of_room(&state.db, room_id)
                .await?
                .iter()
                .map(|c| names::channel(c.id))
                .collect();
            gone.push(names::room(room_id));
            io.to(names::user(user_id))
                .leave(gone)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let reason = match how {
                Departure::Left => "left",
                Departure::Kicked => "kicked",
                Departure::Banned => "banned",
            };
            let event = ServerEvent::MemberLeft(push::MemberLeft {
                room_id,
                user_id,
                reason,
            });
            deliver(Via::Server(io), &event, Audience::Room(room_id)).await;
            // They are out of the room's socket room already.
            deliver(Via::Server(io), &event, Audience::Users(vec![user_id])).await;
            timeline_updated(io, room_id).await;
            let why = RotationReason::MemberRemoved;
            announce_rotations(io, state, realtime, room_id, &rotations, why).await?;
        }
        RoomEvent::RoleChanged {
            room_id,
            user_id,
            role,
        } => {
            let body = push::MemberRoleChanged {
                room_id,
                user_id,
                role,
            };
            to_room(io, room_id, ServerEvent::MemberRoleChanged(body)).await;
        }
        RoomEvent::ChannelCreated {
            room_id,
            channel_id,
        }
        | RoomEvent::ChannelUpdated {
            room_id,
            channel_id,
        } => {
            if let Some(channel) = rooms::channel(&state.db, channel_id).await? {
                let body = push::ChannelChanged {
                    room_id,
                    channel: ChannelView::from(&channel),
                };
                let pushed = if matches!(event, RoomEvent::ChannelCreated { .. }) {
                    ServerEvent::ChannelCreated(body)
                } else {
                    ServerEvent::ChannelUpdated(body)
                };
                to_room(io, room_id, pushed).await;
                timeline_updated(io, room_id).await;
            }
        }
        RoomEvent::ChannelDeleted {
            room_id,
            channel_id,
        } => {
            io.within(names::channel(channel_id))
                .leave(names::channel(channel_id))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let body = push::ChannelDeleted {
                room_id,
                channel_id,
            };
            to_room(io, room_id, ServerEvent::ChannelDeleted(body)).await;
        }
        RoomEvent::RoomUpdated { room_id } => {
            if let Some(room) = rooms::room(&state.db, room_id).await? {
                let body = push::RoomUpdated {
                    room_id,
                    name: room.name,
                    description: room.description,
                    is_private: room.is_private,
                    retention_days: room.retention_days,
                };
                to_room(io, room_id, ServerEvent::RoomUpdated(body)).await;
                timeline_updated(io, room_id).await;
            }
        }
        RoomEvent::RoomDeleted {
            room_id,
            channel_ids,
            ..
        } => {
            let body = push::RoomRef { room_id };
            to_room(io, room_id, ServerEvent::RoomDeleted(body)).await;
            let mut gone: Vec<Room> = channel_ids.into_iter().map(names::channel).collect();
            gone.push(names::room(room_id));
            io.within(names::room(room_id))
                .leave(gone)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    Ok(())
}

/// Tells the room's members that its timeline has new system events
/// (written by the change just applied; see `timeline/`).
async fn timeline_updated<A: Adapter>(io: &SocketIo<A>, room_id: i64) {
    let event = ServerEvent::TimelineUpdated(push::RoomRef { room_id });
    to_room(io, room_id, event).await;
}

/// Pushes `event` to every socket of the room's members.
async fn to_room<A: Adapter>(io: &SocketIo<A>, room_id: i64, event: ServerEvent) {
    deliver(Via::Server(io), &event, Audience::Room(room_id)).await;
}
