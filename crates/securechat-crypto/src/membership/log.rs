//! The verifier: replays a log entry by entry and yields the room's members.

use std::collections::{BTreeMap, BTreeSet};

use crate::bundle::PublicBundle;
use crate::error::{Error, ObjectKind, Result};
use crate::identity::Identity;
use crate::labels::SIG_MEMBERSHIP;
use crate::membership::MembershipError;
use crate::membership::entry::{Body, MembershipEntry, Op, Role};
use crate::membership::rules::{self, Action};

/// The bundles a verifier trusts, by user id: the reader's pinned bundles
/// (all of a user's past bundles too, so entries signed before a key change
/// still verify). The server is not trusted to supply these unchecked.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    bundles: BTreeMap<i64, Vec<PublicBundle>>,
}

impl KeyRing {
    /// An empty key ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// A key ring holding `bundles`.
    pub fn from_bundles(bundles: impl IntoIterator<Item = PublicBundle>) -> Self {
        let mut ring = Self::new();
        for b in bundles {
            ring.insert(b);
        }
        ring
    }

    /// Trusts `bundle` for its user id.
    pub fn insert(&mut self, bundle: PublicBundle) {
        let list = self.bundles.entry(bundle.user_id()).or_default();
        if !list.contains(&bundle) {
            list.push(bundle);
        }
    }

    /// Checks that `entry` is signed by one of its actor's keys in this
    /// ring (`log_unsigned`, `log_unknown_signer`, `log_bad_signature`).
    /// The log's own verification does this for every entry; a reader uses
    /// it alone to ask which of several keys of one person signed an entry.
    pub fn verify_entry(&self, entry: &MembershipEntry) -> Result<(), MembershipError> {
        self.verify(entry)
    }

    fn verify(&self, entry: &MembershipEntry) -> Result<(), MembershipError> {
        let seq = entry.seq();
        let actor_id = entry.actor_id();
        let Some(signature) = &entry.signature else {
            return Err(MembershipError::Unsigned { seq });
        };
        let keys = self
            .bundles
            .get(&actor_id)
            .filter(|l| !l.is_empty())
            .ok_or(MembershipError::UnknownSigner { seq, actor_id })?;
        let body = entry.signed_bytes();
        let ok = keys.iter().any(|k| {
            k.verify(
                SIG_MEMBERSHIP,
                &body,
                signature,
                ObjectKind::MembershipEntry,
            )
            .is_ok()
        });
        if ok {
            Ok(())
        } else {
            Err(MembershipError::BadSignature { seq })
        }
    }
}

/// The state of a room after some prefix of its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomState {
    /// The room.
    pub room_id: i64,
    /// Whether anyone may join (`join_public`).
    pub public: bool,
    /// Current members and their roles.
    pub members: BTreeMap<i64, Role>,
    /// Channels registered as encrypted channels of this room (`channel`
    /// entries). A channel, once registered, stays.
    pub channels: BTreeSet<i64>,
    /// Each channel's disappearing-timer changes (`disappearing` entries),
    /// in log order; a channel without any has no timer.
    pub timers: BTreeMap<i64, Vec<TimerChange>>,
}

/// One `disappearing` entry: a channel's timer from `set_at` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerChange {
    /// The entry's position in the log.
    pub seq: u64,
    /// Who set it (an owner or admin at the time).
    pub actor_id: i64,
    /// The entry's timestamp, unix seconds: the setter's clock, signed.
    pub set_at: u64,
    /// The timer in seconds; 0 is off.
    pub seconds: u32,
}

impl RoomState {
    /// The current disappearing timer of `channel` in seconds (0: off).
    pub fn timer(&self, channel: i64) -> u32 {
        self.timers
            .get(&channel)
            .and_then(|changes| changes.last())
            .map_or(0, |c| c.seconds)
    }

    /// The timer that applies to a message of `channel` sent at `sent_at`
    /// (unix seconds): that of the last change in log order set at or
    /// before it, 0 when none was. A timer applies to messages sent after
    /// it was set, never to older history.
    pub fn timer_at(&self, channel: i64, sent_at: u64) -> u32 {
        self.timers
            .get(&channel)
            .and_then(|changes| changes.iter().rev().find(|c| c.set_at <= sent_at))
            .map_or(0, |c| c.seconds)
    }

    /// Whether `user_id` is a member.
    pub fn is_member(&self, user_id: i64) -> bool {
        self.members.contains_key(&user_id)
    }

    /// `user_id`'s role, if a member.
    pub fn role(&self, user_id: i64) -> Option<Role> {
        self.members.get(&user_id).copied()
    }
}

/// A verified membership log.
#[derive(Debug, Clone)]
pub struct MembershipLog {
    entries: Vec<MembershipEntry>,
    head: [u8; 32],
    state: RoomState,
}

impl MembershipLog {
    /// Starts a room's log with a `create` entry signed by `owner`.
    pub fn create(owner: &Identity, room_id: i64, public: bool, timestamp: u64) -> Self {
        let body = Body {
            room_id,
            seq: 0,
            prev_hash: [0; 32],
            timestamp,
            actor_id: owner.user_id(),
            op: Op::Create,
            subject_id: owner.user_id(),
            role: Some(Role::Owner),
            public,
            seconds: 0,
        };
        let entry = MembershipEntry::sign(owner, body);
        let mut members = BTreeMap::new();
        members.insert(owner.user_id(), Role::Owner);
        MembershipLog {
            head: entry.hash(),
            entries: vec![entry],
            state: RoomState {
                room_id,
                public,
                members,
                channels: BTreeSet::new(),
                timers: BTreeMap::new(),
            },
        }
    }

    /// Verifies a whole log: the genesis entry, then every later entry's
    /// order, chaining, signature and authorization.
    pub fn verify(entries: &[MembershipEntry], keys: &KeyRing) -> Result<Self> {
        let (first, rest) = entries.split_first().ok_or(MembershipError::EmptyLog)?;
        let mut log = Self::from_genesis(first, keys)?;
        for entry in rest {
            log.apply(entry.clone(), keys)?;
        }
        Ok(log)
    }

    /// [`MembershipLog::verify`] over wire strings.
    pub fn verify_wire<S: AsRef<str>>(entries: &[S], keys: &KeyRing) -> Result<Self> {
        let parsed = entries
            .iter()
            .map(|s| MembershipEntry::parse(s.as_ref()))
            .collect::<Result<Vec<_>>>()?;
        Self::verify(&parsed, keys)
    }

    fn from_genesis(first: &MembershipEntry, keys: &KeyRing) -> Result<Self> {
        let b = &first.body;
        if b.op != Op::Create || b.seq != 0 || b.prev_hash != [0; 32] {
            return Err(MembershipError::NotGenesis { seq: b.seq }.into());
        }
        keys.verify(first)?;
        let mut members = BTreeMap::new();
        members.insert(b.actor_id, Role::Owner);
        Ok(MembershipLog {
            head: first.hash(),
            entries: vec![first.clone()],
            state: RoomState {
                room_id: b.room_id,
                public: b.public,
                members,
                channels: BTreeSet::new(),
                timers: BTreeMap::new(),
            },
        })
    }

    /// Checks one new entry against the log and appends it. The server runs
    /// this on an entry a client submits; clients run it on entries pushed to
    /// them. On error the log is unchanged.
    pub fn apply(&mut self, entry: MembershipEntry, keys: &KeyRing) -> Result<()> {
        let b = entry.body;
        let next = self.next_seq();
        if b.room_id != self.state.room_id {
            return Err(MembershipError::WrongRoom { seq: b.seq }.into());
        }
        if b.seq < next {
            let known = self
                .entries
                .get(usize::try_from(b.seq).unwrap_or(usize::MAX));
            return Err(match known {
                Some(k) if *k == entry => MembershipError::Duplicate { seq: b.seq },
                _ => MembershipError::Fork { seq: b.seq },
            }
            .into());
        }
        if b.seq > next {
            return Err(MembershipError::OutOfOrder {
                expected: next,
                found: b.seq,
            }
            .into());
        }
        if b.prev_hash != self.head {
            return Err(MembershipError::Fork { seq: b.seq }.into());
        }
        if b.op == Op::Create {
            return Err(MembershipError::NotGenesis { seq: b.seq }.into());
        }
        if b.op != Op::ServerRemove {
            keys.verify(&entry)?;
        }
        let mut state = self.state.clone();
        rules::apply(&mut state, &b)?;
        self.state = state;
        self.head = entry.hash();
        self.entries.push(entry);
        Ok(())
    }

    /// Signs `action` as `actor`, checks it is allowed now, appends it, and
    /// returns the entry to send to the server.
    pub fn append(
        &mut self,
        actor: &Identity,
        action: Action,
        timestamp: u64,
    ) -> Result<MembershipEntry> {
        let (op, subject_id, role, seconds) = action.fields(actor.user_id());
        let mut body = self.next_body(actor.user_id(), op, subject_id, role, timestamp);
        body.seconds = seconds;
        let entry = MembershipEntry::sign(actor, body);
        self.apply_trusted(entry)
    }

    /// Appends an unsigned `server_remove` of `subject` (for the server only;
    /// clients treat it as a removal and nothing else).
    pub fn append_server_removal(
        &mut self,
        subject: i64,
        timestamp: u64,
    ) -> Result<MembershipEntry> {
        let body = self.next_body(0, Op::ServerRemove, subject, None, timestamp);
        self.apply_trusted(MembershipEntry::unsigned(body))
    }

    fn next_body(
        &self,
        actor_id: i64,
        op: Op,
        subject_id: i64,
        role: Option<Role>,
        timestamp: u64,
    ) -> Body {
        Body {
            room_id: self.state.room_id,
            seq: self.next_seq(),
            prev_hash: self.head,
            timestamp,
            actor_id,
            op,
            subject_id,
            role,
            public: false,
            seconds: 0,
        }
    }

    /// Applies an entry this process just built (no signature check needed:
    /// we made it), after the same state rules as any other entry.
    fn apply_trusted(&mut self, entry: MembershipEntry) -> Result<MembershipEntry> {
        let bytes = entry.to_bytes();
        // Round-trip through the parser so a locally built entry obeys the
        // same shape rules as a received one.
        let entry = MembershipEntry::from_bytes(&bytes)?;
        let mut state = self.state.clone();
        rules::apply(&mut state, &entry.body)?;
        self.state = state;
        self.head = entry.hash();
        self.entries.push(entry.clone());
        Ok(entry)
    }

    fn next_seq(&self) -> u64 {
        u64::try_from(self.entries.len()).unwrap_or(u64::MAX)
    }

    /// The current room state.
    pub fn state(&self) -> &RoomState {
        &self.state
    }

    /// The current members and roles.
    pub fn members(&self) -> &BTreeMap<i64, Role> {
        &self.state.members
    }

    /// The channels registered as encrypted channels of this room.
    pub fn channels(&self) -> &BTreeSet<i64> {
        &self.state.channels
    }

    /// The room state right after entry `seq` (replays the verified prefix).
    pub fn state_at(&self, seq: u64) -> Result<RoomState> {
        let end = usize::try_from(seq)
            .ok()
            .and_then(|s| s.checked_add(1))
            .filter(|&e| e <= self.entries.len())
            .ok_or(Error::InvalidField {
                object: ObjectKind::MembershipEntry,
                reason: "sequence number beyond the log",
            })?;
        let (first, rest) = self
            .entries
            .split_first()
            .ok_or(MembershipError::EmptyLog)?;
        let mut state = RoomState {
            room_id: first.body.room_id,
            public: first.body.public,
            members: BTreeMap::from([(first.body.actor_id, Role::Owner)]),
            channels: BTreeSet::new(),
            timers: BTreeMap::new(),
        };
        for e in rest.iter().take(end.saturating_sub(1)) {
            rules::apply(&mut state, &e.body)?;
        }
        Ok(state)
    }

    /// The verified entries.
    pub fn entries(&self) -> &[MembershipEntry] {
        &self.entries
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false: a verified log has at least its `create` entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The hash of the last entry. Clients pin `(len - 1, head_hash)` and
    /// later call [`MembershipLog::check_extends`] to detect forks.
    pub fn head_hash(&self) -> [u8; 32] {
        self.head
    }

    /// Checks that this log contains the previously pinned entry `seq` with
    /// hash `hash`, i.e. that the server did not switch us to another branch.
    pub fn check_extends(&self, seq: u64, hash: &[u8; 32]) -> Result<()> {
        let entry = usize::try_from(seq)
            .ok()
            .and_then(|i| self.entries.get(i))
            .ok_or(MembershipError::Fork { seq })?;
        if entry.hash() == *hash {
            Ok(())
        } else {
            Err(MembershipError::Fork { seq }.into())
        }
    }
}
