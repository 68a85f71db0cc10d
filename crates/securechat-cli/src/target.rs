//! Which channel a command means: `<room>/<channel>` by name, or
//! `--channel-id`.
//!
//! Names match case-insensitively. A DM is named by its peer, `@bob`. The
//! channel part may start with `#` and may be left out when the room has
//! one channel. Room names may contain `/` (channel names cannot), so the
//! last `/` separates them. A name that matches nothing, or more than one
//! channel, is an error that lists what there is to choose from.

use anyhow::{Result, bail};
use securechat_client::{Channel, Room};

/// A resolved channel and the room it belongs to.
#[derive(Debug, Clone)]
pub struct Target {
    pub room: Room,
    pub channel: Channel,
}

impl Target {
    /// `Lobby/general`, `@bob/general`.
    pub fn label(&self) -> String {
        label(&self.room, &self.channel)
    }
}

fn label(room: &Room, channel: &Channel) -> String {
    format!("{}/{}", room.display_name(), channel.name)
}

/// The channel `spec` or `channel_id` names among `rooms` (mine).
pub fn resolve(rooms: &[Room], spec: Option<&str>, channel_id: Option<i64>) -> Result<Target> {
    match (spec, channel_id) {
        (Some(_), Some(_)) => bail!("give either <room>/<channel> or --channel-id, not both"),
        (None, None) => bail!("name a channel as <room>/<channel>, or give --channel-id"),
        (None, Some(id)) => by_id(rooms, id),
        (Some(spec), None) => by_name(rooms, spec),
    }
}

fn by_id(rooms: &[Room], id: i64) -> Result<Target> {
    for room in rooms {
        if let Some(channel) = room.channels.iter().find(|c| c.id == id) {
            return Ok(Target {
                room: room.clone(),
                channel: channel.clone(),
            });
        }
    }
    bail!("none of your rooms has a channel with id {id}; `securechat-cli rooms` lists them")
}

fn by_name(rooms: &[Room], spec: &str) -> Result<Target> {
    let (room_name, channel_name) = match spec.rsplit_once('/') {
        Some((room, channel)) => (room.trim(), Some(channel.trim().trim_start_matches('#'))),
        None => (spec.trim(), None),
    };
    let room_key = room_name.to_lowercase();
    let named: Vec<&Room> = rooms
        .iter()
        .filter(|r| r.display_name().to_lowercase() == room_key)
        .collect();
    if named.is_empty() {
        bail!(
            "you have no room called `{room_name}`; yours are: {}",
            list(rooms.iter().map(Room::display_name))
        );
    }
    let mut candidates: Vec<Target> = named
        .iter()
        .flat_map(|room| {
            room.channels
                .iter()
                .filter(|c| channel_name.is_none_or(|n| c.name.to_lowercase() == n.to_lowercase()))
                .map(|channel| Target {
                    room: (*room).clone(),
                    channel: channel.clone(),
                })
        })
        .collect();
    let every_channel = || {
        list(
            named
                .iter()
                .flat_map(|r| r.channels.iter().map(|c| label(r, c))),
        )
    };
    if candidates.len() == 1
        && let Some(target) = candidates.pop()
    {
        return Ok(target);
    }
    match (candidates.len(), channel_name) {
        (0, Some(channel)) => bail!(
            "{room_name} has no channel called `{channel}`; there are: {}",
            every_channel()
        ),
        (0, None) => bail!("{room_name} has no channels"),
        (_, None) if named.len() == 1 => bail!(
            "{room_name} has several channels; name one: {}",
            every_channel()
        ),
        _ => bail!(
            "`{spec}` is ambiguous: {}; use --channel-id",
            list(candidates.iter().map(|t| format!(
                "{} (room {}, channel id {})",
                t.label(),
                t.room.id,
                t.channel.id
            )))
        ),
    }
}

fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "(none)".to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn rooms() -> Vec<Room> {
        serde_json::from_value(json!([
            {"id": 1, "kind": "room", "name": "Lobby", "channels": [
                {"id": 10, "room_id": 1, "name": "general"},
                {"id": 11, "room_id": 1, "name": "random"}]},
            {"id": 2, "kind": "room", "name": "Project X", "channels": [
                {"id": 20, "room_id": 2, "name": "general"}]},
            {"id": 3, "kind": "dm", "name": "", "dm_peer": {"id": 7, "username": "Bob"},
             "channels": [{"id": 30, "room_id": 3, "name": "general"}]},
            {"id": 4, "kind": "room", "name": "a/b", "channels": [
                {"id": 40, "room_id": 4, "name": "x"}]},
            {"id": 5, "kind": "room", "name": "Dup", "channels": [
                {"id": 50, "room_id": 5, "name": "general"}]},
            {"id": 6, "kind": "room", "name": "dup", "channels": [
                {"id": 60, "room_id": 6, "name": "general"},
                {"id": 61, "room_id": 6, "name": "ops"}]},
        ]))
        .unwrap()
    }

    fn id(spec: &str) -> i64 {
        resolve(&rooms(), Some(spec), None).unwrap().channel.id
    }

    fn error(spec: &str) -> String {
        resolve(&rooms(), Some(spec), None).unwrap_err().to_string()
    }

    #[test]
    fn names_match_case_insensitively() {
        assert_eq!(id("lobby/RANDOM"), 11);
        assert_eq!(id("Lobby/#general"), 10);
        assert_eq!(id("project x/general"), 20);
        assert_eq!(id("PROJECT X"), 20);
        assert_eq!(id("@bob"), 30);
        assert_eq!(id("@BOB/general"), 30);
        assert_eq!(id("a/b/x"), 40);
        assert_eq!(id("dup/ops"), 61);
        assert_eq!(
            resolve(&rooms(), None, Some(11)).unwrap().label(),
            "Lobby/random"
        );
    }

    #[test]
    fn missing_and_ambiguous_names_list_the_options() {
        let e = error("Nowhere/general");
        assert!(e.contains("no room called `Nowhere`"), "{e}");
        assert!(e.contains("Lobby, Project X, @Bob"), "{e}");
        let e = error("Lobby/nope");
        assert!(e.contains("Lobby/general, Lobby/random"), "{e}");
        let e = error("Lobby");
        assert!(
            e.contains("several channels") && e.contains("Lobby/random"),
            "{e}"
        );
        let e = error("dup/general");
        assert!(
            e.contains("ambiguous") && e.contains("channel id 50") && e.contains("channel id 60"),
            "{e}"
        );
        let e = resolve(&rooms(), None, Some(99)).unwrap_err().to_string();
        assert!(e.contains("id 99"), "{e}");
        assert!(resolve(&rooms(), Some("Lobby"), Some(10)).is_err());
        assert!(resolve(&rooms(), None, None).is_err());
    }
}
