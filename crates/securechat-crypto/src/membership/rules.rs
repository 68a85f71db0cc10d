//! Who may change membership, and how each operation changes the room.
//!
//! - `owner`: everything an admin can, plus granting/revoking admin and
//!   transferring ownership (`set_role` to owner makes the old owner admin).
//!   The owner cannot be removed by anyone but the server and must transfer
//!   ownership before leaving, so a room always has one owner.
//! - `admin`: adds members (not admins) and removes plain members.
//! - `member`: may only leave.
//! - owner and admins: register a channel as an encrypted channel of the
//!   room (`channel`), once per channel; it stays so for good.
//! - owner and admins: set the disappearing-message timer of a registered
//!   channel (`disappearing`); a change must change it.
//! - anyone: may join a room whose `create` entry marked it public.
//! - the server: may only remove (`server_remove`, unsigned). Removal never
//!   gives anyone a key, so the worst a lying server achieves with it is
//!   denial of service, which it can do anyway by dropping messages.

use std::collections::BTreeMap;

use crate::membership::entry::{Body, Op, Role};
use crate::membership::{MembershipError, RoomState, TimerChange};

/// A membership change a client asks to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Add `subject` with `role` (member or admin).
    Add {
        /// The user to add.
        subject: i64,
        /// Their role.
        role: Role,
    },
    /// Remove (kick or ban) `subject`.
    Remove {
        /// The user to remove.
        subject: i64,
    },
    /// Leave the room.
    Leave,
    /// Join a public room.
    JoinPublic,
    /// Change `subject`'s role (owner only; `Owner` transfers ownership).
    SetRole {
        /// The member whose role changes.
        subject: i64,
        /// The new role.
        role: Role,
    },
    /// Register `channel` as an encrypted channel of the room (owner and
    /// admins).
    RegisterChannel {
        /// The channel id.
        channel: i64,
    },
    /// Set the disappearing-message timer of `channel`, a registered
    /// encrypted channel of the room (owner and admins); 0 turns it off.
    SetDisappearing {
        /// The channel id.
        channel: i64,
        /// Seconds from a message's sending to its disappearing.
        seconds: u32,
    },
}

impl Action {
    /// The operation, subject, role and timer seconds this action writes
    /// for `actor`.
    pub(crate) fn fields(self, actor: i64) -> (Op, i64, Option<Role>, u32) {
        match self {
            Action::Add { subject, role } => (Op::Add, subject, Some(role), 0),
            Action::Remove { subject } => (Op::Remove, subject, None, 0),
            Action::Leave => (Op::Leave, actor, None, 0),
            Action::JoinPublic => (Op::JoinPublic, actor, Some(Role::Member), 0),
            Action::SetRole { subject, role } => (Op::SetRole, subject, Some(role), 0),
            Action::RegisterChannel { channel } => (Op::Channel, channel, None, 0),
            Action::SetDisappearing { channel, seconds } => {
                (Op::Disappearing, channel, None, seconds)
            }
        }
    }
}

/// Applies one (already authenticated, correctly chained) entry to `state`,
/// or says why the actor may not do it. `state` is unchanged on error.
pub(crate) fn apply(state: &mut RoomState, b: &Body) -> Result<(), MembershipError> {
    let seq = b.seq;
    let unauthorized = |reason| MembershipError::Unauthorized {
        seq,
        actor_id: b.actor_id,
        reason,
    };
    let invalid = |reason| MembershipError::InvalidTransition { seq, reason };
    let members: &mut BTreeMap<i64, Role> = &mut state.members;
    let actor_role = members.get(&b.actor_id).copied();
    let subject_role = members.get(&b.subject_id).copied();

    match b.op {
        Op::Create => return Err(MembershipError::NotGenesis { seq }),
        Op::Add => {
            let granted = b.role.ok_or_else(|| invalid("add without role"))?;
            match actor_role {
                None => return Err(unauthorized("actor is not a member")),
                Some(Role::Member) => return Err(unauthorized("members cannot add people")),
                Some(Role::Admin) if granted != Role::Member => {
                    return Err(unauthorized("only the owner can add admins"));
                }
                Some(_) => {}
            }
            if subject_role.is_some() {
                return Err(invalid("subject is already a member"));
            }
            members.insert(b.subject_id, granted);
        }
        Op::Remove => {
            let Some(target) = subject_role else {
                return Err(invalid("subject is not a member"));
            };
            match (actor_role, target) {
                (None, _) => return Err(unauthorized("actor is not a member")),
                (Some(Role::Member), _) => {
                    return Err(unauthorized("members cannot remove people"));
                }
                (Some(_), Role::Owner) => return Err(unauthorized("the owner cannot be removed")),
                (Some(Role::Admin), Role::Admin) => {
                    return Err(unauthorized("only the owner can remove admins"));
                }
                _ => {}
            }
            members.remove(&b.subject_id);
        }
        Op::Leave => match actor_role {
            None => return Err(invalid("actor is not a member")),
            Some(Role::Owner) => {
                return Err(invalid("the owner must transfer ownership before leaving"));
            }
            Some(_) => {
                members.remove(&b.actor_id);
            }
        },
        Op::JoinPublic => {
            if !state.public {
                return Err(unauthorized("the room is not public"));
            }
            if actor_role.is_some() {
                return Err(invalid("actor is already a member"));
            }
            members.insert(b.actor_id, Role::Member);
        }
        Op::SetRole => {
            let new_role = b.role.ok_or_else(|| invalid("set_role without role"))?;
            if actor_role != Some(Role::Owner) {
                return Err(unauthorized("only the owner can change roles"));
            }
            let Some(current) = subject_role else {
                return Err(invalid("subject is not a member"));
            };
            if b.subject_id == b.actor_id {
                return Err(invalid("the owner cannot change its own role"));
            }
            if current == new_role {
                return Err(invalid("role unchanged"));
            }
            if new_role == Role::Owner {
                members.insert(b.actor_id, Role::Admin);
            }
            members.insert(b.subject_id, new_role);
        }
        Op::ServerRemove => {
            if subject_role.is_none() {
                return Err(invalid("subject is not a member"));
            }
            members.remove(&b.subject_id);
        }
        Op::Channel => {
            match actor_role {
                None => return Err(unauthorized("actor is not a member")),
                Some(Role::Member) => {
                    return Err(unauthorized("members cannot register channels"));
                }
                Some(_) => {}
            }
            if !state.channels.insert(b.subject_id) {
                return Err(invalid("channel already registered"));
            }
        }
        Op::Disappearing => {
            match actor_role {
                None => return Err(unauthorized("actor is not a member")),
                Some(Role::Member) => {
                    return Err(unauthorized("members cannot set the disappearing timer"));
                }
                Some(_) => {}
            }
            if !state.channels.contains(&b.subject_id) {
                return Err(invalid("the channel is not registered in this log"));
            }
            if state.timer(b.subject_id) == b.seconds {
                return Err(invalid("timer unchanged"));
            }
            state
                .timers
                .entry(b.subject_id)
                .or_default()
                .push(TimerChange {
                    seq: b.seq,
                    actor_id: b.actor_id,
                    set_at: b.timestamp,
                    seconds: b.seconds,
                });
        }
    }
    Ok(())
}
