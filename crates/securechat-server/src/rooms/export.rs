//! A room's export, for its owner: one zip with
//!
//! - `room.json`: the room, its channels and members;
//! - `channels/<id>-<name>.json`: each channel's messages, oldest first:
//!   the text of a plaintext channel, the ciphertext envelope of an
//!   encrypted one (the server cannot read it; a client holding the keys
//!   can);
//! - `index.html` and `channels/<id>-<name>.html`: a browsable copy of the
//!   plaintext channels, one page per channel, readable offline with no
//!   script;
//! - `files/<id>-<name>`: the files kept in the room (encrypted ones as
//!   stored, `.enc`).
//!
//! Written while read, a page of messages at a time (`crate::archive`).

use html_escape::encode_text;
use serde::Serialize;
use tokio::io::AsyncWrite;

use super::store::{self, ChannelRow, MemberRow, RoomRow, export};
use crate::archive::{Archive, ArchiveError, file_entry_name};
use crate::files::Files;
use crate::storage::{Db, now_ms, rfc3339};

/// Rows read per query.
const PAGE: i64 = 500;

#[derive(Serialize)]
struct RoomFile<'a> {
    format: &'static str,
    exported_at: i64,
    room: RoomPart<'a>,
    channels: Vec<ChannelPart<'a>>,
    members: Vec<MemberPart<'a>>,
}

#[derive(Serialize)]
struct RoomPart<'a> {
    id: i64,
    name: &'a str,
    description: &'a str,
    is_private: bool,
    created_at: i64,
}

#[derive(Serialize)]
struct ChannelPart<'a> {
    id: i64,
    name: &'a str,
    topic: &'a str,
    is_encrypted: bool,
    created_at: i64,
    /// The entry holding its messages.
    messages: String,
}

#[derive(Serialize)]
struct MemberPart<'a> {
    user_id: i64,
    username: &'a str,
    role: &'a str,
    joined_at: i64,
}

/// The base name of a channel's entries.
fn channel_entry(channel: &ChannelRow) -> String {
    format!(
        "channels/{}-{}",
        channel.id,
        channel.name.replace(['/', '\\'], "_")
    )
}

/// Writes the export of `room` into `out`, then closes it.
pub async fn write<W>(db: &Db, files: &Files, room: RoomRow, out: W) -> Result<(), ArchiveError>
where
    W: AsyncWrite + Unpin,
{
    let mut zip = Archive::new(out);
    let channels = store::channels_of_room(db, room.id).await?;
    let members = store::members(db, room.id).await?;
    zip.json("room.json", &room_file(&room, &channels, &members))
        .await?;

    let now = now_ms();
    let mut counts = Vec::with_capacity(channels.len());
    for channel in &channels {
        let base = channel_entry(channel);
        let mut count = 0;
        let mut part = zip.array(&format!("{base}.json")).await?;
        let mut after = 0;
        loop {
            let page = export::messages(db, channel.id, after, PAGE, now).await?;
            let Some(last) = page.last() else { break };
            after = last.id;
            count += page.len();
            part.items(&page).await?;
        }
        part.end().await?;
        counts.push(count);
        if !channel.is_encrypted {
            write_channel_page(&mut zip, db, &room, channel, &base, now).await?;
        }
    }
    zip.text("index.html")
        .await?
        .end_with(index_page(&room, &channels, &counts).as_bytes())
        .await?;

    // The list first, then the bytes: each file's entry is streamed.
    let mut kept = Vec::new();
    let mut part = zip.array("files.json").await?;
    let mut after = 0;
    loop {
        let page = export::files(db, room.id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        part.items(&page).await?;
        kept.extend(page.into_iter().map(|f| {
            let name = file_entry_name(f.id, &f.name, f.is_encrypted);
            (f.storage_key, name)
        }));
    }
    part.end().await?;
    for (key, name) in kept {
        zip.blob(&format!("files/{name}"), &files.blobs, &key)
            .await?;
    }
    zip.finish().await
}

fn room_file<'a>(
    room: &'a RoomRow,
    channels: &'a [ChannelRow],
    members: &'a [MemberRow],
) -> RoomFile<'a> {
    RoomFile {
        format: "securechat-room-export-1",
        exported_at: now_ms(),
        room: RoomPart {
            id: room.id,
            name: &room.name,
            description: &room.description,
            is_private: room.is_private,
            created_at: room.created_at,
        },
        channels: channels
            .iter()
            .map(|c| ChannelPart {
                id: c.id,
                name: &c.name,
                topic: &c.topic,
                is_encrypted: c.is_encrypted,
                created_at: c.created_at,
                messages: format!("{}.json", channel_entry(c)),
            })
            .collect(),
        members: members
            .iter()
            .map(|m| MemberPart {
                user_id: m.user_id,
                username: &m.username,
                role: &m.role,
                joined_at: m.joined_at,
            })
            .collect(),
    }
}

const STYLE: &str = "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;\
padding:0 1rem;color:#1a1a1a}article{border-top:1px solid #ddd;padding:.5rem 0}\
time{color:#555;font-size:.875rem;margin-left:.5rem}p{margin:.25rem 0;white-space:pre-wrap}\
.muted{color:#555}</style>";

/// The start of a page titled `title`.
fn head(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title>{STYLE}</head><body>\n",
        encode_text(title)
    )
}

/// One plaintext channel's page, a page of messages at a time.
async fn write_channel_page<W>(
    zip: &mut Archive<W>,
    db: &Db,
    room: &RoomRow,
    channel: &ChannelRow,
    base: &str,
    now: i64,
) -> Result<(), ArchiveError>
where
    W: AsyncWrite + Unpin,
{
    let mut page_out = zip.text(&format!("{base}.html")).await?;
    let title = format!("#{} — {}", channel.name, room.name);
    let mut top = head(&title);
    top.push_str(&format!(
        "<p><a href=\"../index.html\">{}</a></p><h1>{}</h1>\n",
        encode_text(&room.name),
        encode_text(&title)
    ));
    page_out.write(top.as_bytes()).await?;
    let mut after = 0;
    loop {
        let page = export::messages(db, channel.id, after, PAGE, now).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let mut html = String::new();
        for m in &page {
            html.push_str(&message_html(m));
        }
        page_out.write(html.as_bytes()).await?;
    }
    page_out.end_with(b"</body></html>\n").await
}

/// One message as an `<article>`: who, when, and the text as text.
fn message_html(m: &export::ExportedMessage) -> String {
    let who = m
        .webhook_name
        .as_deref()
        .or(m.sender_username.as_deref())
        .unwrap_or("unknown");
    let when = rfc3339(m.created_at);
    let mut html = format!(
        "<article id=\"m{}\"><strong>{}</strong><time datetime=\"{when}\">{when}</time>",
        m.id,
        encode_text(who),
    );
    if let Some(text) = &m.content {
        html.push_str(&format!("<p>{}</p>", encode_text(text)));
    }
    if let Some(file) = m.file_id {
        html.push_str(&format!(
            "<p class=\"muted\">File {file} (see files.json and files/)</p>"
        ));
    }
    html.push_str("</article>\n");
    html
}

/// The index: the room and a link to each plaintext channel's page.
fn index_page(room: &RoomRow, channels: &[ChannelRow], counts: &[usize]) -> String {
    let mut html = head(&room.name);
    html.push_str(&format!(
        "<h1>{}</h1><p>{}</p><ul>\n",
        encode_text(&room.name),
        encode_text(&room.description)
    ));
    for (channel, count) in channels.iter().zip(counts) {
        let name = encode_text(&channel.name);
        if channel.is_encrypted {
            html.push_str(&format!(
                "<li>#{name}: {count} end-to-end encrypted messages, kept as ciphertext in \
                 {}.json (the server cannot read them)</li>\n",
                encode_text(&channel_entry(channel))
            ));
        } else {
            html.push_str(&format!(
                "<li><a href=\"{}.html\">#{name}</a>: {count} messages</li>\n",
                html_escape::encode_double_quoted_attribute(&channel_entry(channel))
            ));
        }
    }
    html.push_str("</ul></body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_never_markup() {
        let m = export::ExportedMessage {
            id: 7,
            sender_id: Some(1),
            sender_username: Some("<b>eve</b>".into()),
            webhook_name: None,
            content: Some("<script>alert(1)</script> & more".into()),
            envelope: None,
            key_version: None,
            thread_root_id: None,
            reply_to: None,
            file_id: None,
            created_at: 0,
            edited_at: None,
        };
        let html = message_html(&m);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>eve"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"));
    }
}
