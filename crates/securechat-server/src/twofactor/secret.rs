//! A TOTP secret as the database keeps it: sealed with AES-256-GCM under a
//! key derived from `SECRET_KEY` (which is itself kept in `DATA_DIR`,
//! `config/private_file.rs`, unless given in the environment), the
//! account's id as associated data so a sealed secret copied to another
//! row does not open. Stored as `nonce (12 bytes) || ciphertext+tag`.
//!
//! A new `SECRET_KEY` makes every sealed secret unreadable, as it ends
//! every session: people with two-factor then need
//! `securechat user reset-2fa`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::{Context, anyhow};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;

fn aad(user_id: i64) -> String {
    format!("securechat totp secret, user {user_id}")
}

/// Seals `secret` for `user_id`'s row.
pub fn seal(key: &[u8; 32], user_id: i64, secret: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce[..]);
    let cipher = Aes256Gcm::new_from_slice(key).context("AES-256 key")?;
    let aad = aad(user_id);
    let sealed = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: secret,
                aad: aad.as_bytes(),
            },
        )
        .map_err(|_| anyhow!("cannot seal the TOTP secret"))?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Opens a sealed secret of `user_id`; fails when it was sealed under
/// another key or for another account, or was altered.
pub fn open(key: &[u8; 32], user_id: i64, sealed: &[u8]) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if sealed.len() <= NONCE_LEN {
        return Err(anyhow!("sealed TOTP secret too short"));
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new_from_slice(key).context("AES-256 key")?;
    let aad = aad(user_id);
    cipher
        .decrypt(
            Nonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: aad.as_bytes(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| {
            anyhow!("cannot open the TOTP secret of user {user_id} (was SECRET_KEY changed?)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_with_its_key_and_account() {
        let key = [1u8; 32];
        let sealed = seal(&key, 7, b"0123456789abcdefghij").unwrap();
        assert_eq!(
            &open(&key, 7, &sealed).unwrap()[..],
            b"0123456789abcdefghij"
        );
        assert!(!sealed.windows(20).any(|w| w == b"0123456789abcdefghij"));
        assert!(open(&key, 8, &sealed).is_err());
        assert!(open(&[2u8; 32], 7, &sealed).is_err());
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(open(&key, 7, &altered).is_err());
        assert!(open(&key, 7, &sealed[..12]).is_err());
        assert_ne!(seal(&key, 7, b"x").unwrap(), seal(&key, 7, b"x").unwrap());
    }
}
