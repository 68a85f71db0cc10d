//! Safety numbers: what two users compare to rule out a server that swapped
//! their public keys (property 5).
//!
//! Signal's numeric fingerprint, applied to our bundle: for each user,
//! `h = SHA-512(0x0000 || keys || user_id)` then 5200 times
//! `h = SHA-512(h || keys)`, where `keys` is the Ed25519 key followed by the
//! X25519 key and `user_id` is the i64 big-endian. The first 30 bytes give 30
//! digits (six 5-byte big-endian chunks, each mod 100000, zero-padded). The
//! two halves are sorted and concatenated, so both users see the same 60
//! digits. The iteration count makes a second-preimage search for a chosen
//! half cost 5200 hashes per try, as in Signal.

use sha2::{Digest, Sha512};

use crate::bundle::PublicBundle;

const ITERATIONS: usize = 5200;
/// Version byte of the scannable (QR) form.
pub const SCANNABLE_VERSION: u8 = 0x01;

/// The safety number of two users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyNumber {
    digits: String,
    bytes: Vec<u8>,
}

impl SafetyNumber {
    /// Computes the safety number of `a` and `b` (symmetric in its arguments).
    pub fn compute(a: &PublicBundle, b: &PublicBundle) -> Self {
        let fa = fingerprint(a);
        let fb = fingerprint(b);
        let da = digits30(&fa);
        let db = digits30(&fb);
        let ((d1, f1), (d2, f2)) = if da <= db {
            ((da, fa), (db, fb))
        } else {
            ((db, fb), (da, fa))
        };
        let mut bytes = Vec::with_capacity(65);
        bytes.push(SCANNABLE_VERSION);
        bytes.extend_from_slice(&f1[..32]);
        bytes.extend_from_slice(&f2[..32]);
        SafetyNumber {
            digits: d1 + &d2,
            bytes,
        }
    }

    /// The 60 digits, no separators.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The 60 digits in twelve groups of five, as shown to users.
    pub fn display(&self) -> String {
        let chunks: Vec<&str> = self
            .digits
            .as_bytes()
            .chunks(5)
            .filter_map(|c| core::str::from_utf8(c).ok())
            .collect();
        chunks.join(" ")
    }

    /// The scannable form (for a QR code): `0x01 || fingerprint (32) || fingerprint (32)`,
    /// in the same order as the digits.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether a scanned byte form equals ours (constant time).
    pub fn matches_scanned(&self, scanned: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        scanned.len() == self.bytes.len() && bool::from(self.bytes.ct_eq(scanned))
    }
}

/// The iterated-hash fingerprint of one user's bundle.
fn fingerprint(bundle: &PublicBundle) -> [u8; 64] {
    let mut keys = [0u8; 64];
    keys[..32].copy_from_slice(&bundle.signing_key());
    keys[32..].copy_from_slice(&bundle.agreement_key());
    let mut h = Sha512::new();
    h.update([0u8, 0u8]);
    h.update(keys);
    h.update(bundle.user_id().to_be_bytes());
    let mut digest: [u8; 64] = h.finalize().into();
    for _ in 0..ITERATIONS {
        let mut h = Sha512::new();
        h.update(digest);
        h.update(keys);
        digest = h.finalize().into();
    }
    digest
}

/// Thirty digits from the first 30 bytes of a fingerprint.
fn digits30(fp: &[u8; 64]) -> String {
    fp[..30]
        .chunks(5)
        .map(|c| {
            let n = c.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            format!("{:05}", n % 100_000)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Identity;

    #[test]
    fn symmetric_sixty_digits_and_key_sensitive() {
        let a = Identity::generate(1).unwrap().bundle();
        let b = Identity::generate(2).unwrap().bundle();
        let ab = SafetyNumber::compute(&a, &b);
        let ba = SafetyNumber::compute(&b, &a);
        assert_eq!(ab, ba);
        assert_eq!(ab.digits().len(), 60);
        assert!(ab.digits().bytes().all(|c| c.is_ascii_digit()));
        assert_eq!(ab.display().len(), 71);
        assert_eq!(ab.bytes().len(), 65);
        assert!(ab.matches_scanned(ba.bytes()));
        let b2 = Identity::generate(2).unwrap().bundle();
        let ab2 = SafetyNumber::compute(&a, &b2);
        assert_ne!(ab.digits(), ab2.digits());
        assert!(!ab.matches_scanned(ab2.bytes()));
    }
}
