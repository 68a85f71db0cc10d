//! Sealed key shares: round trips, tampering and replay to another context.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bit_flips, identity, rng};
use proptest::prelude::*;
use securechat_crypto::{
    ChannelKey, ContextField, Error, ObjectKind, SealedShare, ShareContext, SharePurpose,
};

fn ctx(purpose: SharePurpose) -> ShareContext {
    ShareContext {
        room_id: 4,
        channel_id: 10,
        key_version: 3,
        sender_id: 1,
        recipient_id: 2,
        purpose,
    }
}

fn sealed(purpose: SharePurpose) -> (SealedShare, ChannelKey) {
    let key = ChannelKey::generate_with_rng(&mut rng(7)).unwrap();
    let share = SealedShare::seal_with_rng(
        &identity(1),
        &identity(2).bundle(),
        4,
        10,
        3,
        17,
        purpose,
        &key,
        &mut rng(8),
    )
    .unwrap();
    (share, key)
}

#[test]
fn format_2_binds_the_room_log_seq_and_key_commitment() {
    let (share, key) = sealed(SharePurpose::Rotation);
    assert_eq!(share.format(), 2);
    let binding = *share.binding().unwrap();
    assert_eq!(binding.log_seq, 17);
    assert_eq!(binding.commitment, key.commitment(4, 10, 3));
    assert_ne!(binding.commitment, key.commitment(5, 10, 3));
    assert_ne!(binding.commitment, key.commitment(4, 10, 4));
    assert_eq!(
        share.open(
            &identity(2),
            &identity(1).bundle(),
            &ShareContext {
                room_id: 5,
                ..ctx(SharePurpose::Rotation)
            }
        ),
        Err(Error::ContextMismatch {
            field: ContextField::RoomId
        })
    );
}

#[test]
fn format_1_shares_are_still_read() {
    let key = ChannelKey::generate_with_rng(&mut rng(7)).unwrap();
    let share = SealedShare::seal_format1_with_rng(
        &identity(1),
        &identity(2).bundle(),
        10,
        3,
        SharePurpose::Initial,
        &key,
        &mut rng(8),
    )
    .unwrap();
    let parsed = SealedShare::parse(&share.to_wire()).unwrap();
    assert_eq!(parsed.format(), 1);
    assert!(parsed.binding().is_none());
    assert_eq!(
        parsed.to_bytes().len(),
        securechat_crypto::share::SHARE_LEN_V1
    );
    // A format-1 share names no room: the opener's room is not compared.
    let opened = parsed
        .open(
            &identity(2),
            &identity(1).bundle(),
            &ctx(SharePurpose::Initial),
        )
        .unwrap();
    assert_eq!(opened, key);
}

#[test]
fn round_trip_through_the_wire() {
    for purpose in [
        SharePurpose::Initial,
        SharePurpose::Rotation,
        SharePurpose::Request { request_id: 77 },
    ] {
        let (share, key) = sealed(purpose);
        let wire = share.to_wire();
        let parsed = SealedShare::parse(&wire).unwrap();
        assert_eq!(parsed.to_bytes().len(), securechat_crypto::share::SHARE_LEN);
        assert_eq!(*parsed.context(), ctx(purpose));
        let opened = parsed
            .open(&identity(2), &identity(1).bundle(), &ctx(purpose))
            .unwrap();
        assert_eq!(opened, key);
    }
}

#[test]
fn every_bit_flip_is_rejected() {
    let purpose = SharePurpose::Request { request_id: 5 };
    let (share, _) = sealed(purpose);
    let (bob, alice) = (identity(2), identity(1).bundle());
    for (i, bytes) in bit_flips(&share.to_bytes()) {
        let result =
            SealedShare::from_bytes(&bytes).and_then(|s| s.open(&bob, &alice, &ctx(purpose)));
        assert!(result.is_err(), "bit {i} accepted");
    }
}

#[test]
fn replay_to_another_context_is_rejected_with_the_field() {
    let (share, _) = sealed(SharePurpose::Rotation);
    let (bob, alice) = (identity(2), identity(1).bundle());
    let cases = [
        (
            ShareContext {
                channel_id: 11,
                ..ctx(SharePurpose::Rotation)
            },
            ContextField::ChannelId,
        ),
        (
            ShareContext {
                key_version: 4,
                ..ctx(SharePurpose::Rotation)
            },
            ContextField::KeyVersion,
        ),
        (ctx(SharePurpose::Initial), ContextField::Purpose),
        (
            ctx(SharePurpose::Request { request_id: 1 }),
            ContextField::Purpose,
        ),
        (
            ShareContext {
                sender_id: 3,
                ..ctx(SharePurpose::Rotation)
            },
            ContextField::SenderId,
        ),
        (
            ShareContext {
                recipient_id: 3,
                ..ctx(SharePurpose::Rotation)
            },
            ContextField::RecipientId,
        ),
    ];
    for (expected, field) in cases {
        assert_eq!(
            share.open(&bob, &alice, &expected),
            Err(Error::ContextMismatch { field })
        );
    }
}

#[test]
fn answer_to_another_request_is_rejected() {
    let (share, _) = sealed(SharePurpose::Request { request_id: 5 });
    assert_eq!(
        share.open(
            &identity(2),
            &identity(1).bundle(),
            &ctx(SharePurpose::Request { request_id: 6 })
        ),
        Err(Error::ContextMismatch {
            field: ContextField::RequestId
        })
    );
}

#[test]
fn another_recipient_cannot_open() {
    let (share, _) = sealed(SharePurpose::Initial);
    // Carol claims to be the recipient: the recipient id is bound.
    let carol_ctx = ShareContext {
        recipient_id: 3,
        ..ctx(SharePurpose::Initial)
    };
    assert!(matches!(
        share.open(&identity(3), &identity(1).bundle(), &carol_ctx),
        Err(Error::ContextMismatch { .. })
    ));
    // Bob with a new identity (a key the server swapped in) cannot open it either.
    let new_bob = securechat_crypto::Identity::generate(2).unwrap();
    assert_eq!(
        share.open(&new_bob, &identity(1).bundle(), &ctx(SharePurpose::Initial)),
        Err(Error::ContextMismatch {
            field: ContextField::RecipientKey
        })
    );
}

#[test]
fn wrong_or_forged_sender_is_rejected() {
    let (share, _) = sealed(SharePurpose::Initial);
    // Verifying against another user's bundle.
    assert_eq!(
        share.open(
            &identity(2),
            &identity(3).bundle(),
            &ctx(SharePurpose::Initial)
        ),
        Err(Error::SignerMismatch)
    );
    // A different key for user 1 (the server swapped alice's bundle).
    let fake_alice = securechat_crypto::Identity::generate(1).unwrap().bundle();
    assert_eq!(
        share.open(&identity(2), &fake_alice, &ctx(SharePurpose::Initial)),
        Err(Error::BadSignature(ObjectKind::Share))
    );
}

#[test]
fn the_server_can_check_the_signature_without_opening() {
    let (share, _) = sealed(SharePurpose::Initial);
    assert_eq!(share.verify_signature(&identity(1).bundle()), Ok(()));
    assert_eq!(
        share.verify_signature(&identity(2).bundle()),
        Err(Error::SignerMismatch)
    );
    let fake_alice = securechat_crypto::Identity::generate(1).unwrap().bundle();
    assert_eq!(
        share.verify_signature(&fake_alice),
        Err(Error::BadSignature(ObjectKind::Share))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_context_round_trips(
        room_id in any::<i64>(),
        log_seq in any::<u64>(),
        channel_id in any::<i64>(),
        key_version in any::<u32>(),
        request_id in any::<i64>(),
        key in any::<[u8; 32]>(),
        kind in 0u8..3,
    ) {
        let purpose = match kind {
            0 => SharePurpose::Initial,
            1 => SharePurpose::Rotation,
            _ => SharePurpose::Request { request_id },
        };
        let key = ChannelKey::from_bytes(key);
        let share = SealedShare::seal(&identity(1), &identity(2).bundle(), room_id, channel_id, key_version, log_seq, purpose, &key).unwrap();
        let parsed = SealedShare::parse(&share.to_wire()).unwrap();
        prop_assert_eq!(parsed.binding().unwrap().log_seq, log_seq);
        let expected = ShareContext { room_id, channel_id, key_version, sender_id: 1, recipient_id: 2, purpose };
        prop_assert_eq!(parsed.open(&identity(2), &identity(1).bundle(), &expected).unwrap(), key);
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = SealedShare::from_bytes(&bytes);
    }
}
