//! Passphrase-sealed identity backups.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{identity, rng};
use proptest::prelude::*;
use securechat_crypto::backup::MIN_PASSPHRASE_LEN;
use securechat_crypto::{Backup, BackupParams, Error, ObjectKind};

const PASS: &[u8] = b"correct horse battery staple";

fn sealed() -> Backup {
    Backup::seal_with(&identity(1), PASS, BackupParams::MIN, &mut rng(5)).unwrap()
}

#[test]
fn round_trip_restores_the_same_identity() {
    let backup = Backup::seal(&identity(1), PASS).unwrap();
    assert_eq!(backup.params(), BackupParams::DEFAULT);
    let restored = Backup::parse(&backup.to_wire())
        .unwrap()
        .open(PASS)
        .unwrap();
    assert_eq!(restored.bundle(), identity(1).bundle());
    assert_eq!(restored.export(), identity(1).export());
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
        Backup::seal_with(
            &identity(1),
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
