//! The Mattermost bulk export: one JSON object a line (`version`, `team`,
//! `channel`, `user`, `post`, `direct_channel`, `direct_post`), read line by
//! line so memory stays bounded whatever the file's size.

use std::path::Path;

use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt};

use crate::model::{Channel, Item, Message, Person, Reaction, Room};
use crate::{Error, Sink};

/// The longest line read; a longer one (no post is near it) is skipped as
/// unreadable rather than held in memory whole.
const MAX_LINE: usize = 16 * 1024 * 1024;

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: String,
    team: Option<Team>,
    channel: Option<ChannelLine>,
    user: Option<User>,
    post: Option<Post>,
}

#[derive(Deserialize)]
struct Team {
    name: String,
    display_name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct ChannelLine {
    team: String,
    name: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    header: Option<String>,
    purpose: Option<String>,
}

#[derive(Deserialize)]
struct User {
    username: String,
    delete_at: Option<i64>,
    #[serde(default)]
    teams: Vec<UserTeam>,
}

#[derive(Deserialize)]
struct UserTeam {
    name: String,
    #[serde(default)]
    channels: Vec<Named>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Post {
    #[serde(default)]
    team: String,
    #[serde(default)]
    channel: String,
    user: String,
    #[serde(default)]
    message: String,
    create_at: i64,
    edit_at: Option<i64>,
    #[serde(default)]
    replies: Vec<Post>,
    #[serde(default)]
    reactions: Vec<PostReaction>,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

#[derive(Deserialize)]
struct PostReaction {
    user: String,
    emoji_name: String,
    create_at: Option<i64>,
}

#[derive(Deserialize)]
struct Attachment {
    path: String,
}

/// Reads the JSONL a line at a time into `sink` (invalid UTF-8 replaced,
/// not fatal).
pub async fn read<S: Sink>(path: &Path, sink: &mut S) -> Result<(), S::Error> {
    let file = crate::open(path).await?;
    let mut reader = tokio::io::BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|source| Error::Read {
                path: path.to_owned(),
                source,
            })?;
        if read == 0 {
            return Ok(());
        }
        if line.len() >= MAX_LINE && !line.ends_with(b"\n") {
            skip_line(&mut reader).await.map_err(|source| Error::Read {
                path: path.to_owned(),
                source,
            })?;
            sink.push(Item::Skipped("unreadable line")).await?;
            continue;
        }
        for item in parse_line(&String::from_utf8_lossy(&line)) {
            sink.push(item).await?;
        }
    }
}

/// Consumes the rest of an over-long line without holding it.
async fn skip_line<R: tokio::io::AsyncBufRead + Unpin>(reader: &mut R) -> std::io::Result<()> {
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|b| *b == b'\n') {
            Some(at) => {
                reader.consume(at + 1);
                return Ok(());
            }
            None => {
                let len = buf.len();
                reader.consume(len);
            }
        }
    }
}

/// The items of one line of the export (a post gives its replies too).
pub(crate) fn parse_line(line: &str) -> Vec<Item> {
    if line.trim().is_empty() {
        return Vec::new();
    }
    let parsed = serde_json::from_str::<Line>(line)
        .or_else(|_| serde_json::from_str::<Line>(&crate::text::repair_surrogates(line)));
    let Ok(line) = parsed else {
        return vec![Item::Skipped("unreadable line")];
    };
    match line.kind.as_str() {
        "version" => Vec::new(),
        "team" => line.team.map(team).into_iter().collect(),
        "channel" => line.channel.map(channel).into_iter().collect(),
        "user" => line.user.map(user).into_iter().collect(),
        "post" => line.post.map(post).unwrap_or_default(),
        "direct_channel" => vec![Item::Skipped("direct channel")],
        "direct_post" => vec![Item::Skipped("direct message")],
        _ => vec![Item::Skipped("unknown line type")],
    }
}

fn team(t: Team) -> Item {
    Item::Room(Room {
        name: t
            .display_name
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| t.name.clone()),
        description: t.description.unwrap_or_default(),
        private: t.kind.as_deref() != Some("O"),
        key: t.name,
    })
}

fn channel(c: ChannelLine) -> Item {
    let topic = c
        .header
        .filter(|h| !h.is_empty())
        .or(c.purpose)
        .unwrap_or_default();
    Item::Channel(Channel {
        key: format!("{}/{}", c.team, c.name),
        room: c.team,
        name: c.name,
        topic,
        private: c.kind.as_deref() == Some("P"),
        members: Vec::new(),
    })
}

fn user(u: User) -> Item {
    let mut rooms = Vec::new();
    let mut channels = Vec::new();
    for t in u.teams {
        channels.extend(
            t.channels
                .into_iter()
                .map(|c| format!("{}/{}", t.name, c.name)),
        );
        rooms.push(t.name);
    }
    Item::Person(Person {
        key: u.username.clone(),
        username: u.username,
        deleted: u.delete_at.is_some_and(|d| d > 0),
        rooms,
        channels,
    })
}

/// A post's source key: Mattermost's export has no post ids, so a post is
/// named by its channel, author and time (as Mattermost's own importer
/// matches them).
fn post(mut p: Post) -> Vec<Item> {
    let channel = format!("{}/{}", p.team, p.channel);
    let key = format!("{channel}/{}/{}", p.user, p.create_at);
    let replies = std::mem::take(&mut p.replies);
    let mut items = Vec::with_capacity(1 + replies.len());
    items.push(Item::Message(message(&channel, key.clone(), None, p)));
    for r in replies {
        let reply_key = format!("{key}/{}/{}", r.user, r.create_at);
        items.push(Item::Message(message(
            &channel,
            reply_key,
            Some(key.clone()),
            r,
        )));
    }
    items
}

fn message(channel: &str, key: String, thread_root: Option<String>, p: Post) -> Message {
    let created_at = p.create_at;
    Message {
        key,
        channel: channel.to_owned(),
        sender: p.user,
        text: p.message,
        created_at,
        edited_at: p.edit_at.filter(|e| *e > 0),
        thread_root,
        reactions: p
            .reactions
            .into_iter()
            .map(|r| Reaction {
                person: r.user,
                emoji: r.emoji_name,
                at: r.create_at.unwrap_or(created_at),
            })
            .collect(),
        files: p
            .attachments
            .into_iter()
            .map(|a| a.path.rsplit('/').next().unwrap_or(&a.path).to_owned())
            .collect(),
    }
}
