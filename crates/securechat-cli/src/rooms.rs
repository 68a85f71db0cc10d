//! `securechat-cli rooms`: my rooms and DMs with their channels and unread
//! counts.
//!
//! ```text
//! Lobby  (public, member, 4 members)
//!   #general  2 unread
//!   #random
//! @bob  (direct message)
//!   #general  encrypted
//! ```

use std::io::Write;

use anyhow::Result;
use securechat_client::{Channel, Room};

use crate::output;
use crate::session::SessionFile;

pub async fn run(file: &SessionFile) -> Result<()> {
    let session = file.require()?;
    let rooms = session
        .client()?
        .rooms()
        .await
        .map_err(|e| file.explain(&session, e))?;
    output::write_all(&render(&rooms))
}

/// The listing, one room per heading and one channel per indented line.
pub fn render(rooms: &[Room]) -> String {
    let mut out = Vec::new();
    if rooms.is_empty() {
        let _ = writeln!(
            out,
            "You are in no rooms yet; join or create one in the web app."
        );
    }
    // Rooms first, then direct messages, each in the server's order.
    let (dms, groups): (Vec<&Room>, Vec<&Room>) = rooms.iter().partition(|r| r.is_dm());
    for room in groups.into_iter().chain(dms) {
        let _ = writeln!(out, "{}  ({})", room.display_name(), describe(room));
        let width = room
            .channels
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0);
        for channel in &room.channels {
            let notes = notes(channel);
            if notes.is_empty() {
                let _ = writeln!(out, "  #{}", channel.name);
            } else {
                let _ = writeln!(out, "  #{:<width$}  {notes}", channel.name);
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn describe(room: &Room) -> String {
    if room.is_dm() {
        return "direct message".to_owned();
    }
    let mut parts = vec![if room.is_private { "private" } else { "public" }.to_owned()];
    if let Some(role) = room.my_role {
        parts.push(role.to_string());
    }
    parts.push(match room.member_count {
        1 => "1 member".to_owned(),
        n => format!("{n} members"),
    });
    parts.join(", ")
}

fn notes(channel: &Channel) -> String {
    let mut notes = Vec::new();
    if let Some(unread) = channel.unread.filter(|&n| n > 0) {
        notes.push(format!("{unread} unread"));
    }
    if channel.is_encrypted {
        notes.push("encrypted".to_owned());
    }
    notes.join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn rooms_then_dms_with_unread_counts() {
        let rooms: Vec<Room> = serde_json::from_value(json!([
            {"id": 3, "kind": "dm", "name": "", "is_private": true, "member_count": 2,
             "my_role": "member", "dm_peer": {"id": 7, "username": "bob"},
             "channels": [{"id": 30, "room_id": 3, "name": "general", "is_encrypted": true, "unread": 0}]},
            {"id": 1, "kind": "room", "name": "Lobby", "is_private": false, "member_count": 4,
             "my_role": "member", "channels": [
                {"id": 10, "room_id": 1, "name": "general", "unread": 2},
                {"id": 11, "room_id": 1, "name": "random", "unread": 0}]},
        ]))
        .unwrap();
        assert_eq!(
            render(&rooms),
            "Lobby  (public, member, 4 members)\n  #general  2 unread\n  #random\n\
             @bob  (direct message)\n  #general  encrypted\n"
        );
    }
}
