//! One membership log entry.
//!
//! Layout (141 bytes signed, 77 bytes for an unsigned server removal):
//! ```text
//! 0x04 0x01 | room_id i64 | seq u64 | prev_hash [32] | timestamp u64
//! | actor_id i64 | op u8 | subject_id i64 | role u8 | flags u8
//! | Ed25519 signature [64]   (absent for op 7, server_remove)
//! ```
//! `prev_hash` is all zeroes for the `create` entry and otherwise
//! `SHA-256(u8 len || "securechat/v1/hash/membership" || previous entry bytes)`.
//! `flags` bit 0 marks a public room and is only allowed on `create`.
//! For op 8 (`channel`) `subject_id` is a channel id, not a user: the entry
//! registers that channel as an encrypted channel of this room.
//! Op 9 (`disappearing`) also names a channel in `subject_id`, and a
//! `seconds u32` follows `flags` (145 bytes signed): the channel's
//! disappearing-message timer from this entry on, 0 for off. Only op 9
//! carries that field, so every entry of the other operations keeps its
//! bytes, its hash and its signature.

use sha2::{Digest, Sha256};

use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{ObjectKind, Result};
use crate::identity::Identity;
use crate::labels::{HASH_MEMBERSHIP, SIG_MEMBERSHIP, TAG_MEMBERSHIP, labeled};
use crate::membership::MembershipError;

const KIND: ObjectKind = ObjectKind::MembershipEntry;
const FLAG_PUBLIC: u8 = 0x01;

/// The shortest disappearing-message timer, in seconds (5 minutes).
pub const DISAPPEARING_MIN_SECONDS: u32 = 300;
/// The longest disappearing-message timer, in seconds (4 weeks).
pub const DISAPPEARING_MAX_SECONDS: u32 = 28 * 24 * 60 * 60;

/// A member's role in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads and writes; cannot change membership except leaving.
    Member,
    /// Also adds members and removes plain members.
    Admin,
    /// Also grants and revokes admin, transfers ownership; exactly one.
    Owner,
}

impl Role {
    fn tag(self) -> u8 {
        match self {
            Role::Member => 1,
            Role::Admin => 2,
            Role::Owner => 3,
        }
    }

    fn from_tag(tag: u8) -> Option<Option<Role>> {
        match tag {
            0 => Some(None),
            1 => Some(Some(Role::Member)),
            2 => Some(Some(Role::Admin)),
            3 => Some(Some(Role::Owner)),
            _ => None,
        }
    }

    /// `owner`, `admin` or `member`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }

    /// Parses [`Role::as_str`].
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "member" => Some(Role::Member),
            "admin" => Some(Role::Admin),
            "owner" => Some(Role::Owner),
            _ => None,
        }
    }
}

/// What an entry does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Creates the room; the actor becomes its owner.
    Create,
    /// An owner or admin adds the subject with a role.
    Add,
    /// An owner or admin removes (kicks or bans) the subject.
    Remove,
    /// The actor leaves.
    Leave,
    /// The actor joins a public room as a member.
    JoinPublic,
    /// The owner changes the subject's role (`owner` transfers ownership).
    SetRole,
    /// The server removed the subject on its own authority (account
    /// disabled). Unsigned; it can only ever remove, never grant.
    ServerRemove,
    /// An owner or admin registers channel `subject_id` as an encrypted
    /// channel of this room: clients bind the channel to the room and keep
    /// it encrypted, whatever the server lists later.
    Channel,
    /// An owner or admin sets the disappearing-message timer of channel
    /// `subject_id` (a registered encrypted channel of this room): messages
    /// sent from then on disappear that many seconds after they were sent;
    /// 0 turns it off. Being signed, the server cannot lengthen or drop it.
    Disappearing,
}

impl Op {
    fn tag(self) -> u8 {
        match self {
            Op::Create => 1,
            Op::Add => 2,
            Op::Remove => 3,
            Op::Leave => 4,
            Op::JoinPublic => 5,
            Op::SetRole => 6,
            Op::ServerRemove => 7,
            Op::Channel => 8,
            Op::Disappearing => 9,
        }
    }

    fn from_tag(tag: u8) -> Option<Op> {
        Some(match tag {
            1 => Op::Create,
            2 => Op::Add,
            3 => Op::Remove,
            4 => Op::Leave,
            5 => Op::JoinPublic,
            6 => Op::SetRole,
            7 => Op::ServerRemove,
            8 => Op::Channel,
            9 => Op::Disappearing,
            _ => return None,
        })
    }

    /// A stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Add => "add",
            Op::Remove => "remove",
            Op::Leave => "leave",
            Op::JoinPublic => "join_public",
            Op::SetRole => "set_role",
            Op::ServerRemove => "server_remove",
            Op::Channel => "channel",
            Op::Disappearing => "disappearing",
        }
    }
}

/// The signed fields of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Body {
    pub(crate) room_id: i64,
    pub(crate) seq: u64,
    pub(crate) prev_hash: [u8; 32],
    pub(crate) timestamp: u64,
    pub(crate) actor_id: i64,
    pub(crate) op: Op,
    pub(crate) subject_id: i64,
    pub(crate) role: Option<Role>,
    pub(crate) public: bool,
    /// The timer of a `disappearing` entry; 0 (and not encoded) otherwise.
    pub(crate) seconds: u32,
}

impl Body {
    fn to_bytes(self) -> Vec<u8> {
        let mut w = Writer::new(TAG_MEMBERSHIP);
        w.i64(self.room_id)
            .u64(self.seq)
            .bytes(&self.prev_hash)
            .u64(self.timestamp)
            .i64(self.actor_id)
            .u8(self.op.tag())
            .i64(self.subject_id)
            .u8(self.role.map_or(0, Role::tag))
            .u8(if self.public { FLAG_PUBLIC } else { 0 });
        if self.op == Op::Disappearing {
            w.u32(self.seconds);
        }
        w.finish()
    }
}

/// The fields of an entry, for [`MembershipEntry::sign_unchecked`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryFields {
    /// The room.
    pub room_id: i64,
    /// Position in the log.
    pub seq: u64,
    /// Hash of the previous entry (zeroes for `create`).
    pub prev_hash: [u8; 32],
    /// Unix seconds.
    pub timestamp: u64,
    /// What is done.
    pub op: Op,
    /// To whom.
    pub subject_id: i64,
    /// Role given, if the operation takes one.
    pub role: Option<Role>,
    /// Public-room flag (only on `create`).
    pub public: bool,
    /// The timer of a `disappearing` entry, in seconds (0: off); must be 0
    /// for every other operation.
    pub seconds: u32,
}

/// A membership log entry, parsed but not yet verified against a log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipEntry {
    pub(crate) body: Body,
    pub(crate) signature: Option<[u8; 64]>,
}

impl MembershipEntry {
    pub(crate) fn sign(actor: &Identity, body: Body) -> Self {
        let signature = actor.sign(SIG_MEMBERSHIP, &body.to_bytes());
        MembershipEntry {
            body,
            signature: Some(signature),
        }
    }

    /// Signs arbitrary fields as `actor` without checking them against any
    /// log. [`crate::MembershipLog::append`] is what clients use; this exists
    /// for test vectors and tests that play a malicious member, whose
    /// entries verifiers must reject. The shape rules of the format still apply.
    pub fn sign_unchecked(actor: &Identity, fields: EntryFields) -> Result<Self> {
        let body = Body {
            room_id: fields.room_id,
            seq: fields.seq,
            prev_hash: fields.prev_hash,
            timestamp: fields.timestamp,
            actor_id: actor.user_id(),
            op: fields.op,
            subject_id: fields.subject_id,
            role: fields.role,
            public: fields.public,
            seconds: fields.seconds,
        };
        if fields.op != Op::Disappearing && fields.seconds != 0 {
            return Err(crate::error::Error::InvalidField {
                object: KIND,
                reason: "only a disappearing entry carries seconds",
            });
        }
        Self::from_bytes(&Self::sign(actor, body).to_bytes())
    }

    pub(crate) fn unsigned(body: Body) -> Self {
        MembershipEntry {
            body,
            signature: None,
        }
    }

    /// Parses the binary form, checking that fields fit the operation.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::open(bytes, TAG_MEMBERSHIP, KIND)?;
        let room_id = r.i64()?;
        let seq = r.u64()?;
        let prev_hash = r.array()?;
        let timestamp = r.u64()?;
        let actor_id = r.i64()?;
        let op = Op::from_tag(r.u8()?).ok_or_else(|| r.invalid("unknown operation"))?;
        let subject_id = r.i64()?;
        let role = Role::from_tag(r.u8()?).ok_or_else(|| r.invalid("unknown role"))?;
        let flags = r.u8()?;
        let seconds = if op == Op::Disappearing { r.u32()? } else { 0 };
        let signature = if op == Op::ServerRemove {
            None
        } else if r.remaining() == 0 {
            return Err(MembershipError::Unsigned { seq }.into());
        } else {
            Some(r.array()?)
        };
        let body = Body {
            room_id,
            seq,
            prev_hash,
            timestamp,
            actor_id,
            op,
            subject_id,
            role,
            public: flags & FLAG_PUBLIC != 0,
            seconds,
        };
        check_shape(&body, flags).map_err(|reason| r.invalid(reason))?;
        r.finish()?;
        Ok(MembershipEntry { body, signature })
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Result<Self> {
        Self::from_bytes(&from_wire(s)?)
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.body.to_bytes();
        if let Some(sig) = &self.signature {
            out.extend_from_slice(sig);
        }
        out
    }

    /// The wire string.
    pub fn to_wire(&self) -> String {
        to_wire(&self.to_bytes())
    }

    /// The chain hash of this entry (the next entry's `prev_hash`).
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(labeled(HASH_MEMBERSHIP, &self.to_bytes())).into()
    }

    /// The room this entry belongs to.
    pub fn room_id(&self) -> i64 {
        self.body.room_id
    }
    /// Its position in the log, from 0.
    pub fn seq(&self) -> u64 {
        self.body.seq
    }
    /// The user who acted (0 for a server removal).
    pub fn actor_id(&self) -> i64 {
        self.body.actor_id
    }
    /// What was done.
    pub fn op(&self) -> Op {
        self.body.op
    }
    /// To whom.
    pub fn subject_id(&self) -> i64 {
        self.body.subject_id
    }
    /// The role given (create, add, join_public, set_role).
    pub fn role(&self) -> Option<Role> {
        self.body.role
    }
    /// The actor's claimed time, unix seconds (informational; not trusted for ordering).
    pub fn timestamp(&self) -> u64 {
        self.body.timestamp
    }
    /// Whether the room is public (meaningful on `create`).
    pub fn public(&self) -> bool {
        self.body.public
    }
    /// The timer a `disappearing` entry sets, in seconds (0: off; 0 for
    /// every other operation).
    pub fn seconds(&self) -> u32 {
        self.body.seconds
    }

    pub(crate) fn signed_bytes(&self) -> Vec<u8> {
        self.body.to_bytes()
    }
}

/// Structural rules that need no state: which fields each operation uses.
/// Keeping them in the parser means an entry has exactly one meaning.
fn check_shape(b: &Body, flags: u8) -> core::result::Result<(), &'static str> {
    if flags & !FLAG_PUBLIC != 0 {
        return Err("unknown flags");
    }
    if b.public && b.op != Op::Create {
        return Err("public flag outside create");
    }
    let self_acting = b.actor_id == b.subject_id;
    match b.op {
        Op::Create if !self_acting || b.role != Some(Role::Owner) => {
            Err("create must make the actor owner")
        }
        Op::Add if !matches!(b.role, Some(Role::Member | Role::Admin)) => {
            Err("add needs role member or admin")
        }
        Op::Remove if b.role.is_some() => Err("remove carries no role"),
        Op::Remove if self_acting => Err("remove of oneself is leave"),
        Op::Leave | Op::JoinPublic if !self_acting => Err("leave and join act on oneself"),
        Op::Leave if b.role.is_some() => Err("leave carries no role"),
        Op::JoinPublic if b.role != Some(Role::Member) => Err("join_public gives role member"),
        Op::SetRole if b.role.is_none() => Err("set_role needs a role"),
        Op::ServerRemove if b.actor_id != 0 || b.role.is_some() => {
            Err("server_remove has actor 0 and no role")
        }
        Op::Channel | Op::Disappearing if b.role.is_some() || b.subject_id <= 0 => {
            Err("channel and disappearing name a channel id and carry no role")
        }
        Op::Disappearing
            if b.seconds != 0
                && !(DISAPPEARING_MIN_SECONDS..=DISAPPEARING_MAX_SECONDS).contains(&b.seconds) =>
        {
            Err("a disappearing timer is 0 (off) or from 5 minutes to 4 weeks")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
pub(crate) fn body_for_tests(op: Op, actor_id: i64, subject_id: i64, role: Option<Role>) -> Body {
    Body {
        room_id: 1,
        seq: 1,
        prev_hash: [0; 32],
        timestamp: 0,
        actor_id,
        op,
        subject_id,
        role,
        public: false,
        seconds: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn shapes_are_enforced_when_parsing() {
        let id = Identity::generate(1).unwrap();
        let bad = [
            body_for_tests(Op::Add, 1, 2, None),
            body_for_tests(Op::Add, 1, 2, Some(Role::Owner)),
            body_for_tests(Op::Remove, 1, 1, None),
            body_for_tests(Op::Leave, 1, 2, None),
            body_for_tests(Op::JoinPublic, 1, 1, Some(Role::Admin)),
            body_for_tests(Op::Create, 1, 2, Some(Role::Owner)),
            body_for_tests(Op::Channel, 1, 7, Some(Role::Member)),
            body_for_tests(Op::Channel, 1, 0, None),
            body_for_tests(Op::Disappearing, 1, 0, None),
            body_for_tests(Op::Disappearing, 1, 7, Some(Role::Admin)),
            Body {
                seconds: 299,
                ..body_for_tests(Op::Disappearing, 1, 7, None)
            },
            Body {
                seconds: DISAPPEARING_MAX_SECONDS + 1,
                ..body_for_tests(Op::Disappearing, 1, 7, None)
            },
        ];
        for body in bad {
            let bytes = MembershipEntry::sign(&id, body).to_bytes();
            assert!(
                matches!(
                    MembershipEntry::from_bytes(&bytes),
                    Err(Error::InvalidField { .. })
                ),
                "{body:?}"
            );
        }
    }

    #[test]
    fn only_a_disappearing_entry_carries_its_seconds() {
        let id = Identity::generate(1).unwrap();
        let timer = Body {
            seconds: 300,
            ..body_for_tests(Op::Disappearing, 1, 7, None)
        };
        let entry = MembershipEntry::sign(&id, timer);
        assert_eq!(entry.to_bytes().len(), 145);
        let back = MembershipEntry::parse(&entry.to_wire()).unwrap();
        assert_eq!(
            (back.op(), back.subject_id(), back.seconds()),
            (Op::Disappearing, 7, 300)
        );
        let off = Body {
            seconds: 0,
            ..timer
        };
        assert_eq!(MembershipEntry::sign(&id, off).to_bytes().len(), 145);
        // Other operations keep their layout: seconds are neither written
        // nor read, so an older entry parses unchanged.
        let channel = MembershipEntry::sign(&id, body_for_tests(Op::Channel, 1, 7, None));
        assert_eq!(channel.to_bytes().len(), 141);
        assert_eq!(
            MembershipEntry::parse(&channel.to_wire())
                .unwrap()
                .seconds(),
            0
        );
    }

    #[test]
    fn missing_signature_is_unsigned() {
        let body = body_for_tests(Op::Add, 1, 2, Some(Role::Member));
        let bytes = MembershipEntry::unsigned(body).to_bytes();
        assert_eq!(
            MembershipEntry::from_bytes(&bytes),
            Err(Error::Membership(MembershipError::Unsigned { seq: 1 }))
        );
    }

    #[test]
    fn server_removal_round_trips_without_signature() {
        let body = body_for_tests(Op::ServerRemove, 0, 2, None);
        let e = MembershipEntry::unsigned(body);
        assert_eq!(e.to_bytes().len(), 77);
        assert_eq!(MembershipEntry::parse(&e.to_wire()), Ok(e));
    }
}
