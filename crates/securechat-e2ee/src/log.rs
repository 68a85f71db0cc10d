//! The signed membership log from the client's side: verified against my
//! pinned keys and the last head I saw (a fork, rollback or reset fails),
//! started by the room's owner (either person of a DM), and extended with
//! my signed changes.

use std::collections::{BTreeMap, BTreeSet};

use securechat_crypto::{Action, KeyRing, MembershipEntry, MembershipLog, Op, Role};
use serde::{Deserialize, Serialize};

use crate::error::{Refusal, Result};
use crate::machine::Machine;
use crate::state::{LogPin, LogRoles};

/// What the server says about a room (its listing), as facts to check.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RoomFacts {
    /// The room id.
    pub id: i64,
    /// A direct-message room (exactly two people).
    #[serde(default)]
    pub is_dm: bool,
    /// A private room (not listed, no self-join).
    #[serde(default)]
    pub is_private: bool,
    /// My role according to the server: `owner`, `admin`, `member`.
    #[serde(default)]
    pub my_role: Option<String>,
}

/// A member as the server lists them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MemberFact {
    /// Their user id.
    pub user_id: i64,
    /// `owner`, `admin` or `member`.
    pub role: String,
}

/// A verified log, as the shell sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LogView {
    /// The room.
    pub room_id: i64,
    /// Members and their roles (`owner`, `admin`, `member`).
    pub members: Vec<MemberFact>,
    /// Whether the signed `create` entry made the room public.
    pub public: bool,
    /// Number of entries.
    pub length: u64,
    /// The channels the log registers as encrypted channels of the room.
    pub channels: Vec<i64>,
    /// The disappearing timer the log sets for each channel whose timer was
    /// ever set, in seconds (0: off now).
    pub disappearing: BTreeMap<i64, u32>,
}

impl LogView {
    pub(crate) fn of(room_id: i64, log: &MembershipLog) -> Self {
        Self {
            room_id,
            members: log
                .members()
                .iter()
                .map(|(id, role)| MemberFact {
                    user_id: *id,
                    role: role.as_str().to_string(),
                })
                .collect(),
            public: log.entries().first().is_some_and(MembershipEntry::public),
            length: log.len() as u64,
            channels: log.channels().iter().copied().collect(),
            disappearing: log
                .state()
                .timers
                .keys()
                .map(|&c| (c, log.state().timer(c)))
                .collect(),
        }
    }
}

impl Machine {
    /// The signers of `entries` whose keys I have not pinned yet: the shell
    /// fetches their bundles and key histories ([`Machine::observe_bundle`])
    /// before [`Machine::verify_log`].
    pub fn unknown_signers(&self, entries: &[String]) -> Vec<i64> {
        let signers: BTreeSet<i64> = entries
            .iter()
            .filter_map(|w| MembershipEntry::parse(w).ok())
            .map(|e| e.actor_id())
            .filter(|&id| id != 0 && !self.is_pinned(id))
            .collect();
        signers.into_iter().collect()
    }

    /// The room's log as the server serves it, verified: every entry chained
    /// and signed by a key I pinned, allowed by the rules, and extending the
    /// head I saw last time, which is then moved to the new head.
    ///
    /// An empty log is [`Refusal::NoLog`] for a room I never saw a log of,
    /// and [`Refusal::LogReset`] for one I did.
    pub fn verify_log(&mut self, room_id: i64, entries: &[String]) -> Result<MembershipLog> {
        if entries.is_empty() {
            return Err(if self.state.log_pins.contains_key(&room_id) {
                Refusal::LogReset { room_id }
            } else {
                Refusal::NoLog { room_id }
            });
        }
        let invalid = |e: securechat_crypto::Error| Refusal::LogInvalid {
            room_id,
            code: e.code().to_string(),
        };
        let parsed = entries
            .iter()
            .map(|w| MembershipEntry::parse(w))
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        let log = MembershipLog::verify(&parsed, &self.keyring()).map_err(invalid)?;
        if log.entries()[0].room_id() != room_id {
            return Err(Refusal::LogInvalid {
                room_id,
                code: "log_wrong_room".into(),
            });
        }
        if let Some(pin) = self.state.log_pins.get(&room_id) {
            log.check_extends(pin.seq, &pin.hash).map_err(invalid)?;
        }
        let seen_up_to = self.state.log_pins.get(&room_id).map(|pin| pin.seq);
        self.check_signing_keys(room_id, &log, seen_up_to)?;
        if self.state.dm_rooms.contains(&room_id) && log.members().len() != 2 {
            return Err(Refusal::LogInvalid {
                room_id,
                code: "dm_not_two".into(),
            });
        }
        // Checked when this client first accepts the room's log: the flag is
        // fixed by its `create` entry, and a room its owner opens up later
        // keeps the log it has.
        let public = log.entries().first().is_some_and(MembershipEntry::public);
        let first_sight = !self.state.log_pins.contains_key(&room_id);
        if public && first_sight && self.state.private_rooms.contains(&room_id) {
            // Anyone may `join_public` a public room and get its keys.
            return Err(Refusal::LogInvalid {
                room_id,
                code: "public_flag".into(),
            });
        }
        self.take_channels(room_id, &log)?;
        self.take_timers(&log);
        self.pin_log(room_id, &log);
        Ok(log)
    }

    /// The channels the log registers belong to this room and are
    /// encrypted, for good. One this client already ties to another room
    /// makes the whole log invalid: the server shows two rooms claiming it.
    fn take_channels(&mut self, room_id: i64, log: &MembershipLog) -> Result<()> {
        if let Some(channel) = log
            .channels()
            .iter()
            .find(|c| self.bound_elsewhere(**c, room_id).is_some())
        {
            return Err(Refusal::LogInvalid {
                room_id,
                code: format!("channel_in_other_room {channel}"),
            });
        }
        for &channel in log.channels() {
            let fresh = self.state.encrypted_channels.insert(channel)
                | self.state.channel_rooms.insert(channel, room_id).is_none();
            if fresh {
                self.touch();
            }
        }
        Ok(())
    }

    /// The entry that registers `channel_id` as an encrypted channel of
    /// `room_id` in its verified log `entries`, signed by me, for the shell
    /// to post before it makes a key version there; `None` when nothing
    /// needs registering (the log already has it, or I hold keys of it from
    /// before registration existed and may not register it myself).
    ///
    /// [`Refusal::ChannelNotRegistered`] when the channel is new to me, the
    /// log lacks it and I am not an owner or admin: keys are made for a
    /// channel only once its room's admins have put it in the signed log,
    /// so the server cannot file a channel under a room of its choosing.
    pub fn register_channel(
        &mut self,
        room_id: i64,
        entries: &[String],
        channel_id: i64,
        now: u64,
    ) -> Result<Option<String>> {
        let mut log = self.verify_log(room_id, entries)?;
        if log.channels().contains(&channel_id) {
            return Ok(None);
        }
        if let Some(bound) = self.bound_elsewhere(channel_id, room_id) {
            return Err(Refusal::WrongRoom {
                channel_id,
                room_id: bound,
            });
        }
        let me = self.user_id();
        match log.state().role(me) {
            Some(Role::Owner | Role::Admin) => {
                let identity = self.identity()?;
                let entry = log.append(
                    identity,
                    Action::RegisterChannel {
                        channel: channel_id,
                    },
                    now,
                )?;
                Ok(Some(entry.to_wire()))
            }
            _ if self.holds_keys_of(channel_id) => Ok(None),
            _ => Err(Refusal::ChannelNotRegistered {
                channel_id,
                room_id,
            }),
        }
    }

    /// Whether I may make a key version of `channel_id` under `log`: the log
    /// registers it, or I held keys of it before it was registered (a
    /// channel from before registration, kept working until an admin
    /// registers it).
    pub(crate) fn may_make_keys(&self, log: &MembershipLog, channel_id: i64) -> bool {
        log.channels().contains(&channel_id) || self.holds_keys_of(channel_id)
    }

    fn holds_keys_of(&self, channel_id: i64) -> bool {
        self.state
            .channel_keys
            .get(&channel_id)
            .is_some_and(|versions| !versions.is_empty())
    }

    /// Keys only move forward: each person's entries verify under the keys
    /// they used in the order I accepted them (an entry under a key older
    /// than one they already signed with is refused), and every entry past
    /// the head I verified before must verify under their current key. A
    /// made-up "old" key the server adds to someone's history therefore
    /// cannot sign anything new. People with one accepted key are skipped:
    /// the log's own verification already tied their entries to it.
    fn check_signing_keys(
        &self,
        room_id: i64,
        log: &MembershipLog,
        seen_up_to: Option<u64>,
    ) -> Result<()> {
        let retired = |seq: u64| Refusal::LogInvalid {
            room_id,
            code: format!("retired_key at seq {seq}"),
        };
        let mut newest: BTreeMap<i64, usize> = BTreeMap::new();
        for entry in log.entries() {
            let actor = entry.actor_id();
            let keys = self.accepted_bundles(actor);
            if actor == 0 || actor == self.user_id() || keys.len() < 2 {
                continue;
            }
            let Some(index) = keys.iter().position(|key| {
                KeyRing::from_bundles([key.clone()])
                    .verify_entry(entry)
                    .is_ok()
            }) else {
                continue;
            };
            let past_head = seen_up_to.is_some_and(|seen| entry.seq() > seen);
            if past_head && index + 1 != keys.len() {
                return Err(retired(entry.seq()));
            }
            let previous = newest.entry(actor).or_insert(index);
            if index < *previous {
                return Err(retired(entry.seq()));
            }
            *previous = index;
        }
        Ok(())
    }

    /// Takes in rooms as the server lists them. A room seen as a DM stays
    /// one for this client, so its log must always hold exactly its two
    /// people (a server cannot add a third to a DM's log unnoticed); a room
    /// seen private stays private, so its log may not declare it public
    /// (which would let anyone `join_public` and be given its keys).
    pub fn observe_rooms(&mut self, rooms: &[RoomFacts]) {
        for room in rooms {
            let mut changed = false;
            if room.is_dm {
                changed |= self.state.dm_rooms.insert(room.id);
            }
            if room.is_dm || room.is_private {
                changed |= self.state.private_rooms.insert(room.id);
            }
            if changed {
                self.touch();
            }
        }
    }

    /// [`Machine::verify_log`], as the members and roles it proves.
    pub fn log_view(&mut self, room_id: i64, entries: &[String]) -> Result<LogView> {
        let log = self.verify_log(room_id, entries)?;
        Ok(LogView::of(room_id, &log))
    }

    fn pin_log(&mut self, room_id: i64, log: &MembershipLog) {
        let pin = LogPin {
            seq: head_seq(log),
            hash: log.head_hash(),
            changed_at: last_change(log),
        };
        if self.state.log_pins.get(&room_id) != Some(&pin) {
            self.state.log_pins.insert(room_id, pin);
            self.touch();
        }
        let roles = LogRoles {
            admins: log
                .members()
                .iter()
                .filter(|(_, role)| matches!(role, Role::Owner | Role::Admin))
                .map(|(id, _)| *id)
                .collect(),
            members: log.members().len() as u64,
        };
        if self.state.log_roles.get(&room_id) != Some(&roles) {
            self.state.log_roles.insert(room_id, roles);
            self.touch();
        }
    }

    /// The seq of the last membership change of `room_id`'s log as last
    /// verified (0 if none was verified).
    pub(crate) fn last_change_of(&self, room_id: i64) -> u64 {
        self.state
            .log_pins
            .get(&room_id)
            .map_or(0, |pin| pin.changed_at)
    }

    /// Whether I start the log of a room that has none: its owner, or
    /// either person of a DM — and never a room whose log I have seen.
    pub fn should_start_log(&self, room: &RoomFacts) -> bool {
        !self.state.log_pins.contains_key(&room.id)
            && (room.is_dm || room.my_role.as_deref() == Some("owner"))
    }

    /// The entries that start the log of `room` (`create`, then one `add`
    /// per other member with their role), signed by me, for the shell to
    /// post. The server accepts them only if they reproduce its member
    /// list; the head is pinned when the shell verifies the log it serves
    /// afterwards.
    pub fn start_log(
        &mut self,
        room: &RoomFacts,
        members: &[MemberFact],
        now: u64,
    ) -> Result<Vec<String>> {
        if self.state.log_pins.contains_key(&room.id) {
            return Err(Refusal::LogReset { room_id: room.id });
        }
        if !self.should_start_log(room) {
            return Err(Refusal::MayNotStartLog { room_id: room.id });
        }
        self.observe_rooms(std::slice::from_ref(room));
        let me = self.user_id();
        let bad = |reason: &str| Refusal::BadMemberList {
            room_id: room.id,
            reason: reason.to_string(),
        };
        if !members.iter().any(|m| m.user_id == me) {
            return Err(bad("I am not in it"));
        }
        if room.is_dm && (members.len() != 2 || members.iter().all(|m| m.user_id == me)) {
            return Err(bad("a DM is exactly its two people"));
        }
        let public =
            !room.is_private && !room.is_dm && !self.state.private_rooms.contains(&room.id);
        let identity = self.identity()?;
        let mut log = MembershipLog::create(identity, room.id, public, now);
        for member in members.iter().filter(|m| m.user_id != me) {
            let role = match member.role.as_str() {
                "admin" if !room.is_dm => Role::Admin,
                "owner" if !room.is_dm => return Err(bad("it names another owner")),
                _ => Role::Member,
            };
            log.append(
                identity,
                Action::Add {
                    subject: member.user_id,
                    role,
                },
                now,
            )?;
        }
        Ok(log.entries().iter().map(MembershipEntry::to_wire).collect())
    }

    /// Signs `action` on top of the verified log `entries`; returns the
    /// entry to post. The rules of the log decide whether I may.
    pub fn sign_change(
        &mut self,
        room_id: i64,
        entries: &[String],
        action: Action,
        now: u64,
    ) -> Result<String> {
        let mut log = self.verify_log(room_id, entries)?;
        let identity = self.identity()?;
        let entry = log.append(identity, action, now)?;
        Ok(entry.to_wire())
    }
}

/// The seq of a verified log's head entry.
pub(crate) fn head_seq(log: &MembershipLog) -> u64 {
    (log.len() as u64).saturating_sub(1)
}

/// The seq of the last entry of `log` that changed who is a member (a role
/// change does not): a key version made before it was made for other people.
pub(crate) fn last_change(log: &MembershipLog) -> u64 {
    log.entries()
        .iter()
        .rev()
        .find(|e| {
            matches!(
                e.op(),
                Op::Create | Op::Add | Op::Remove | Op::Leave | Op::JoinPublic | Op::ServerRemove
            )
        })
        .map_or(0, MembershipEntry::seq)
}

/// Everyone who was ever a member according to `log`.
pub(crate) fn ever_members(log: &MembershipLog) -> Vec<i64> {
    let mut ids: BTreeSet<i64> = log.members().keys().copied().collect();
    for entry in log.entries() {
        if matches!(entry.op(), Op::Create | Op::Add | Op::JoinPublic) {
            ids.insert(entry.subject_id());
        }
    }
    ids.into_iter().collect()
}
