//! Key backup: the identity sealed under a recovery passphrase, stored on the
//! server (`PUT /api/users/me/key_backup`) so a second browser can restore it
//! (property 9). The server holds the blob and can attack it offline, so the
//! passphrase is stretched with Argon2id at strong parameters (RFC 9106's
//! memory-constrained profile, 64 MiB, 3 passes), and the parameters are
//! stored in the blob so they can be raised later without a format change.
//! Opening refuses parameters below the minimum (a tampered blob cannot make a
//! client accept a weak derivation for a re-seal) or above the maximum (a
//! tampered blob cannot make a client allocate gigabytes).
//!
//! Layout (base64url on the wire):
//! ```text
//! 0x05 0x01 | kdf u8 (1 = Argon2id v1.3) | m_cost u32 (KiB) | t_cost u32 | p_cost u32
//! | salt [16] | nonce [12] | AES-256-GCM(identity export, ad = everything before)
//! ```
//! The passphrase is used as given (UTF-8 bytes); callers should NFC-normalize
//! it so the same phrase typed on another device matches.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::{Algorithm, Argon2, Params, Version};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{Error, ObjectKind, Result};
use crate::identity::Identity;
use crate::labels::TAG_BACKUP;

const KIND: ObjectKind = ObjectKind::Backup;
const KDF_ARGON2ID: u8 = 1;
/// The shortest passphrase accepted, in bytes.
pub const MIN_PASSPHRASE_LEN: usize = 8;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupParams {
    /// Memory in KiB.
    pub m_cost: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl BackupParams {
    /// 64 MiB, 3 passes, 1 lane (browsers run WASM on one thread).
    pub const DEFAULT: BackupParams = BackupParams {
        m_cost: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };
    /// OWASP's floor for Argon2id: 19 MiB, 2 passes.
    pub const MIN: BackupParams = BackupParams {
        m_cost: 19 * 1024,
        t_cost: 2,
        p_cost: 1,
    };
    /// 1 GiB, 16 passes, 8 lanes.
    pub const MAX: BackupParams = BackupParams {
        m_cost: 1024 * 1024,
        t_cost: 16,
        p_cost: 8,
    };

    fn check(self) -> Result<()> {
        if self.m_cost < Self::MIN.m_cost
            || self.t_cost < Self::MIN.t_cost
            || self.p_cost < Self::MIN.p_cost
        {
            return Err(Error::WeakKdfParameters);
        }
        if self.m_cost > Self::MAX.m_cost
            || self.t_cost > Self::MAX.t_cost
            || self.p_cost > Self::MAX.p_cost
        {
            return Err(Error::ExcessiveKdfParameters);
        }
        Ok(())
    }
}

impl Default for BackupParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A passphrase-sealed identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    params: BackupParams,
    salt: [u8; 16],
    nonce: [u8; 12],
    ciphertext: Vec<u8>,
}

impl Backup {
    /// Seals `identity` under `passphrase` with the default parameters.
    pub fn seal(identity: &Identity, passphrase: &[u8]) -> Result<Self> {
        Self::seal_with(
            identity,
            passphrase,
            BackupParams::DEFAULT,
            &mut rand_core::OsRng,
        )
    }

    /// Seals with explicit parameters (checked against the bounds) and RNG.
    /// Only test vectors should pass anything but the OS RNG.
    pub fn seal_with(
        identity: &Identity,
        passphrase: &[u8],
        params: BackupParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        params.check()?;
        check_passphrase(passphrase)?;
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 12];
        rng.try_fill_bytes(&mut salt).map_err(|_| Error::Rng)?;
        rng.try_fill_bytes(&mut nonce).map_err(|_| Error::Rng)?;
        let header = header_bytes(params, &salt, &nonce);
        let key = derive_key(passphrase, params, &salt)?;
        let cipher = Aes256Gcm::new_from_slice(key.as_ref()).map_err(|_| Error::TooLarge(KIND))?;
        let plaintext = identity.export_bytes();
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plaintext,
                    aad: &header,
                },
            )
            .map_err(|_| Error::TooLarge(KIND))?;
        Ok(Backup {
            params,
            salt,
            nonce,
            ciphertext,
        })
    }

    /// Parses the binary form (structure and parameter bounds).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::open(bytes, TAG_BACKUP, KIND)?;
        if r.u8()? != KDF_ARGON2ID {
            return Err(r.invalid("unknown key derivation"));
        }
        let params = BackupParams {
            m_cost: r.u32()?,
            t_cost: r.u32()?,
            p_cost: r.u32()?,
        };
        let salt = r.array()?;
        let nonce = r.array()?;
        // An identity export is 74 bytes; with the tag, 90.
        let ciphertext = r.take(90)?.to_vec();
        r.finish()?;
        params.check()?;
        Ok(Backup {
            params,
            salt,
            nonce,
            ciphertext,
        })
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Result<Self> {
        Self::from_bytes(&from_wire(s)?)
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = header_bytes(self.params, &self.salt, &self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// The wire string.
    pub fn to_wire(&self) -> String {
        to_wire(&self.to_bytes())
    }

    /// The Argon2id parameters stored in the blob.
    pub fn params(&self) -> BackupParams {
        self.params
    }

    /// Derives the key from `passphrase` and restores the identity. A wrong
    /// passphrase and a tampered blob are indistinguishable (AEAD failure).
    pub fn open(&self, passphrase: &[u8]) -> Result<Identity> {
        let header = header_bytes(self.params, &self.salt, &self.nonce);
        let key = derive_key(passphrase, self.params, &self.salt)?;
        let cipher =
            Aes256Gcm::new_from_slice(key.as_ref()).map_err(|_| Error::DecryptionFailed(KIND))?;
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    Nonce::from_slice(&self.nonce),
                    Payload {
                        msg: &self.ciphertext,
                        aad: &header,
                    },
                )
                .map_err(|_| Error::DecryptionFailed(KIND))?,
        );
        Identity::import_bytes(&plaintext)
    }
}

fn check_passphrase(passphrase: &[u8]) -> Result<()> {
    if passphrase.len() < MIN_PASSPHRASE_LEN {
        return Err(Error::WeakPassphrase {
            min: MIN_PASSPHRASE_LEN,
        });
    }
    Ok(())
}

fn derive_key(
    passphrase: &[u8],
    params: BackupParams,
    salt: &[u8; 16],
) -> Result<Zeroizing<[u8; 32]>> {
    params.check()?;
    let argon_params = Params::new(params.m_cost, params.t_cost, params.p_cost, Some(32))
        .map_err(|_| Error::WeakKdfParameters)?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params)
        .hash_password_into(passphrase, salt, key.as_mut())
        .map_err(|_| Error::WeakKdfParameters)?;
    Ok(key)
}

fn header_bytes(params: BackupParams, salt: &[u8; 16], nonce: &[u8; 12]) -> Vec<u8> {
    let mut w = Writer::new(TAG_BACKUP);
    w.u8(KDF_ARGON2ID)
        .u32(params.m_cost)
        .u32(params.t_cost)
        .u32(params.p_cost)
        .bytes(salt)
        .bytes(nonce);
    w.finish()
}
