//! The one way an event reaches sockets: [`deliver`] sends a
//! [`ServerEvent`] to an [`Audience`], through the adapter (so, in a
//! cluster, on every node).

use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::socket::RemoteSocket;

use super::names::{self, Room};
use crate::push::{Audience, ServerEvent};

/// Who pushes: the server (the bridge, presence, session closing), or a
/// socket acting in a handler, which relative audiences are counted from.
pub enum Via<'a, A: Adapter> {
    Server(&'a SocketIo<A>),
    Socket(&'a SocketRef<A>),
    /// A socket on any node, as `fetch_sockets` returns it: only [`Audience::Me`].
    /// Its emits go the way its `disconnect` goes, so an event sent before a
    /// disconnect arrives before it.
    Remote(&'a RemoteSocket<A>),
}

/// Where an audience is, in socket rooms.
enum Target {
    /// Every socket in any of these rooms.
    In(Vec<Room>),
    /// Every socket in any of these rooms but the acting one.
    InButMe(Vec<Room>),
    /// The acting socket.
    Me,
}

fn target(to: &Audience) -> Target {
    match to {
        Audience::Users(ids) => Target::In(ids.iter().map(|&id| names::user(id)).collect()),
        Audience::Room(id) => Target::In(vec![names::room(*id)]),
        Audience::Rooms(ids) => Target::In(ids.iter().map(|&id| names::room(id)).collect()),
        Audience::Channel(id) => Target::In(vec![names::channel(*id)]),
        Audience::Me => Target::Me,
        Audience::OthersInChannel(id) => Target::InButMe(vec![names::channel(*id)]),
        Audience::MyOtherSockets(id) => Target::InButMe(vec![names::user(*id)]),
        Audience::OthersInRooms(ids) => {
            Target::InButMe(ids.iter().map(|&id| names::room(id)).collect())
        }
    }
}

/// Sends `event` to `to`. A failure is logged: every pushed fact is also
/// stored and fetchable.
pub async fn deliver<A: Adapter>(via: Via<'_, A>, event: &ServerEvent, to: Audience) {
    let name = event.name();
    let result = match (via, target(&to)) {
        // No rooms would mean every socket.
        (_, Target::In(rooms) | Target::InButMe(rooms)) if rooms.is_empty() => Ok(()),
        (Via::Server(io), Target::In(rooms)) => io
            .to(rooms)
            .emit(name, event)
            .await
            .map_err(|e| e.to_string()),
        (Via::Server(_), Target::InButMe(_) | Target::Me) => {
            Err(format!("{to:?} needs an acting socket"))
        }
        (Via::Socket(socket), Target::In(rooms)) => socket
            .within(rooms)
            .emit(name, event)
            .await
            .map_err(|e| e.to_string()),
        (Via::Socket(socket), Target::InButMe(rooms)) => socket
            .to(rooms)
            .emit(name, event)
            .await
            .map_err(|e| e.to_string()),
        (Via::Socket(socket), Target::Me) => socket.emit(name, event).map_err(|e| e.to_string()),
        (Via::Remote(socket), Target::Me) => {
            socket.emit(name, event).await.map_err(|e| e.to_string())
        }
        (Via::Remote(_), Target::In(_) | Target::InButMe(_)) => {
            Err(format!("{to:?} is not one remote socket"))
        }
    };
    if let Err(error) = result {
        tracing::warn!(event = name, error, "push failed");
    }
}
