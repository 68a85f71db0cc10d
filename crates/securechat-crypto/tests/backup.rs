//! Sealed backups: the identity and the client's trust document, under a
//! recovery key (HKDF) or a passphrase (Argon2id); format 1 still opens.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{identity, rng};
use proptest::prelude::*;
use securechat_crypto::backup::{
    BackupKdf, BackupKey, MAX_TRUST_LEN, MIN_PASSPHRASE_LEN, RecoveryKey, RecoveryWordsError,
};
use securechat_crypto::{Backup, BackupParams, Error, ObjectKind};

const PASS: &[u8] = b"correct horse battery staple";
const TRUST: &[u8] = br#"{"pins":{"2":{"current":"AQE","accepted":["AQE"]}},"log_heads":{}}"#;

fn sealed() -> Backup {
    Backup::seal_v1_with(&identity(1), PASS, BackupParams::MIN, &mut rng(5)).unwrap()
}

fn recovery() -> RecoveryKey {
    RecoveryKey::generate_with(&mut rng(11)).unwrap()
}

fn sealed_under_recovery_key() -> Backup {
    let key = BackupKey::from_recovery_key_with(&recovery(), &mut rng(12)).unwrap();
    Backup::seal_contents_with(&key, &identity(1), TRUST, &mut rng(13)).unwrap()
}

#[test]
fn round_trip_restores_the_same_identity() {
    let backup = Backup::seal(&identity(1), PASS).unwrap();
    assert_eq!(backup.params(), Some(BackupParams::DEFAULT));
    assert_eq!(backup.version(), 2);
    let restored = Backup::parse(&backup.to_wire())
        .unwrap()
        .open(PASS)
        .unwrap();
    assert_eq!(restored.bundle(), identity(1).bundle());
    assert_eq!(restored.export(), identity(1).export());
}

#[test]
fn recovery_key_round_trip_through_the_words() {
    let words = recovery().words();
    let backup = Backup::parse(&sealed_under_recovery_key().to_wire()).unwrap();
    assert_eq!(backup.kdf(), BackupKdf::RecoveryKey);
    assert_eq!(backup.params(), None);
    let typed = RecoveryKey::from_words(&words.to_uppercase()).unwrap();
    let key = backup.unlock_with_recovery_key(&typed).unwrap();
    let contents = backup.open_with(&key).unwrap();
    assert_eq!(contents.identity.export(), identity(1).export());
    assert_eq!(contents.trust.as_slice(), TRUST);
    // The kept key seals again (new nonce, same derivation) and opens again.
    let kept = BackupKey::import(&key.export()).unwrap();
    assert_eq!(kept, key);
    let again = Backup::seal_contents(&kept, &identity(1), b"{}").unwrap();
    assert_ne!(again.to_bytes(), backup.to_bytes());
    let reopened = Backup::parse(&again.to_wire())
        .unwrap()
        .open_with(&BackupKey::import(&kept.export()).unwrap())
        .unwrap();
    assert_eq!(reopened.trust.as_slice(), b"{}");
    // A passphrase does not open a recovery-key backup, nor the reverse.
    assert!(backup.unlock_with_passphrase(PASS).is_err());
    assert_eq!(
        backup.open(PASS).map(|_| ()),
        Err(Error::DecryptionFailed(ObjectKind::Backup))
    );
    assert!(sealed().unlock_with_recovery_key(&typed).is_err());
}

#[test]
fn another_recovery_key_does_not_open() {
    let backup = sealed_under_recovery_key();
    let other = RecoveryKey::generate_with(&mut rng(99)).unwrap();
    let key = backup.unlock_with_recovery_key(&other).unwrap();
    assert_eq!(
        backup.open_with(&key).map(|_| ()),
        Err(Error::DecryptionFailed(ObjectKind::Backup))
    );
    // A key kept for another backup (other salt) does not open it either.
    let elsewhere = BackupKey::from_recovery_key_with(&recovery(), &mut rng(77)).unwrap();
    assert_eq!(
        backup.open_with(&elsewhere).map(|_| ()),
        Err(Error::DecryptionFailed(ObjectKind::Backup))
    );
}

#[test]
fn a_mistyped_word_is_refused_before_any_decryption() {
    let words = recovery().words();
    let mut list: Vec<String> = words.split(' ').map(str::to_owned).collect();
    list[2].push('x');
    assert!(matches!(
        RecoveryKey::from_words(&list.join(" ")),
        Err(RecoveryWordsError::UnknownWord { position: 3, .. })
    ));
    // Another list word in place of the last: the checksum catches it.
    let original: Vec<&str> = words.split(' ').collect();
    let caught = ["abandon", "ability", "able", "about", "above", "absent"]
        .iter()
        .filter(|w| **w != original[11])
        .filter(|w| {
            let mut changed = original.clone();
            changed[11] = w;
            RecoveryKey::from_words(&changed.join(" ")).err() == Some(RecoveryWordsError::Checksum)
        })
        .count();
    assert!(caught >= 3, "checksum caught only {caught} of the changes");
    let err = RecoveryKey::from_words("abandon ability").unwrap_err();
    assert_eq!(err.code(), "recovery_key_word_count");
    assert!(err.to_string().contains("12 words"));
}

#[test]
fn a_tampered_recovery_key_backup_is_refused() {
    let bytes = sealed_under_recovery_key().to_bytes();
    let key = BackupKey::import(
        &sealed_under_recovery_key()
            .unlock_with_recovery_key(&recovery())
            .unwrap()
            .export(),
    )
    .unwrap();
    for (i, m) in common::bit_flips(&bytes) {
        let opened = Backup::from_bytes(&m).and_then(|b| {
            let key = b
                .unlock_with_recovery_key(&recovery())
                .unwrap_or_else(|_| key.clone());
            b.open_with(&key)
        });
        assert!(opened.is_err(), "bit {i} flipped and still opened");
    }
    // Truncated, extended, or with an unknown derivation.
    assert!(
        Backup::from_bytes(&bytes[..bytes.len() - 1]).is_ok_and(|b| b.open_with(&key).is_err())
    );
    let mut unknown = bytes.clone();
    unknown[2] = 9;
    assert!(matches!(
        Backup::from_bytes(&unknown),
        Err(Error::InvalidField { .. })
    ));
    // Format 1 has no recovery-key derivation.
    let mut v1 = bytes.clone();
    v1[1] = 1;
    assert!(Backup::from_bytes(&v1).is_err());
}

#[test]
fn an_oversized_trust_document_is_refused() {
    let key = BackupKey::from_recovery_key(&recovery()).unwrap();
    let big = vec![b' '; MAX_TRUST_LEN + 1];
    assert_eq!(
        Backup::seal_contents(&key, &identity(1), &big).map(|_| ()),
        Err(Error::TooLarge(ObjectKind::Backup))
    );
}

#[test]
fn format_1_still_opens_and_its_key_seals_format_2() {
    let v1 = Backup::parse(&sealed().to_wire()).unwrap();
    assert_eq!(v1.version(), 1);
    assert_eq!(v1.open(PASS).unwrap().export(), identity(1).export());
    let key = v1.unlock_with_passphrase(PASS).unwrap();
    let contents = v1.open_with(&key).unwrap();
    assert!(contents.trust.is_empty());
    let v2 = Backup::seal_contents(&key, &contents.identity, TRUST).unwrap();
    assert_eq!(v2.version(), 2);
    assert_eq!(v2.params(), Some(BackupParams::MIN));
    let reopened = Backup::parse(&v2.to_wire())
        .unwrap()
        .open_with(&key)
        .unwrap();
    assert_eq!(reopened.trust.as_slice(), TRUST);
}

#[test]
fn wrong_passphrase_fails() {
    assert_eq!(
        sealed().open(b"correct horse battery stapler").map(|_| ()),
        Err(Error::DecryptionFailed(ObjectKind::Backup))
    );
}

#[test]
fn short_passphrase_is_refused() {
    assert_eq!(
        Backup::seal(&identity(1), b"1234567").map(|_| ()),
        Err(Error::WeakPassphrase {
            min: MIN_PASSPHRASE_LEN
        })
    );
}

#[test]
fn parameter_bounds_are_enforced_on_parse() {
    let bytes = sealed().to_bytes();
    // m_cost lives at bytes 3..7: lower it below the floor (downgrade).
    let mut weak = bytes.clone();
    weak[3..7].copy_from_slice(&1024u32.to_be_bytes());
    assert_eq!(Backup::from_bytes(&weak), Err(Error::WeakKdfParameters));
    // Raise it above the ceiling (a blob that would allocate 4 GiB).
    let mut huge = bytes.clone();
    huge[3..7].copy_from_slice(&(4u32 << 20).to_be_bytes());
    assert_eq!(
        Backup::from_bytes(&huge),
        Err(Error::ExcessiveKdfParameters)
    );
    assert_eq!(
        BackupKey::from_passphrase_with(
            PASS,
            BackupParams {
                t_cost: 1,
                ..BackupParams::DEFAULT
            },
            &mut rng(1)
        )
        .map(|_| ()),
        Err(Error::WeakKdfParameters)
    );
}

proptest! {
    // Each case runs Argon2id at 19 MiB, so sample bits rather than all of them.
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn bit_flips_are_rejected(bit in any::<prop::sample::Index>()) {
        let bytes = sealed().to_bytes();
        let i = bit.index(bytes.len() * 8);
        let mut m = bytes.clone();
        m[i / 8] ^= 1 << (i % 8);
        prop_assert!(Backup::from_bytes(&m).and_then(|b| b.open(PASS)).is_err());
    }
}
