//! Chunked file encryption: round trips, truncation, reordering, tampering.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::rng;
use proptest::prelude::*;
use securechat_crypto::file::{self, FileKey, MIN_CHUNK_SIZE};
use securechat_crypto::{Error, ObjectKind};

const CHUNK: u32 = MIN_CHUNK_SIZE;
const STRIDE: usize = MIN_CHUNK_SIZE as usize + 16;

fn key() -> FileKey {
    FileKey::generate_with_rng(&mut rng(1)).unwrap()
}

fn sealed(len: usize) -> (Vec<u8>, Vec<u8>) {
    let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    let blob = file::encrypt_with(&key(), &data, CHUNK, &mut rng(2)).unwrap();
    (data, blob)
}

#[test]
fn round_trips_including_empty_and_exact_multiples() {
    for len in [0, 1, 1023, 1024, 1025, 3 * 1024, 5000] {
        let (data, blob) = sealed(len);
        assert_eq!(
            file::decrypt(&key(), &blob).unwrap().as_slice(),
            data.as_slice(),
            "{len}"
        );
    }
    let k = key();
    assert_eq!(FileKey::import(&k.export()).unwrap(), k);
    assert_eq!(
        file::decrypt(&k, &file::encrypt(&k, b"doc").unwrap())
            .unwrap()
            .as_slice(),
        b"doc"
    );
}

#[test]
fn truncation_is_detected() {
    let (_, blob) = sealed(3000);
    // Dropping the final chunk leaves a full chunk that was not marked last.
    let cut = &blob[..22 + 2 * STRIDE];
    assert_eq!(
        file::decrypt(&key(), cut),
        Err(Error::DecryptionFailed(ObjectKind::File))
    );
    assert_eq!(
        file::decrypt(&key(), &blob[..22]),
        Err(Error::Truncated(ObjectKind::File))
    );
    assert_eq!(
        file::decrypt(&key(), &blob[..blob.len() - 1]),
        Err(Error::DecryptionFailed(ObjectKind::File))
    );
}

#[test]
fn reordered_chunks_are_detected() {
    let (_, blob) = sealed(3000);
    let mut swapped = blob.clone();
    let (a, b) = (22..22 + STRIDE, 22 + STRIDE..22 + 2 * STRIDE);
    let first = blob[a.clone()].to_vec();
    swapped[a].copy_from_slice(&blob[b.clone()]);
    swapped[b].copy_from_slice(&first);
    assert_eq!(
        file::decrypt(&key(), &swapped),
        Err(Error::DecryptionFailed(ObjectKind::File))
    );
}

#[test]
fn wrong_key_fails() {
    let (_, blob) = sealed(10);
    let other = FileKey::generate_with_rng(&mut rng(3)).unwrap();
    assert_eq!(
        file::decrypt(&other, &blob),
        Err(Error::DecryptionFailed(ObjectKind::File))
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn any_bit_flip_is_rejected(len in 0usize..4000, bit in any::<prop::sample::Index>()) {
        let (_, blob) = sealed(len);
        let i = bit.index(blob.len() * 8);
        let mut m = blob.clone();
        m[i / 8] ^= 1 << (i % 8);
        prop_assert!(file::decrypt(&key(), &m).is_err());
    }
}
