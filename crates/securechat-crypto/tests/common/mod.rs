//! Helpers shared by the integration tests.
// Test code: a panic is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// Each test crate uses a subset of these helpers.
#![allow(dead_code)]

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use securechat_crypto::Identity;

/// A deterministic identity for `user_id`.
pub fn identity(user_id: i64) -> Identity {
    let seed = u64::try_from(user_id).unwrap_or(0) + 1000;
    Identity::generate_with_rng(user_id, &mut ChaCha20Rng::seed_from_u64(seed)).unwrap()
}

/// A deterministic RNG.
pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

/// Every single-bit modification of `bytes`.
pub fn bit_flips(bytes: &[u8]) -> impl Iterator<Item = (usize, Vec<u8>)> + '_ {
    (0..bytes.len() * 8).map(move |i| {
        let mut m = bytes.to_vec();
        m[i / 8] ^= 1 << (i % 8);
        (i, m)
    })
}
