//! Message envelopes: round trips, tampering, forgery and replay.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bit_flips, identity, rng};
use proptest::prelude::*;
use securechat_crypto::{
    ChannelKey, ContextField, Envelope, Error, MessageBinding, MessageKind, ObjectKind, ReplayGuard,
};

fn key() -> ChannelKey {
    ChannelKey::generate_with_rng(&mut rng(1)).unwrap()
}

fn envelope(text: &[u8]) -> Envelope {
    Envelope::encrypt_format1_with_rng(&identity(1), &key(), 10, 2, 0, text, &mut rng(2)).unwrap()
}

fn bound(kind: MessageKind, target_id: i64, reply_to: i64) -> MessageBinding {
    MessageBinding {
        room_id: 4,
        kind,
        target_id,
        reply_to,
    }
}

#[test]
fn format_2_binds_room_kind_target_reply_and_key() {
    let binding = bound(MessageKind::Edit, 77, 66);
    let env = Envelope::encrypt_with_rng(
        &identity(1),
        &key(),
        10,
        2,
        5,
        &binding,
        b"fixed",
        &mut rng(3),
    )
    .unwrap();
    let parsed = Envelope::parse(&env.to_wire()).unwrap();
    assert_eq!(parsed.format(), 2);
    assert_eq!(parsed.binding(), Some(&binding));
    let plain = parsed
        .decrypt(&key(), &identity(1).bundle(), 10, 2)
        .unwrap();
    assert_eq!(plain.as_slice(), b"fixed");
    // Under another key for the same version: caught by the commitment,
    // before any decryption.
    let other = ChannelKey::generate_with_rng(&mut rng(9)).unwrap();
    assert_eq!(
        parsed.decrypt(&other, &identity(1).bundle(), 10, 2),
        Err(Error::ContextMismatch {
            field: ContextField::KeyCommitment
        })
    );
    // Every bound field is under the signature.
    for (i, bytes) in bit_flips(&env.to_bytes()) {
        let result = Envelope::from_bytes(&bytes)
            .and_then(|e| e.decrypt(&key(), &identity(1).bundle(), 10, 2));
        assert!(result.is_err(), "bit {i} accepted");
    }
    // Only an edit names a target.
    assert!(matches!(
        Envelope::encrypt(
            &identity(1),
            &key(),
            10,
            2,
            0,
            &bound(MessageKind::Message, 77, 0),
            b"x"
        ),
        Err(Error::InvalidField { .. })
    ));
    for kind in ["message", "edit", "file", "resource"] {
        assert_eq!(MessageKind::parse(kind).unwrap().name(), kind);
    }
    assert_eq!(MessageKind::parse("other"), None);
}

#[test]
fn round_trip_through_the_wire() {
    let env = envelope(b"hello bob");
    let parsed = Envelope::parse(&env.to_wire()).unwrap();
    assert_eq!(parsed, env);
    let plain = parsed
        .decrypt(&key(), &identity(1).bundle(), 10, 2)
        .unwrap();
    assert_eq!(plain.as_slice(), b"hello bob");
}

#[test]
fn every_bit_flip_is_rejected() {
    let env = envelope(b"attack at dawn");
    let alice = identity(1).bundle();
    for (i, bytes) in bit_flips(&env.to_bytes()) {
        let result = Envelope::from_bytes(&bytes).and_then(|e| e.decrypt(&key(), &alice, 10, 2));
        assert!(result.is_err(), "bit {i} accepted");
    }
}

#[test]
fn replay_under_another_channel_or_version_is_rejected() {
    let env = envelope(b"x");
    let alice = identity(1).bundle();
    assert_eq!(
        env.decrypt(&key(), &alice, 11, 2),
        Err(Error::ContextMismatch {
            field: ContextField::ChannelId
        })
    );
    assert_eq!(
        env.decrypt(&key(), &alice, 10, 3),
        Err(Error::ContextMismatch {
            field: ContextField::KeyVersion
        })
    );
}

#[test]
fn a_member_cannot_forge_another() {
    // Carol holds the channel key and signs as herself but claims alice's id:
    // verification against alice's bundle fails.
    let forged =
        Envelope::encrypt_format1_with_rng(&identity(3), &key(), 10, 2, 0, b"x", &mut rng(3))
            .unwrap();
    let mut bytes = forged.to_bytes();
    bytes[14..22].copy_from_slice(&1i64.to_be_bytes());
    let relabeled = Envelope::from_bytes(&bytes).unwrap();
    assert_eq!(
        relabeled.decrypt(&key(), &identity(1).bundle(), 10, 2),
        Err(Error::BadSignature(ObjectKind::Message))
    );
    // And checking carol's message against alice's bundle is a signer mismatch.
    assert_eq!(
        forged.decrypt(&key(), &identity(1).bundle(), 10, 2),
        Err(Error::SignerMismatch)
    );
}

#[test]
fn an_old_key_cannot_read_a_new_version() {
    let old = key();
    let new = ChannelKey::generate_with_rng(&mut rng(99)).unwrap();
    let env = Envelope::encrypt_format1(&identity(1), &new, 10, 3, 0, b"after the kick").unwrap();
    assert_eq!(
        env.decrypt(&old, &identity(1).bundle(), 10, 3),
        Err(Error::DecryptionFailed(ObjectKind::Message))
    );
}

#[test]
fn the_replay_guard_catches_a_second_delivery() {
    let env = envelope(b"once");
    let mut guard = ReplayGuard::new();
    assert_eq!(guard.check_and_record(env.header()), Ok(()));
    assert!(matches!(
        guard.check_and_record(env.header()),
        Err(Error::Replay {
            sender_id: 1,
            counter: 0
        })
    ));
}

#[test]
fn oversized_plaintext_is_refused() {
    let big = vec![0u8; securechat_crypto::message::MAX_PLAINTEXT + 1];
    assert_eq!(
        Envelope::encrypt_format1(&identity(1), &key(), 1, 1, 0, &big).map(|_| ()),
        Err(Error::TooLarge(ObjectKind::Message))
    );
}

#[test]
fn the_server_can_check_the_signature_without_the_key() {
    let env = envelope(b"x");
    assert_eq!(env.verify_signature(&identity(1).bundle()), Ok(()));
    let mut bytes = env.to_bytes();
    bytes[50] ^= 1;
    let tampered = Envelope::from_bytes(&bytes).unwrap();
    assert_eq!(
        tampered.verify_signature(&identity(1).bundle()),
        Err(Error::BadSignature(ObjectKind::Message))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_message_round_trips(
        text in proptest::collection::vec(any::<u8>(), 0..2000),
        channel_id in any::<i64>(),
        key_version in any::<u32>(),
        counter in any::<u32>(),
    ) {
        let env = Envelope::encrypt_format1(&identity(1), &key(), channel_id, key_version, counter, &text).unwrap();
        let parsed = Envelope::parse(&env.to_wire()).unwrap();
        prop_assert_eq!(parsed.header().counter, counter);
        let plain = parsed.decrypt(&key(), &identity(1).bundle(), channel_id, key_version).unwrap();
        prop_assert_eq!(plain.as_slice(), text.as_slice());
    }

    #[test]
    fn random_bit_flips_in_long_messages_are_rejected(
        text in proptest::collection::vec(any::<u8>(), 1..500),
        bit in any::<prop::sample::Index>(),
    ) {
        let env = Envelope::encrypt_format1(&identity(1), &key(), 1, 1, 0, &text).unwrap();
        let mut bytes = env.to_bytes();
        let i = bit.index(bytes.len() * 8);
        bytes[i / 8] ^= 1 << (i % 8);
        let result = Envelope::from_bytes(&bytes).and_then(|e| e.decrypt(&key(), &identity(1).bundle(), 1, 1));
        prop_assert!(result.is_err());
    }

    #[test]
    fn garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Envelope::from_bytes(&bytes);
    }
}
