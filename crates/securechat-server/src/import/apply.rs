//! Writes the common model: resolves each item's keys to local ids, creates
//! what is missing, and writes messages in batches, printing progress.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use securechat_import::{Channel, Item, Message, Person, Room};

use super::clean;
use super::store::{self, CHANNEL, NewMessage, PERSON, ROOM};
use super::summary::Summary;
use crate::messages::service::MAX_CONTENT;
use crate::rooms::validate;
use crate::storage::{Db, now_ms};

/// Messages written per transaction.
pub const BATCH: usize = 500;
/// Progress is printed every this many messages.
const PROGRESS_EVERY: u64 = 10_000;
/// Numbered names tried when a username or channel name is taken.
const NAME_TRIES: u32 = 50;

pub struct Importer<'a> {
    db: &'a Db,
    source: &'static str,
    owner: i64,
    /// One random password's hash for every placeholder: no one knows it,
    /// and an administrator's reset link replaces it.
    placeholder_hash: String,
    rooms: HashMap<String, i64>,
    /// Channel key → (channel id, room id).
    channels: HashMap<String, (i64, i64)>,
    people: HashMap<String, i64>,
    members: HashSet<(i64, i64)>,
    batch: Vec<NewMessage>,
    started: Instant,
    read: u64,
    pub summary: Summary,
}

impl<'a> Importer<'a> {
    pub fn new(db: &'a Db, source: &'static str, owner: i64, placeholder_hash: String) -> Self {
        Self {
            db,
            source,
            owner,
            placeholder_hash,
            rooms: HashMap::new(),
            channels: HashMap::new(),
            people: HashMap::new(),
            members: HashSet::new(),
            batch: Vec::with_capacity(BATCH),
            started: Instant::now(),
            read: 0,
            summary: Summary::default(),
        }
    }

    /// Writes what is still batched and prints the summary line's numbers.
    pub async fn finish(mut self) -> anyhow::Result<Summary> {
        self.flush().await?;
        self.summary.seconds = self.started.elapsed().as_secs_f64();
        Ok(self.summary)
    }

    async fn room(&mut self, r: Room) -> anyhow::Result<()> {
        let id = match store::mapped(self.db, self.source, ROOM, &r.key).await? {
            Some(id) => id,
            None => {
                let name = validate::room_name(&r.name)
                    .or_else(|_| validate::room_name(&r.key))
                    .unwrap_or_else(|_| "Imported".to_owned());
                let description =
                    validate::text("Description", &r.description, validate::DESCRIPTION_MAX)
                        .unwrap_or_default();
                let id = store::insert_room(
                    self.db,
                    store::Key {
                        source: self.source,
                        key: &r.key,
                    },
                    &name,
                    &description,
                    r.private,
                    self.owner,
                    now_ms(),
                )
                .await?;
                self.summary.rooms += 1;
                id
            }
        };
        self.members.insert((id, self.owner));
        self.rooms.insert(r.key, id);
        Ok(())
    }

    async fn channel(&mut self, c: Channel) -> anyhow::Result<()> {
        let Some(&team_room) = self.rooms.get(&c.room) else {
            self.summary.skip("channel of an unknown team");
            return Ok(());
        };
        let id = match store::mapped(self.db, self.source, CHANNEL, &c.key).await? {
            Some(id) => id,
            None => {
                let room = if c.private {
                    let name =
                        validate::room_name(&c.name).unwrap_or_else(|_| "Imported".to_owned());
                    let room_key = format!("private:{}", c.key);
                    let id = store::insert_room(
                        self.db,
                        store::Key {
                            source: self.source,
                            key: &room_key,
                        },
                        &name,
                        "",
                        true,
                        self.owner,
                        now_ms(),
                    )
                    .await?;
                    self.summary.rooms += 1;
                    id
                } else {
                    team_room
                };
                let id = self.insert_channel(&c, room).await?;
                self.summary.channels += 1;
                id
            }
        };
        let room = store::channel_room(self.db, id).await?;
        self.members.insert((room, self.owner));
        self.channels.insert(c.key.clone(), (id, room));
        for member in &c.members {
            if let Some(&user) = self.people.get(member) {
                self.join(room, user).await?;
            }
        }
        Ok(())
    }

    async fn insert_channel(&mut self, c: &Channel, room: i64) -> anyhow::Result<i64> {
        let base = channel_name(&c.name);
        let topic = validate::text("Topic", &c.topic, validate::TOPIC_MAX).unwrap_or_default();
        for n in 1..=NAME_TRIES {
            let name = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            match store::insert_channel(
                self.db,
                store::Key {
                    source: self.source,
                    key: &c.key,
                },
                room,
                &name,
                &topic,
                self.owner,
                now_ms(),
            )
            .await
            {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
                other => return Ok(other?),
            }
        }
        anyhow::bail!("no free name for channel {}", c.name)
    }

    async fn person(&mut self, p: Person) -> anyhow::Result<()> {
        let id = match store::mapped(self.db, self.source, PERSON, &p.key).await? {
            Some(id) => id,
            None => self.account(&p).await?,
        };
        self.people.insert(p.key.clone(), id);
        for room in &p.rooms {
            if let Some(&room) = self.rooms.get(room) {
                self.join(room, id).await?;
            }
        }
        for channel in &p.channels {
            if let Some(&(_, room)) = self.channels.get(channel) {
                self.join(room, id).await?;
            }
        }
        Ok(())
    }

    /// The account of the same username, or a new disabled placeholder.
    async fn account(&mut self, p: &Person) -> anyhow::Result<i64> {
        let base = clean::username(&p.username);
        let existing =
            crate::auth::store::user_by_key(self.db, &crate::auth::validate::username_key(&base))
                .await?;
        if let Some(user) =
            existing.filter(|u| !p.deleted && u.username.eq_ignore_ascii_case(&p.username))
        {
            store::map(self.db, self.source, PERSON, &p.key, user.id).await?;
            self.summary.people_matched += 1;
            return Ok(user.id);
        }
        for n in 1..=NAME_TRIES {
            let name = if n == 1 {
                base.clone()
            } else {
                clean::numbered(&base, n)
            };
            match store::insert_placeholder(
                self.db,
                self.source,
                &p.key,
                &name,
                &self.placeholder_hash,
                now_ms(),
            )
            .await
            {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
                other => {
                    self.summary.people_created += 1;
                    return Ok(other?);
                }
            }
        }
        anyhow::bail!("no free username for {}", p.username)
    }

    async fn join(&mut self, room: i64, user: i64) -> anyhow::Result<()> {
        if self.members.insert((room, user)) {
            store::join(self.db, room, user, now_ms()).await?;
        }
        Ok(())
    }

    async fn message(&mut self, m: Message) -> anyhow::Result<()> {
        self.read += 1;
        let Some(&(channel_id, room)) = self.channels.get(&m.channel) else {
            self.summary
                .skip("message in an unknown or skipped channel");
            return Ok(());
        };
        if !self.people.contains_key(&m.sender) {
            // Someone the export names without describing: a placeholder.
            let someone = Person {
                key: m.sender.clone(),
                username: m.sender.clone(),
                deleted: false,
                rooms: Vec::new(),
                channels: Vec::new(),
            };
            self.person(someone).await?;
        }
        let sender_id = self.people[&m.sender];
        self.join(room, sender_id).await?;
        let (content, cut) = securechat_import::message_text(&m.text, &m.files, MAX_CONTENT);
        let Some(content) = content else {
            self.summary.skip("empty message");
            return Ok(());
        };
        if cut {
            self.summary.truncated += 1;
        }
        self.summary.files += m.files.len() as u64;
        let mut reactions = Vec::with_capacity(m.reactions.len());
        for r in m.reactions {
            match (self.people.get(&r.person), clean::emoji(&r.emoji)) {
                (Some(&user), Some(emoji)) => {
                    self.join(room, user).await?;
                    reactions.push((user, emoji, r.at));
                }
                _ => self
                    .summary
                    .skip("reaction by an unknown person or unusable emoji"),
            }
        }
        self.batch.push(NewMessage {
            key: m.key,
            channel_id,
            sender_id,
            content,
            created_at: m.created_at,
            edited_at: m.edited_at,
            thread_root: m.thread_root,
            reactions,
        });
        if self.batch.len() >= BATCH {
            self.flush().await?;
        }
        if self.read.is_multiple_of(PROGRESS_EVERY) {
            let secs = self.started.elapsed().as_secs_f64().max(0.001);
            eprintln!(
                "import: {} messages read, {} written, {:.0} messages/s",
                self.read,
                self.summary.messages,
                self.read as f64 / secs
            );
        }
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let written = store::write_batch(self.db, self.source, &self.batch).await?;
        self.batch.clear();
        self.summary.add(&written);
        Ok(())
    }
}

impl securechat_import::Sink for Importer<'_> {
    type Error = anyhow::Error;

    async fn push(&mut self, item: Item) -> anyhow::Result<()> {
        match item {
            Item::Room(r) => self.room(r).await?,
            Item::Channel(c) => self.channel(c).await?,
            Item::Person(p) => self.person(p).await?,
            Item::Message(m) => self.message(m).await?,
            Item::Skipped(why) => self.summary.skip(why),
        }
        Ok(())
    }
}

/// A valid channel name for a source's: NFKC and the channel rules
/// (`securechat_import::channel_name` for a name they refuse).
fn channel_name(name: &str) -> String {
    if let Ok(valid) = validate::channel_name(name) {
        return valid;
    }
    let normalised = crate::text::name(name).unwrap_or_default();
    validate::channel_name(&securechat_import::channel_name(
        &normalised,
        validate::CHANNEL_NAME_MAX,
    ))
    .unwrap_or_else(|_| "imported".to_owned())
}
