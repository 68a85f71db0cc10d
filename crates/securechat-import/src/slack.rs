//! The Slack export: a zip of `users.json`, `channels.json` (public),
//! `groups.json` (private) and each channel's messages by day,
//! `<channel>/<YYYY-MM-DD>.json`. One day's file is in memory at a time.

use std::path::Path;

use async_zip::tokio::read::seek::ZipFileReader;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::io::BufReader;

use crate::model::{Channel, Item, Message, Person, Reaction, Room};
use crate::{Error, Sink};

/// The largest JSON entry read (a day of one channel, the users list);
/// a larger one is skipped as unreadable rather than held in memory.
const MAX_ENTRY: u64 = 256 * 1024 * 1024;

/// The one room a workspace becomes.
const WORKSPACE: &str = "workspace";

#[derive(Deserialize)]
struct User {
    id: String,
    name: String,
    #[serde(default)]
    deleted: bool,
}

#[derive(Deserialize)]
struct SlackChannel {
    id: String,
    name: String,
    #[serde(default)]
    members: Vec<String>,
    topic: Option<Value>,
    purpose: Option<Value>,
}

#[derive(Deserialize)]
struct Value {
    value: String,
}

#[derive(Deserialize)]
struct SlackMessage {
    user: Option<String>,
    #[serde(default)]
    text: String,
    ts: Option<String>,
    thread_ts: Option<String>,
    subtype: Option<String>,
    edited: Option<Edited>,
    #[serde(default)]
    reactions: Vec<SlackReaction>,
    #[serde(default)]
    files: Vec<File>,
}

#[derive(Deserialize)]
struct Edited {
    ts: String,
}

#[derive(Deserialize)]
struct SlackReaction {
    name: String,
    #[serde(default)]
    users: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    name: Option<String>,
    title: Option<String>,
}

/// Subtypes that are messages people wrote; the rest (joins, leaves,
/// topic changes, bots without a person) are skipped.
const KEPT_SUBTYPES: [&str; 4] = [
    "file_share",
    "thread_broadcast",
    "me_message",
    "file_comment",
];

/// Reads the export at `path` into `sink`.
pub async fn read<S: Sink>(path: &Path, room_name: &str, sink: &mut S) -> Result<(), S::Error> {
    let file = crate::open(path).await?;
    let mut zip = ZipFileReader::with_tokio(BufReader::new(file))
        .await
        .map_err(|_| Error::NotZip {
            path: path.to_owned(),
        })?;
    let names: Vec<String> = zip
        .file()
        .entries()
        .iter()
        .map(|e| e.filename().as_str().unwrap_or_default().to_owned())
        .collect();
    if !names
        .iter()
        .any(|n| n == "channels.json" || n == "groups.json")
    {
        return Err(Error::NotSlack {
            name: path.display().to_string(),
            detail: "it holds neither channels.json nor groups.json".into(),
        }
        .into());
    }
    let users: Vec<User> = entry(&mut zip, &names, "users.json")
        .await?
        .unwrap_or_default();
    let public: Vec<SlackChannel> = entry(&mut zip, &names, "channels.json")
        .await?
        .unwrap_or_default();
    let private: Vec<SlackChannel> = entry(&mut zip, &names, "groups.json")
        .await?
        .unwrap_or_default();
    for skipped in ["dms.json", "mpims.json"] {
        if names.iter().any(|n| n == skipped) {
            sink.push(Item::Skipped("direct messages")).await?;
        }
    }
    sink.push(Item::Room(Room {
        key: WORKSPACE.into(),
        name: room_name.into(),
        description: String::new(),
        private: true,
    }))
    .await?;
    for u in users {
        sink.push(Item::Person(Person {
            key: u.id,
            username: u.name,
            deleted: u.deleted,
            rooms: vec![WORKSPACE.into()],
            channels: Vec::new(),
        }))
        .await?;
    }
    let channels: Vec<(SlackChannel, bool)> = public
        .into_iter()
        .map(|c| (c, false))
        .chain(private.into_iter().map(|c| (c, true)))
        .collect();
    for (c, is_private) in &channels {
        let topic = c
            .topic
            .as_ref()
            .or(c.purpose.as_ref())
            .map(|v| v.value.clone());
        sink.push(Item::Channel(Channel {
            key: c.id.clone(),
            room: WORKSPACE.into(),
            name: c.name.clone(),
            topic: topic.unwrap_or_default(),
            private: *is_private,
            members: c.members.clone(),
        }))
        .await?;
    }
    for (c, _) in &channels {
        let prefix = format!("{}/", c.name);
        let mut days: Vec<&String> = names
            .iter()
            .filter(|n| n.starts_with(&prefix) && n.ends_with(".json"))
            .collect();
        days.sort();
        for day in days {
            let messages: Vec<serde_json::Value> = match entry(&mut zip, &names, day).await {
                Ok(m) => m.unwrap_or_default(),
                Err(_) => {
                    sink.push(Item::Skipped("unreadable day file")).await?;
                    continue;
                }
            };
            for m in messages {
                sink.push(message(&c.id, m)).await?;
            }
        }
    }
    Ok(())
}

/// One entry parsed as JSON (`None` when absent); lone surrogates in its
/// escapes are repaired first if the parser refuses them.
async fn entry<T: DeserializeOwned>(
    zip: &mut ZipFileReader<BufReader<tokio::fs::File>>,
    names: &[String],
    name: &str,
) -> Result<Option<T>, Error> {
    let Some(index) = names.iter().position(|n| n == name) else {
        return Ok(None);
    };
    let failed = |detail: String| Error::Entry {
        name: name.to_owned(),
        detail,
    };
    let size = zip
        .file()
        .entries()
        .get(index)
        .map_or(0, |e| e.uncompressed_size());
    if size > MAX_ENTRY {
        return Err(failed(format!("larger than {MAX_ENTRY} bytes")));
    }
    let mut bytes = Vec::new();
    zip.reader_with_entry(index)
        .await
        .map_err(|e| failed(e.to_string()))?
        .read_to_end_checked(&mut bytes)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&crate::text::repair_surrogates(&text)))
        .map_err(|e| Error::NotSlack {
            name: name.to_owned(),
            detail: e.to_string(),
        })?;
    Ok(Some(parsed))
}

/// Slack's `ts` ("1355517523.000005", seconds and microseconds) in ms.
fn ms(ts: &str) -> Option<i64> {
    let (secs, frac) = ts.split_once('.').unwrap_or((ts, "0"));
    let micros = format!("{frac:0<6}");
    Some(secs.parse::<i64>().ok()? * 1000 + micros.get(..3)?.parse::<i64>().ok()?)
}

fn message(channel: &str, raw: serde_json::Value) -> Item {
    let Ok(m) = serde_json::from_value::<SlackMessage>(raw) else {
        return Item::Skipped("unreadable message");
    };
    if m.subtype
        .as_deref()
        .is_some_and(|s| !KEPT_SUBTYPES.contains(&s))
    {
        return Item::Skipped("event, not a message (subtype)");
    }
    let (Some(user), Some(ts)) = (m.user, m.ts) else {
        return Item::Skipped("no sender or time");
    };
    let Some(created_at) = ms(&ts) else {
        return Item::Skipped("no sender or time");
    };
    let thread_root = m
        .thread_ts
        .filter(|t| *t != ts)
        .map(|t| format!("{channel}/{t}"));
    Item::Message(Message {
        key: format!("{channel}/{ts}"),
        channel: channel.to_owned(),
        sender: user,
        text: m.text,
        created_at,
        edited_at: m.edited.and_then(|e| ms(&e.ts)),
        thread_root,
        reactions: m
            .reactions
            .into_iter()
            .flat_map(|r| {
                r.users.into_iter().map(move |person| Reaction {
                    person,
                    emoji: r.name.clone(),
                    at: created_at,
                })
            })
            .collect(),
        files: m
            .files
            .into_iter()
            .filter_map(|f| f.name.or(f.title))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ts_is_read_as_milliseconds() {
        assert_eq!(super::ms("1355517523.000005"), Some(1_355_517_523_000));
        assert_eq!(super::ms("1355517523.123456"), Some(1_355_517_523_123));
        assert_eq!(super::ms("1355517523"), Some(1_355_517_523_000));
        assert_eq!(super::ms("x.1"), None);
    }
}
