//! The membership log verifier against a server that lies.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bit_flips, identity};
use proptest::prelude::*;
use securechat_crypto::{
    Action, EntryFields, Error, Identity, KeyRing, MembershipEntry, MembershipError, MembershipLog,
    Op, Role,
};

const OWNER: i64 = 1;
const ADMIN: i64 = 2;
const MEMBER: i64 = 3;
const OUTSIDER: i64 = 4;

fn keys() -> KeyRing {
    KeyRing::from_bundles((1..=5).map(|u| identity(u).bundle()))
}

/// owner creates; adds admin (admin) and member; admin adds 5; 5 leaves.
fn sample_log() -> MembershipLog {
    let mut log = MembershipLog::create(&identity(OWNER), 100, false, 1_000);
    log.append(
        &identity(OWNER),
        Action::Add {
            subject: ADMIN,
            role: Role::Admin,
        },
        1_001,
    )
    .unwrap();
    log.append(
        &identity(OWNER),
        Action::Add {
            subject: MEMBER,
            role: Role::Member,
        },
        1_002,
    )
    .unwrap();
    log.append(
        &identity(ADMIN),
        Action::Add {
            subject: 5,
            role: Role::Member,
        },
        1_003,
    )
    .unwrap();
    log.append(&identity(5), Action::Leave, 1_004).unwrap();
    log
}

fn membership_err(r: Result<MembershipLog, Error>) -> MembershipError {
    match r {
        Err(Error::Membership(e)) => e,
        other => panic!("expected a membership error, got {other:?}"),
    }
}

#[test]
fn verify_yields_members_at_every_point() {
    let log = sample_log();
    let verified = MembershipLog::verify(log.entries(), &keys()).unwrap();
    let now: Vec<_> = verified.members().iter().map(|(&u, &r)| (u, r)).collect();
    assert_eq!(now, [(1, Role::Owner), (2, Role::Admin), (3, Role::Member)]);
    assert!(verified.state_at(3).unwrap().is_member(5));
    assert!(!verified.state_at(4).unwrap().is_member(5));
    assert_eq!(verified.state_at(0).unwrap().members.len(), 1);
    assert!(verified.state_at(5).is_err());
    assert_eq!(verified.head_hash(), log.head_hash());
}

#[test]
fn wire_round_trip() {
    let log = sample_log();
    let wire: Vec<String> = log.entries().iter().map(MembershipEntry::to_wire).collect();
    let verified = MembershipLog::verify_wire(&wire, &keys()).unwrap();
    assert_eq!(verified.members(), log.members());
}

#[test]
fn every_bit_flip_of_every_entry_is_rejected() {
    let log = sample_log();
    for (n, entry) in log.entries().iter().enumerate() {
        for (i, bytes) in bit_flips(&entry.to_bytes()) {
            let result = MembershipEntry::from_bytes(&bytes).and_then(|e| {
                let mut entries = log.entries().to_vec();
                entries[n] = e;
                MembershipLog::verify(&entries, &keys())
            });
            assert!(result.is_err(), "entry {n} bit {i} accepted");
        }
    }
}

#[test]
fn forged_entry_is_rejected() {
    // The server invents "owner adds outsider", signed with a key it made up.
    let log = sample_log();
    let mut fork = MembershipLog::verify(log.entries(), &keys()).unwrap();
    let fake_owner = Identity::generate(OWNER).unwrap();
    fork.append(
        &fake_owner,
        Action::Add {
            subject: OUTSIDER,
            role: Role::Member,
        },
        2_000,
    )
    .unwrap();
    assert_eq!(
        membership_err(MembershipLog::verify(fork.entries(), &keys())),
        MembershipError::BadSignature { seq: 5 }
    );
}

#[test]
fn unknown_signer_is_rejected() {
    let mut log = MembershipLog::create(&identity(OWNER), 1, true, 0);
    log.append(&identity(9), Action::JoinPublic, 1).unwrap();
    assert_eq!(
        membership_err(MembershipLog::verify(log.entries(), &keys())),
        MembershipError::UnknownSigner {
            seq: 1,
            actor_id: 9
        }
    );
}

#[test]
fn reordered_entries_are_rejected() {
    let log = sample_log();
    let mut entries = log.entries().to_vec();
    entries.swap(1, 2);
    assert_eq!(
        membership_err(MembershipLog::verify(&entries, &keys())),
        MembershipError::OutOfOrder {
            expected: 1,
            found: 2
        }
    );
    let mut dropped = log.entries().to_vec();
    dropped.remove(2);
    assert_eq!(
        membership_err(MembershipLog::verify(&dropped, &keys())),
        MembershipError::OutOfOrder {
            expected: 2,
            found: 3
        }
    );
}

#[test]
fn forks_are_rejected() {
    let base = sample_log();
    // Branch A: owner removes the member. Branch B: owner adds the outsider.
    let mut a = MembershipLog::verify(base.entries(), &keys()).unwrap();
    let mut b = MembershipLog::verify(base.entries(), &keys()).unwrap();
    a.append(&identity(OWNER), Action::Remove { subject: MEMBER }, 5)
        .unwrap();
    let b_entry = b
        .append(
            &identity(OWNER),
            Action::Add {
                subject: OUTSIDER,
                role: Role::Member,
            },
            5,
        )
        .unwrap();
    // A client on branch A is offered branch B's entry: same seq, other content.
    assert_eq!(
        a.apply(b_entry, &keys()),
        Err(Error::Membership(MembershipError::Fork { seq: 5 }))
    );
    // A client that pinned A's head is then shown B entirely.
    let pinned = (u64::try_from(a.len()).unwrap() - 1, a.head_hash());
    assert_eq!(
        b.check_extends(pinned.0, &pinned.1),
        Err(Error::Membership(MembershipError::Fork { seq: 5 }))
    );
    assert_eq!(a.check_extends(pinned.0, &pinned.1), Ok(()));
    // B's next entry, spliced after A, does not chain.
    let b_next = b
        .append(&identity(OWNER), Action::Remove { subject: OUTSIDER }, 6)
        .unwrap();
    assert_eq!(
        a.apply(b_next, &keys()),
        Err(Error::Membership(MembershipError::Fork { seq: 6 }))
    );
    // A truncated history (rollback) does not extend the pin either.
    let short = MembershipLog::verify(&base.entries()[..3], &keys()).unwrap();
    assert_eq!(
        short.check_extends(pinned.0, &pinned.1),
        Err(Error::Membership(MembershipError::Fork { seq: 5 }))
    );
}

#[test]
fn duplicates_are_named() {
    let log = sample_log();
    let mut v = MembershipLog::verify(log.entries(), &keys()).unwrap();
    let again = log.entries()[2].clone();
    assert_eq!(
        v.apply(again, &keys()),
        Err(Error::Membership(MembershipError::Duplicate { seq: 2 }))
    );
}

/// What a client's own log says when asked to sign a forbidden `action`.
fn try_append(log: &MembershipLog, actor: i64, action: Action) -> MembershipError {
    let mut copy = log.clone();
    match copy.append(&identity(actor), action, 9) {
        Err(Error::Membership(e)) => e,
        other => panic!("expected refusal, got {other:?}"),
    }
}

#[test]
fn unauthorized_entries_are_rejected() {
    let log = sample_log();
    let add = |subject, role| Action::Add { subject, role };
    let cases = [
        (
            MEMBER,
            add(OUTSIDER, Role::Member),
            "members cannot add people",
        ),
        (
            OUTSIDER,
            add(OUTSIDER, Role::Member),
            "actor is not a member",
        ),
        (
            ADMIN,
            add(OUTSIDER, Role::Admin),
            "only the owner can add admins",
        ),
        (
            ADMIN,
            Action::Remove { subject: OWNER },
            "the owner cannot be removed",
        ),
        (
            MEMBER,
            Action::Remove { subject: ADMIN },
            "members cannot remove people",
        ),
        (
            ADMIN,
            Action::SetRole {
                subject: MEMBER,
                role: Role::Admin,
            },
            "only the owner can change roles",
        ),
        (OUTSIDER, Action::JoinPublic, "the room is not public"),
        (
            MEMBER,
            Action::RegisterChannel { channel: 7 },
            "members cannot register channels",
        ),
        (
            OUTSIDER,
            Action::RegisterChannel { channel: 7 },
            "actor is not a member",
        ),
    ];
    for (actor, action, reason) in cases {
        assert_eq!(
            try_append(&log, actor, action),
            MembershipError::Unauthorized {
                seq: 5,
                actor_id: actor,
                reason
            },
            "{action:?}"
        );
    }
}

#[test]
fn unauthorized_signed_entries_are_rejected_by_verify() {
    // A modified client signs entries its role does not allow, chained
    // correctly onto the real head: the verifier still refuses each one.
    let log = sample_log();
    let fields = |op, subject_id, role| EntryFields {
        room_id: 100,
        seq: 5,
        prev_hash: log.head_hash(),
        timestamp: 9,
        op,
        subject_id,
        role,
        public: false,
        seconds: if op == Op::Disappearing { 300 } else { 0 },
    };
    let cases = [
        (
            MEMBER,
            fields(Op::Add, OUTSIDER, Some(Role::Member)),
            "members cannot add people",
        ),
        (
            OUTSIDER,
            fields(Op::Add, OUTSIDER, Some(Role::Member)),
            "actor is not a member",
        ),
        (
            ADMIN,
            fields(Op::Add, OUTSIDER, Some(Role::Admin)),
            "only the owner can add admins",
        ),
        (
            ADMIN,
            fields(Op::SetRole, ADMIN, Some(Role::Owner)),
            "only the owner can change roles",
        ),
        (
            ADMIN,
            fields(Op::Remove, OWNER, None),
            "the owner cannot be removed",
        ),
        (
            MEMBER,
            fields(Op::Channel, 7, None),
            "members cannot register channels",
        ),
        (
            MEMBER,
            fields(Op::Disappearing, 7, None),
            "members cannot set the disappearing timer",
        ),
        (
            OUTSIDER,
            fields(Op::Disappearing, 7, None),
            "actor is not a member",
        ),
    ];
    for (actor, f, reason) in cases {
        let entry = MembershipEntry::sign_unchecked(&identity(actor), f).unwrap();
        let mut entries = log.entries().to_vec();
        entries.push(entry);
        assert_eq!(
            membership_err(MembershipLog::verify(&entries, &keys())),
            MembershipError::Unauthorized {
                seq: 5,
                actor_id: actor,
                reason
            }
        );
    }
    // A second create in the middle of a log is refused as well.
    let create = MembershipEntry::sign_unchecked(
        &identity(OWNER),
        fields(Op::Create, OWNER, Some(Role::Owner)),
    )
    .unwrap();
    let mut entries = log.entries().to_vec();
    entries.push(create);
    assert_eq!(
        membership_err(MembershipLog::verify(&entries, &keys())),
        MembershipError::NotGenesis { seq: 5 }
    );
}

#[test]
fn invalid_transitions_are_named() {
    let log = sample_log();
    assert_eq!(
        try_append(
            &log,
            OWNER,
            Action::Add {
                subject: MEMBER,
                role: Role::Member
            }
        ),
        MembershipError::InvalidTransition {
            seq: 5,
            reason: "subject is already a member"
        }
    );
    assert_eq!(
        try_append(&log, OWNER, Action::Leave),
        MembershipError::InvalidTransition {
            seq: 5,
            reason: "the owner must transfer ownership before leaving"
        }
    );
}

#[test]
fn ownership_transfer_and_public_join() {
    let mut log = MembershipLog::create(&identity(OWNER), 7, true, 0);
    log.append(&identity(MEMBER), Action::JoinPublic, 1)
        .unwrap();
    log.append(
        &identity(OWNER),
        Action::SetRole {
            subject: MEMBER,
            role: Role::Owner,
        },
        2,
    )
    .unwrap();
    log.append(&identity(OWNER), Action::Leave, 3).unwrap();
    let v = MembershipLog::verify(log.entries(), &keys()).unwrap();
    assert_eq!(v.state().role(MEMBER), Some(Role::Owner));
    assert!(!v.state().is_member(OWNER));
}

#[test]
fn channels_are_registered_once_by_the_owner_or_an_admin() {
    let mut log = sample_log();
    log.append(&identity(ADMIN), Action::RegisterChannel { channel: 7 }, 9)
        .unwrap();
    log.append(&identity(OWNER), Action::RegisterChannel { channel: 8 }, 9)
        .unwrap();
    let verified = MembershipLog::verify(log.entries(), &keys()).unwrap();
    assert_eq!(
        verified.channels().iter().copied().collect::<Vec<_>>(),
        [7, 8]
    );
    // Registering changes no membership.
    assert_eq!(verified.members(), sample_log().members());
    let entry = &verified.entries()[5];
    assert_eq!((entry.op(), entry.subject_id()), (Op::Channel, 7));
    assert_eq!(MembershipEntry::parse(&entry.to_wire()).unwrap(), *entry);
    assert_eq!(
        try_append(&log, OWNER, Action::RegisterChannel { channel: 7 }),
        MembershipError::InvalidTransition {
            seq: 7,
            reason: "channel already registered"
        }
    );
    // The state before the registration does not have it.
    assert!(verified.state_at(4).unwrap().channels.is_empty());
    assert!(verified.state_at(5).unwrap().channels.contains(&7));
}

#[test]
fn disappearing_timers_are_set_by_the_owner_or_an_admin_on_registered_channels() {
    let mut log = sample_log();
    let timer = |channel, seconds| Action::SetDisappearing { channel, seconds };
    assert_eq!(
        try_append(&log, OWNER, timer(7, 300)),
        MembershipError::InvalidTransition {
            seq: 5,
            reason: "the channel is not registered in this log"
        }
    );
    log.append(&identity(ADMIN), Action::RegisterChannel { channel: 7 }, 9)
        .unwrap();
    assert_eq!(
        try_append(&log, MEMBER, timer(7, 300)),
        MembershipError::Unauthorized {
            seq: 6,
            actor_id: MEMBER,
            reason: "members cannot set the disappearing timer"
        }
    );
    assert_eq!(
        try_append(&log, OWNER, timer(7, 0)),
        MembershipError::InvalidTransition {
            seq: 6,
            reason: "timer unchanged"
        }
    );
    // Outside 5 minutes..4 weeks the entry does not even parse.
    let mut copy = log.clone();
    assert!(matches!(
        copy.append(&identity(OWNER), timer(7, 60), 10),
        Err(Error::InvalidField { .. })
    ));
    log.append(&identity(ADMIN), timer(7, 300), 100).unwrap();
    log.append(&identity(OWNER), timer(7, 86_400), 200).unwrap();
    log.append(&identity(OWNER), timer(7, 0), 300).unwrap();

    let verified = MembershipLog::verify(log.entries(), &keys()).unwrap();
    let state = verified.state();
    assert_eq!(state.timer(7), 0);
    assert_eq!(verified.state_at(7).unwrap().timer(7), 86_400);
    // Each message keeps the timer in force when it was sent.
    assert_eq!(state.timer_at(7, 99), 0);
    assert_eq!(state.timer_at(7, 100), 300);
    assert_eq!(state.timer_at(7, 250), 86_400);
    assert_eq!(state.timer_at(7, 300), 0);
    assert_eq!(state.timer_at(8, 250), 0);
    let entry = &verified.entries()[6];
    assert_eq!(
        (entry.op(), entry.subject_id(), entry.seconds()),
        (Op::Disappearing, 7, 300)
    );
    // A timer changes no membership and registers nothing.
    assert_eq!(verified.members(), sample_log().members());
    assert_eq!(verified.channels().len(), 1);
    // The signature covers the seconds: a server rewriting them is caught.
    let mut bytes = entry.to_bytes();
    let at = bytes.len() - 65;
    bytes[at] ^= 0x01;
    let mut entries = verified.entries().to_vec();
    entries.truncate(6);
    entries.push(MembershipEntry::from_bytes(&bytes).unwrap());
    assert_eq!(
        membership_err(MembershipLog::verify(&entries, &keys())),
        MembershipError::BadSignature { seq: 6 }
    );
}

#[test]
fn server_removal_only_removes() {
    let mut log = sample_log();
    log.append_server_removal(MEMBER, 9).unwrap();
    let v = MembershipLog::verify(log.entries(), &keys()).unwrap();
    assert!(!v.state().is_member(MEMBER));
    // Changing an unsigned removal into an add breaks parsing (no signature).
    let mut bytes = log.entries()[5].to_bytes();
    bytes[66] = 2; // the op byte: server_remove -> add
    assert_eq!(
        MembershipEntry::from_bytes(&bytes),
        Err(Error::Membership(MembershipError::Unsigned { seq: 5 }))
    );
}

#[test]
fn genesis_rules() {
    assert_eq!(
        membership_err(MembershipLog::verify(&[], &keys())),
        MembershipError::EmptyLog
    );
    let log = sample_log();
    assert_eq!(
        membership_err(MembershipLog::verify(&log.entries()[1..], &keys())),
        MembershipError::NotGenesis { seq: 1 }
    );
    let other_room = MembershipLog::create(&identity(OWNER), 101, false, 0);
    let mut spliced = log.entries().to_vec();
    spliced[0] = other_room.entries()[0].clone();
    assert!(MembershipLog::verify(&spliced, &keys()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random action sequences: whatever the local log accepted, a fresh
    /// verifier accepts and reaches the same members.
    #[test]
    fn verifier_agrees_with_the_builder(ops in proptest::collection::vec((1i64..=5, 0u8..5, 1i64..=5, 0u8..3), 0..25)) {
        let mut log = MembershipLog::create(&identity(OWNER), 1, true, 0);
        for (t, (actor, op, subject, role)) in ops.into_iter().enumerate() {
            let role = [Role::Member, Role::Admin, Role::Owner][usize::from(role)];
            let action = match op {
                0 => Action::Add { subject, role },
                1 => Action::Remove { subject },
                2 => Action::Leave,
                3 => Action::JoinPublic,
                _ => Action::SetRole { subject, role },
            };
            let _ = log.append(&identity(actor), action, t as u64);
        }
        let v = MembershipLog::verify(log.entries(), &keys()).unwrap();
        prop_assert_eq!(v.members(), log.members());
        prop_assert_eq!(v.members().values().filter(|r| **r == Role::Owner).count(), 1);
    }
}
