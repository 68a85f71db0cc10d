//! Key backup: the identity, and from format 2 the client's trust state
//! (pinned bundles, membership-log heads), sealed under a key only the
//! person can derive and stored on the server (`PUT /api/users/me/key_backup`)
//! so another device can restore it (property 9). The server holds the blob
//! and can attack it offline, so the key comes from either
//!
//! - a generated **recovery key** ([`RecoveryKey`], 128 bits from the OS RNG,
//!   shown once as 12 words): guessing it is hopeless, so the key is
//!   derived with HKDF-SHA256 (kdf 2); or
//! - a person-chosen **passphrase**, stretched with Argon2id at strong
//!   parameters (kdf 1: RFC 9106's memory-constrained profile, 64 MiB, 3
//!   passes), stored in the blob so they can be raised later. Opening
//!   refuses parameters below the minimum (a tampered blob cannot make a
//!   client accept a weak derivation for a re-seal) or above the maximum (a
//!   tampered blob cannot make a client allocate gigabytes).
//!
//! The derived key is a [`BackupKey`]: a client keeps it (never the words or
//! the passphrase) to seal the backup again when its trust state changes.
//!
//! Layout (base64url on the wire):
//! ```text
//! format 1: 0x05 0x01 | 1 | m_cost u32 | t_cost u32 | p_cost u32 | salt [16] | nonce [12]
//!           | AES-256-GCM(identity export, ad = everything before)            (90 bytes)
//! format 2: 0x05 0x02 | kdf u8 | (kdf 1: m_cost u32 | t_cost u32 | p_cost u32) | salt [16]
//!           | nonce [12] | AES-256-GCM(identity export [74] || trust, ad = everything before)
//! ```
//! `trust` is the client core's document (UTF-8 JSON, at most
//! [`MAX_TRUST_LEN`] bytes); this crate does not read it. A passphrase is
//! used as given (UTF-8 bytes); callers should NFC-normalize it so the same
//! phrase typed on another device matches.

pub mod recovery;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use argon2::{Algorithm, Argon2, Params, Version};
use hkdf::Hkdf;
use rand_core::CryptoRngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

pub use recovery::{RecoveryKey, RecoveryWordsError};

use crate::encoding::{Reader, Writer, from_wire, to_wire};
use crate::error::{Error, ObjectKind, Result};
use crate::identity::Identity;
use crate::labels::{FORMAT_V1, FORMAT_V2, TAG_BACKUP, labeled};

const KIND: ObjectKind = ObjectKind::Backup;
/// Key derivation 1: Argon2id v1.3 of a passphrase.
pub const KDF_ARGON2ID: u8 = 1;
/// Key derivation 2: HKDF-SHA256 of a [`RecoveryKey`] (format 2 only).
pub const KDF_RECOVERY_KEY: u8 = 2;
/// HKDF `info` label of the recovery-key derivation.
pub const KDF_LABEL_RECOVERY: &[u8] = b"securechat/v2/kdf/backup-recovery-key";
/// The shortest passphrase accepted, in bytes.
pub const MIN_PASSPHRASE_LEN: usize = 8;
/// The largest trust document a format-2 backup carries, in bytes.
pub const MAX_TRUST_LEN: usize = 1 << 20;
/// The length of an identity export.
const IDENTITY_LEN: usize = 74;
/// The AES-GCM tag.
const TAG_LEN: usize = 16;

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

/// How a backup's key is derived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupKdf {
    /// Argon2id of a person-chosen passphrase.
    Argon2id(BackupParams),
    /// HKDF-SHA256 of a generated [`RecoveryKey`].
    RecoveryKey,
}

/// The derivation part of the header: kdf id, its parameters, the salt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct KdfHeader {
    kdf: BackupKdf,
    salt: [u8; 16],
}

impl KdfHeader {
    fn write(&self, w: &mut Writer) {
        match self.kdf {
            BackupKdf::Argon2id(p) => {
                w.u8(KDF_ARGON2ID).u32(p.m_cost).u32(p.t_cost).u32(p.p_cost);
            }
            BackupKdf::RecoveryKey => {
                w.u8(KDF_RECOVERY_KEY);
            }
        }
        w.bytes(&self.salt);
    }

    fn read(r: &mut Reader<'_>, version: u8) -> Result<Self> {
        let kdf = match r.u8()? {
            KDF_ARGON2ID => BackupKdf::Argon2id(BackupParams {
                m_cost: r.u32()?,
                t_cost: r.u32()?,
                p_cost: r.u32()?,
            }),
            KDF_RECOVERY_KEY if version == FORMAT_V2 => BackupKdf::RecoveryKey,
            _ => return Err(r.invalid("unknown key derivation")),
        };
        Ok(Self {
            kdf,
            salt: r.array()?,
        })
    }

    fn check(&self) -> Result<()> {
        match self.kdf {
            BackupKdf::Argon2id(params) => params.check(),
            BackupKdf::RecoveryKey => Ok(()),
        }
    }
}

/// The key a backup is sealed with, with the derivation it came from. A
/// client keeps it ([`BackupKey::export`]) to seal the backup again without
/// the words or the passphrase.
#[derive(Clone, PartialEq, Eq)]
pub struct BackupKey {
    header: KdfHeader,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupKey")
            .field("kdf", &self.header.kdf)
            .finish_non_exhaustive()
    }
}

impl BackupKey {
    /// Derives a key from `recovery` under a fresh salt (OS RNG).
    pub fn from_recovery_key(recovery: &RecoveryKey) -> Result<Self> {
        Self::from_recovery_key_with(recovery, &mut rand_core::OsRng)
    }

    /// [`BackupKey::from_recovery_key`] with an explicit RNG (tests only).
    pub fn from_recovery_key_with(
        recovery: &RecoveryKey,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        let header = KdfHeader {
            kdf: BackupKdf::RecoveryKey,
            salt: random(rng)?,
        };
        Self::derive(header, recovery.as_bytes())
    }

    /// Derives a key from `passphrase` with the default Argon2id parameters
    /// under a fresh salt (OS RNG).
    pub fn from_passphrase(passphrase: &[u8]) -> Result<Self> {
        Self::from_passphrase_with(passphrase, BackupParams::DEFAULT, &mut rand_core::OsRng)
    }

    /// [`BackupKey::from_passphrase`] with explicit parameters (checked
    /// against the bounds) and RNG.
    pub fn from_passphrase_with(
        passphrase: &[u8],
        params: BackupParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        params.check()?;
        check_passphrase(passphrase)?;
        let header = KdfHeader {
            kdf: BackupKdf::Argon2id(params),
            salt: random(rng)?,
        };
        Self::derive(header, passphrase)
    }

    fn derive(header: KdfHeader, secret: &[u8]) -> Result<Self> {
        header.check()?;
        let mut key = Zeroizing::new([0u8; 32]);
        match header.kdf {
            BackupKdf::Argon2id(params) => {
                let argon_params =
                    Params::new(params.m_cost, params.t_cost, params.p_cost, Some(32))
                        .map_err(|_| Error::WeakKdfParameters)?;
                Argon2::new(Algorithm::Argon2id, Version::V0x13, argon_params)
                    .hash_password_into(secret, &header.salt, key.as_mut())
                    .map_err(|_| Error::WeakKdfParameters)?;
            }
            BackupKdf::RecoveryKey => {
                Hkdf::<Sha256>::new(Some(&header.salt), secret)
                    .expand(&labeled(KDF_LABEL_RECOVERY, &[]), key.as_mut())
                    .map_err(|_| Error::TooLarge(KIND))?;
            }
        }
        Ok(Self { header, key })
    }

    /// How this key was derived.
    pub fn kdf(&self) -> BackupKdf {
        self.header.kdf
    }

    /// The key with its derivation, for the client's local state only
    /// (base64url of `0x05 0x02 | kdf fields | salt | key [32]`). It opens
    /// every backup sealed with it: keep it as secret as the identity.
    pub fn export(&self) -> Zeroizing<String> {
        let mut w = Writer::with_version(TAG_BACKUP, FORMAT_V2);
        self.header.write(&mut w);
        w.bytes(self.key.as_ref());
        Zeroizing::new(to_wire(&Zeroizing::new(w.finish())))
    }

    /// Reads [`BackupKey::export`].
    pub fn import(s: &str) -> Result<Self> {
        let bytes = Zeroizing::new(from_wire(s)?);
        let (mut r, version) = Reader::open_versions(&bytes, TAG_BACKUP, KIND, &[FORMAT_V2])?;
        let header = KdfHeader::read(&mut r, version)?;
        let key = Zeroizing::new(r.array::<32>()?);
        r.finish()?;
        header.check()?;
        Ok(Self { header, key })
    }
}

/// What a backup holds.
pub struct BackupContents {
    /// The identity.
    pub identity: Identity,
    /// The client core's trust document (empty in a format-1 backup).
    pub trust: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for BackupContents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupContents")
            .field("user_id", &self.identity.user_id())
            .field("trust_len", &self.trust.len())
            .finish()
    }
}

/// A sealed backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    version: u8,
    header: KdfHeader,
    nonce: [u8; 12],
    ciphertext: Vec<u8>,
}

impl Backup {
    /// Seals `identity` alone under `passphrase` with the default
    /// parameters (format 2, empty trust document).
    pub fn seal(identity: &Identity, passphrase: &[u8]) -> Result<Self> {
        Self::seal_contents(&BackupKey::from_passphrase(passphrase)?, identity, &[])
    }

    /// Seals in format 1 (the identity alone, Argon2id), as clients did
    /// before format 2: for test vectors of the readers that must keep
    /// opening such backups.
    pub fn seal_v1_with(
        identity: &Identity,
        passphrase: &[u8],
        params: BackupParams,
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        let key = BackupKey::from_passphrase_with(passphrase, params, rng)?;
        Self::seal_version(FORMAT_V1, &key, identity, &[], rng)
    }

    /// Seals `identity` and the trust document `trust` under `key` (format 2)
    /// with a fresh nonce from the OS RNG.
    pub fn seal_contents(key: &BackupKey, identity: &Identity, trust: &[u8]) -> Result<Self> {
        Self::seal_contents_with(key, identity, trust, &mut rand_core::OsRng)
    }

    /// [`Backup::seal_contents`] with an explicit RNG (tests only).
    pub fn seal_contents_with(
        key: &BackupKey,
        identity: &Identity,
        trust: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        Self::seal_version(FORMAT_V2, key, identity, trust, rng)
    }

    fn seal_version(
        version: u8,
        key: &BackupKey,
        identity: &Identity,
        trust: &[u8],
        rng: &mut impl CryptoRngCore,
    ) -> Result<Self> {
        if trust.len() > MAX_TRUST_LEN || (version == FORMAT_V1 && !trust.is_empty()) {
            return Err(Error::TooLarge(KIND));
        }
        let nonce: [u8; 12] = random(rng)?;
        let header = header_bytes(version, &key.header, &nonce);
        let mut plaintext = Zeroizing::new(Vec::with_capacity(IDENTITY_LEN + trust.len()));
        plaintext.extend_from_slice(&identity.export_bytes());
        plaintext.extend_from_slice(trust);
        let cipher =
            Aes256Gcm::new_from_slice(key.key.as_ref()).map_err(|_| Error::TooLarge(KIND))?;
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
            version,
            header: key.header,
            nonce,
            ciphertext,
        })
    }

    /// Parses the binary form (structure and parameter bounds).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let (mut r, version) =
            Reader::open_versions(bytes, TAG_BACKUP, KIND, &[FORMAT_V1, FORMAT_V2])?;
        let header = KdfHeader::read(&mut r, version)?;
        let nonce = r.array()?;
        let min = IDENTITY_LEN + TAG_LEN;
        let len = if version == FORMAT_V1 {
            min
        } else {
            r.remaining()
        };
        if len < min {
            return Err(Error::Truncated(KIND));
        }
        if len > min + MAX_TRUST_LEN {
            return Err(Error::TooLarge(KIND));
        }
        let ciphertext = r.take(len)?.to_vec();
        r.finish()?;
        header.check()?;
        Ok(Backup {
            version,
            header,
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
        let mut out = header_bytes(self.version, &self.header, &self.nonce);
        out.extend_from_slice(&self.ciphertext);
        out
    }

    /// The wire string.
    pub fn to_wire(&self) -> String {
        to_wire(&self.to_bytes())
    }

    /// The format version: 1 (identity only) or 2 (with a trust document).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// How the key is derived.
    pub fn kdf(&self) -> BackupKdf {
        self.header.kdf
    }

    /// The Argon2id parameters stored in the blob (`None` for a backup
    /// sealed under a recovery key).
    pub fn params(&self) -> Option<BackupParams> {
        match self.header.kdf {
            BackupKdf::Argon2id(params) => Some(params),
            BackupKdf::RecoveryKey => None,
        }
    }

    /// Derives this backup's key from `passphrase` (Argon2id with the
    /// blob's parameters and salt). Whether it is right shows in
    /// [`Backup::open_with`]. A backup sealed under a recovery key refuses.
    pub fn unlock_with_passphrase(&self, passphrase: &[u8]) -> Result<BackupKey> {
        if self.header.kdf == BackupKdf::RecoveryKey {
            return Err(Error::InvalidField {
                object: KIND,
                reason: "sealed under a recovery key, not a passphrase",
            });
        }
        BackupKey::derive(self.header, passphrase)
    }

    /// Derives this backup's key from a recovery key. A backup sealed under
    /// a passphrase refuses.
    pub fn unlock_with_recovery_key(&self, recovery: &RecoveryKey) -> Result<BackupKey> {
        if self.header.kdf != BackupKdf::RecoveryKey {
            return Err(Error::InvalidField {
                object: KIND,
                reason: "sealed under a passphrase, not a recovery key",
            });
        }
        BackupKey::derive(self.header, recovery.as_bytes())
    }

    /// Opens the backup with `key`. A wrong key and a tampered blob are
    /// indistinguishable (AEAD failure).
    pub fn open_with(&self, key: &BackupKey) -> Result<BackupContents> {
        if key.header != self.header {
            return Err(Error::DecryptionFailed(KIND));
        }
        let header = header_bytes(self.version, &self.header, &self.nonce);
        let cipher = Aes256Gcm::new_from_slice(key.key.as_ref())
            .map_err(|_| Error::DecryptionFailed(KIND))?;
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
        let (identity, trust) = plaintext
            .split_at_checked(IDENTITY_LEN)
            .ok_or(Error::Truncated(KIND))?;
        Ok(BackupContents {
            identity: Identity::import_bytes(identity)?,
            trust: Zeroizing::new(trust.to_vec()),
        })
    }

    /// Derives the key from `passphrase` and restores the identity. A wrong
    /// passphrase and a tampered blob are indistinguishable (AEAD failure).
    pub fn open(&self, passphrase: &[u8]) -> Result<Identity> {
        if self.header.kdf == BackupKdf::RecoveryKey {
            return Err(Error::DecryptionFailed(KIND));
        }
        Ok(self
            .open_with(&self.unlock_with_passphrase(passphrase)?)?
            .identity)
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

fn random<const N: usize>(rng: &mut impl CryptoRngCore) -> Result<[u8; N]> {
    let mut out = [0u8; N];
    rng.try_fill_bytes(&mut out).map_err(|_| Error::Rng)?;
    Ok(out)
}

fn header_bytes(version: u8, kdf: &KdfHeader, nonce: &[u8; 12]) -> Vec<u8> {
    let mut w = Writer::with_version(TAG_BACKUP, version);
    kdf.write(&mut w);
    w.bytes(nonce);
    w.finish()
}
