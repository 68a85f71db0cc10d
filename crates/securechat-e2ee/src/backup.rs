//! The key backup: my identity, whom I trust (pinned bundles with their
//! accepted history, the last verified membership-log head of each room)
//! and the channel keys I hold, sealed for the server's backup slot
//! (`securechat_crypto::backup`, format 2).
//!
//! The keys are in it so that a browser restored with the recovery key
//! reads the history, as a linked one does: the shares the server kept are
//! deleted once fetched, and were sealed to prekeys long since rotated. The
//! price is stated in docs/PROTOCOL.md §8: whoever holds the recovery key
//! (or guesses the passphrase) and the server's blob reads that history.
//!
//! The backup key comes from a generated recovery key (the default: 12
//! words shown once) or from a passphrase. The state keeps the derived key
//! ([`State::backup_key`](crate::State::backup_key)), never the words or the
//! passphrase, so the backup is sealed again whenever pins or heads change:
//! [`Machine::backup_update`] answers with a new blob when what the server
//! holds is out of date, and the shell reports the upload with
//! [`Machine::backup_uploaded`].
//!
//! Restoring merges into this device's state and never replaces a pin it
//! already holds: a different pinned key in the backup becomes an offered
//! change for the person to compare, as a changed key served by the server
//! does. A head is taken only for a room this device has none for.

use std::collections::BTreeMap;

use securechat_crypto::backup::{BackupKdf, BackupKey, MAX_TRUST_LEN, RecoveryKey};
use securechat_crypto::{Backup, Identity, PublicBundle};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Refusal, Result};
use crate::hex;
use crate::history::History;
use crate::machine::Machine;
use crate::state::{LogPin, Pin};

/// A backup sealed now, to upload (`PUT /api/users/me/key_backup`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SealedBackup {
    /// The blob.
    pub backup: String,
    /// What it holds, to pass to [`Machine::backup_uploaded`] once stored.
    pub digest: String,
    /// For a new recovery key: its 12 words, to show once and never store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub words: Option<String>,
}

/// What a restore brought back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restored {
    /// My bundle: publish it if the server's differs.
    pub public_key: String,
    /// `recovery_key` or `passphrase`.
    pub kind: &'static str,
    /// The backup's format: 1 (identity only) or 2.
    pub version: u8,
    /// Users pinned from the backup (this device had no pin for them).
    pub pins_added: Vec<i64>,
    /// Users whose pin here differs from the backup's: the backup's key is
    /// now offered, for the person to compare before accepting.
    pub pins_conflicting: Vec<i64>,
    /// Rooms whose verified log head came from the backup.
    pub heads_added: Vec<i64>,
    /// Channels whose keys came from the backup.
    pub channels: usize,
}

/// The trust document inside a format-2 backup.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Trust {
    /// Pinned bundles: the current one and the older accepted ones.
    #[serde(default)]
    pins: BTreeMap<i64, TrustedPin>,
    /// The last verified membership-log head of each room.
    #[serde(default)]
    log_heads: BTreeMap<i64, LogPin>,
    /// The channel keys I hold, so a restored device reads the history (the
    /// oldest are left out when they would not fit the backup's size cap).
    #[serde(default)]
    history: History,
}

#[derive(Debug, Serialize, Deserialize)]
struct TrustedPin {
    current: String,
    /// Older accepted bundles, oldest first (the current one left out).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    older: Vec<String>,
}

/// Which secret a backup blob asks for: `recovery_key` or `passphrase`.
pub fn backup_kind(blob: &str) -> Result<&'static str> {
    Ok(kind_of(&Backup::parse(blob)?))
}

fn kind_of(backup: &Backup) -> &'static str {
    match backup.kdf() {
        BackupKdf::RecoveryKey => "recovery_key",
        BackupKdf::Argon2id(_) => "passphrase",
    }
}

/// Derives the key of `backup` from what the person typed: the recovery
/// key's words or the passphrase, as the blob says.
fn unlock(backup: &Backup, secret: &str) -> Result<BackupKey> {
    Ok(match backup.kdf() {
        BackupKdf::RecoveryKey => {
            let recovery = RecoveryKey::from_words(secret).map_err(|e| Refusal::Crypto {
                code: e.code().into(),
                message: e.to_string(),
            })?;
            backup.unlock_with_recovery_key(&recovery)?
        }
        BackupKdf::Argon2id(_) => backup.unlock_with_passphrase(secret.as_bytes())?,
    })
}

impl Machine {
    fn trust_document(&self) -> Trust {
        let pins = self
            .state
            .pins
            .iter()
            .map(|(user_id, pin)| {
                let older = pin
                    .accepted
                    .iter()
                    .filter(|w| **w != pin.current)
                    .cloned()
                    .collect();
                (
                    *user_id,
                    TrustedPin {
                        current: pin.current.clone(),
                        older,
                    },
                )
            })
            .collect();
        Trust {
            pins,
            log_heads: self.state.log_pins.clone(),
            history: History::collect(&self.state, |_| true),
        }
    }

    /// The trust document as bytes, within the backup's size cap: when the
    /// keys make it too large, the oldest keys are left out.
    fn trust_bytes(&self) -> Result<Vec<u8>> {
        let mut trust = self.trust_document();
        loop {
            let bytes = serde_json::to_vec(&trust).map_err(|e| Refusal::BadInput(e.to_string()))?;
            let keys = trust.history.key_count();
            if bytes.len() <= MAX_TRUST_LEN || keys == 0 {
                return Ok(bytes);
            }
            // Cut in proportion to the excess, at least one key per round.
            let excess = bytes.len() - MAX_TRUST_LEN;
            let per_key = bytes.len() / keys.max(1);
            trust.history.drop_oldest((excess / per_key.max(1)).max(1));
        }
    }

    fn seal_with(&self, key: &BackupKey) -> Result<SealedBackup> {
        let identity = self.identity()?;
        let trust = self.trust_bytes()?;
        let backup = Backup::seal_contents(key, identity, &trust)?.to_wire();
        Ok(SealedBackup {
            backup,
            digest: digest(identity, &trust),
            words: None,
        })
    }

    fn keep_backup_key(&mut self, key: &BackupKey) {
        self.state.backup_key = Some(key.export().to_string());
        self.state.backup_digest = None;
        self.touch();
    }

    /// Makes a new recovery key (128 bits from the OS RNG), keeps the key
    /// derived from it, and seals the backup under it. The words are in
    /// the answer only: show them once.
    pub fn create_recovery_key(&mut self) -> Result<SealedBackup> {
        self.identity()?;
        let recovery = RecoveryKey::generate()?;
        let key = BackupKey::from_recovery_key(&recovery)?;
        let mut sealed = self.seal_with(&key)?;
        sealed.words = Some(recovery.words().to_string());
        self.keep_backup_key(&key);
        Ok(sealed)
    }

    /// Seals the backup under `passphrase` (Argon2id) and keeps the derived
    /// key. The shell checks the passphrase's strength, and that it is not
    /// the login password, before calling this.
    pub fn set_backup_passphrase(&mut self, passphrase: &str) -> Result<SealedBackup> {
        self.identity()?;
        let key = BackupKey::from_passphrase(passphrase.as_bytes())?;
        let sealed = self.seal_with(&key)?;
        self.keep_backup_key(&key);
        Ok(sealed)
    }

    /// Whether this device keeps a backup key (and so keeps the backup up
    /// to date).
    pub fn has_backup_key(&self) -> bool {
        self.state.backup_key.is_some()
    }

    /// The backup sealed again if my pins or heads changed since the last
    /// upload (`None` when the server's copy is current, or when this
    /// device keeps no backup key).
    pub fn backup_update(&self) -> Result<Option<SealedBackup>> {
        let Some(export) = self.state.backup_key.as_deref() else {
            return Ok(None);
        };
        if self.identity.is_none() {
            return Ok(None);
        }
        let key = BackupKey::import(export)?;
        let sealed = self.seal_with(&key)?;
        if self.state.backup_digest.as_deref() == Some(sealed.digest.as_str()) {
            return Ok(None);
        }
        Ok(Some(sealed))
    }

    /// Records that the backup with `digest` is what the server holds now.
    pub fn backup_uploaded(&mut self, digest: &str) {
        if self.state.backup_digest.as_deref() != Some(digest) {
            self.state.backup_digest = Some(digest.to_owned());
            self.touch();
        }
    }

    /// Whether `secret` (the recovery key's words or the passphrase) opens
    /// `blob` as my identity; nothing changes. Mistyped words are refused
    /// with what to fix (`recovery_key_unknown_word`, …).
    pub fn test_backup(&self, blob: &str, secret: &str) -> Result<bool> {
        let backup = Backup::parse(blob)?;
        match backup.open_with(&unlock(&backup, secret)?) {
            Ok(contents) => Ok(contents.identity.user_id() == self.user_id()
                && self
                    .identity
                    .as_ref()
                    .is_none_or(|mine| mine.bundle() == contents.identity.bundle())),
            Err(securechat_crypto::Error::DecryptionFailed(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Restores from the server's backup `blob` with `secret` (the words of
    /// the recovery key, or the passphrase, as the blob says): my identity,
    /// and from a format-2 backup the pins and log heads, merged into this
    /// device's state. The derived key is kept, so the backup stays up to
    /// date from this device too.
    pub fn restore_backup(&mut self, blob: &str, secret: &str) -> Result<Restored> {
        let backup = Backup::parse(blob)?;
        let key = unlock(&backup, secret)?;
        let contents = backup.open_with(&key)?;
        if contents.identity.user_id() != self.user_id() {
            return Err(Refusal::BadInput(
                "this backup belongs to another account".into(),
            ));
        }
        let trust: Trust = if contents.trust.is_empty() {
            Trust::default()
        } else {
            serde_json::from_slice(&contents.trust)
                .map_err(|e| Refusal::BadInput(format!("the backup's trust state: {e}")))?
        };
        let held = digest(
            &contents.identity,
            &serde_json::to_vec(&trust).map_err(|e| Refusal::BadInput(e.to_string()))?,
        );
        let public_key = self.replace_identity(contents.identity)?;
        let mut restored = Restored {
            public_key,
            kind: kind_of(&backup),
            version: backup.version(),
            pins_added: Vec::new(),
            pins_conflicting: Vec::new(),
            heads_added: Vec::new(),
            channels: 0,
        };
        self.merge_pins(trust.pins, &mut restored);
        restored.channels = trust.history.merge_into(&mut self.state);
        for (room_id, head) in trust.log_heads {
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.state.log_pins.entry(room_id)
            {
                slot.insert(head);
                restored.heads_added.push(room_id);
            }
        }
        self.state.backup_key = Some(key.export().to_string());
        self.state.backup_digest = (backup.version() == 2).then_some(held);
        self.touch();
        Ok(restored)
    }

    fn merge_pins(&mut self, pins: BTreeMap<i64, TrustedPin>, restored: &mut Restored) {
        let me = self.user_id();
        for (user_id, backed) in pins {
            // Only well-formed bundles of that user count.
            let valid = |w: &str| {
                PublicBundle::parse_for(w, user_id)
                    .ok()
                    .map(|b| b.to_wire())
            };
            let Some(current) = valid(&backed.current) else {
                continue;
            };
            if user_id == me {
                continue;
            }
            let mut accepted: Vec<String> = backed.older.iter().filter_map(|w| valid(w)).collect();
            accepted.retain(|w| *w != current);
            match self.state.pins.get_mut(&user_id) {
                None => {
                    accepted.push(current.clone());
                    self.state.pins.insert(
                        user_id,
                        Pin {
                            current,
                            accepted,
                            offered: None,
                        },
                    );
                    restored.pins_added.push(user_id);
                }
                Some(pin) if pin.current == current => {
                    for older in accepted.into_iter().rev() {
                        if !pin.accepted.contains(&older) {
                            pin.accepted.insert(0, older);
                        }
                    }
                }
                Some(pin) => {
                    // A key this device accepted before and moved on from
                    // is an older backup's: nothing to offer.
                    if !pin.accepted.contains(&current) {
                        pin.offered = Some(current);
                        restored.pins_conflicting.push(user_id);
                    }
                }
            }
        }
    }
}

/// What a backup holds, as a digest: my bundle and the trust document.
fn digest(identity: &Identity, trust: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(identity.bundle().to_bytes());
    hash.update(trust);
    hex(&hash.finalize())
}

#[cfg(test)]
mod tests {
    // Test code: a panic is how a test fails.
    #![allow(clippy::unwrap_used)]

    use securechat_crypto::BackupParams;
    use securechat_crypto::backup::BackupKey;

    use super::*;
    use crate::State;

    fn machine(user_id: i64) -> Machine {
        let mut m = Machine::new(State::new("http://x/", user_id)).unwrap();
        m.create_identity(None).unwrap();
        m
    }

    fn fresh(user_id: i64) -> Machine {
        Machine::new(State::new("http://x/", user_id)).unwrap()
    }

    fn bundle(user_id: i64) -> String {
        Identity::generate(user_id).unwrap().bundle().to_wire()
    }

    fn head(seq: u64) -> LogPin {
        LogPin {
            seq,
            hash: [seq as u8; 32],
            changed_at: 1,
        }
    }

    #[test]
    fn a_recovery_key_brings_back_identity_pins_and_heads() {
        let mut alice = machine(1);
        let (bob, bob_old) = (bundle(2), bundle(2));
        alice
            .observe_bundle(2, &bob, std::slice::from_ref(&bob_old))
            .unwrap();
        alice.state.log_pins.insert(10, head(4));
        let sealed = alice.create_recovery_key().unwrap();
        let words = sealed.words.clone().unwrap();
        assert_eq!(words.split(' ').count(), 12);
        assert!(alice.state().backup_key.is_some());
        assert!(!alice.state().to_json().contains(&words));
        alice.backup_uploaded(&sealed.digest);
        assert_eq!(alice.backup_update().unwrap(), None);

        let mut second = fresh(1);
        let restored = second.restore_backup(&sealed.backup, &words).unwrap();
        assert_eq!(restored.kind, "recovery_key");
        assert_eq!(restored.version, 2);
        assert_eq!(restored.pins_added, vec![2]);
        assert_eq!(restored.heads_added, vec![10]);
        assert_eq!(second.my_bundle().unwrap(), alice.my_bundle().unwrap());
        assert_eq!(second.state().pins[&2].current, bob);
        assert!(second.state().pins[&2].accepted.contains(&bob_old));
        assert_eq!(second.state().log_pins[&10], head(4));
        // The restored device keeps the key: nothing to upload until a change.
        assert_eq!(second.backup_update().unwrap(), None);
        second.observe_bundle(3, &bundle(3), &[]).unwrap();
        let update = second.backup_update().unwrap().unwrap();
        second.backup_uploaded(&update.digest);
        assert_eq!(second.backup_update().unwrap(), None);
        // The update opens with the same words and carries the new pin.
        let mut third = fresh(1);
        let again = third.restore_backup(&update.backup, &words).unwrap();
        assert_eq!(again.pins_added, vec![2, 3]);
    }

    fn stored(obtained_at: u64, next_counter: u32) -> crate::StoredKey {
        crate::StoredKey {
            key: securechat_crypto::ChannelKey::generate()
                .unwrap()
                .export()
                .to_string(),
            obtained_at,
            next_counter,
            made_at: Some(1),
            members: vec![1, 2],
        }
    }

    #[test]
    fn the_backup_carries_channel_keys_and_a_new_key_makes_an_update() {
        let mut alice = machine(1);
        let v1 = stored(100, 7);
        alice
            .state
            .channel_keys
            .entry(5)
            .or_default()
            .insert(1, v1.clone());
        alice.state.channel_rooms.insert(5, 10);
        let sealed = alice.create_recovery_key().unwrap();
        alice.backup_uploaded(&sealed.digest);
        // Sending (a counter moving) is no change to back up.
        alice
            .state
            .channel_keys
            .get_mut(&5)
            .unwrap()
            .get_mut(&1)
            .unwrap()
            .next_counter = 9;
        assert_eq!(alice.backup_update().unwrap(), None);
        // A new version is.
        alice
            .state
            .channel_keys
            .get_mut(&5)
            .unwrap()
            .insert(2, stored(200, 0));
        let update = alice.backup_update().unwrap().unwrap();

        let mut restored = fresh(1);
        // A key this device holds already is kept.
        let mine = stored(300, 4);
        restored
            .state
            .channel_keys
            .entry(5)
            .or_default()
            .insert(2, mine.clone());
        let words = sealed.words.unwrap();
        let outcome = restored.restore_backup(&update.backup, &words).unwrap();
        assert_eq!(outcome.channels, 1);
        let keys = &restored.state().channel_keys[&5];
        assert_eq!(keys[&1].key, v1.key);
        assert_eq!(
            keys[&1].next_counter, 0,
            "a restored device counts its own messages"
        );
        assert_eq!(keys[&2], mine);
        assert_eq!(restored.state().channel_rooms[&5], 10);
    }

    #[test]
    fn the_oldest_keys_are_left_out_when_the_backup_would_be_too_large() {
        let mut alice = machine(1);
        // About 170 bytes each: 12 000 keys are well over the 1 MiB cap.
        for version in 1..=12_000u32 {
            let channel = i64::from(version % 40);
            alice
                .state
                .channel_keys
                .entry(channel)
                .or_default()
                .insert(version, stored(u64::from(version), 0));
        }
        let sealed = alice.create_recovery_key().unwrap();
        let mut restored = fresh(1);
        restored
            .restore_backup(&sealed.backup, &sealed.words.unwrap())
            .unwrap();
        let held: Vec<u32> = restored
            .state()
            .channel_keys
            .values()
            .flat_map(|keys| keys.keys().copied())
            .collect();
        assert!(
            held.len() > 1000 && held.len() < 12_000,
            "{} keys",
            held.len()
        );
        assert!(held.contains(&12_000), "the newest key is kept");
        assert!(!held.contains(&1), "the oldest is left out");
    }

    #[test]
    fn a_pin_held_here_is_never_replaced_by_the_backup() {
        let mut alice = machine(1);
        alice.observe_bundle(2, &bundle(2), &[]).unwrap();
        alice.state.log_pins.insert(10, head(4));
        let sealed = alice.create_recovery_key().unwrap();
        let mut other = fresh(1);
        let here = bundle(2);
        other.observe_bundle(2, &here, &[]).unwrap();
        other.state.log_pins.insert(10, head(7));
        let restored = other
            .restore_backup(&sealed.backup, &sealed.words.unwrap())
            .unwrap();
        assert_eq!(restored.pins_conflicting, vec![2]);
        assert!(restored.heads_added.is_empty());
        let pin = &other.state().pins[&2];
        assert_eq!(pin.current, here);
        assert_eq!(
            pin.offered.as_deref(),
            Some(alice.state().pins[&2].current.as_str())
        );
        assert_eq!(other.key_changes(), vec![2]);
        assert_eq!(other.state().log_pins[&10], head(7));
    }

    #[test]
    fn mistyped_words_and_other_accounts_are_refused() {
        let mut alice = machine(1);
        let sealed = alice.create_recovery_key().unwrap();
        let words = sealed.words.unwrap();
        let mut typo: Vec<&str> = words.split(' ').collect();
        typo[0] = "notaword";
        let err = fresh(1)
            .restore_backup(&sealed.backup, &typo.join(" "))
            .unwrap_err();
        assert_eq!(err.code(), "recovery_key_unknown_word");
        assert_eq!(
            fresh(1)
                .restore_backup(&sealed.backup, "correct horse battery staple")
                .unwrap_err()
                .code(),
            "recovery_key_word_count"
        );
        assert!(matches!(
            fresh(2).restore_backup(&sealed.backup, &words),
            Err(Refusal::BadInput(_))
        ));
        assert!(alice.test_backup(&sealed.backup, &words).unwrap());
    }

    #[test]
    fn a_format_1_backup_restores_and_is_upgraded() {
        let alice = machine(1);
        let pass = b"correct horse battery staple";
        let v1 = Backup::seal_v1_with(
            alice.identity().unwrap(),
            pass,
            BackupParams::MIN,
            &mut rand_core_rng(),
        )
        .unwrap()
        .to_wire();
        assert_eq!(backup_kind(&v1).unwrap(), "passphrase");
        let mut second = fresh(1);
        second.observe_bundle(2, &bundle(2), &[]).unwrap();
        let restored = second
            .restore_backup(&v1, "correct horse battery staple")
            .unwrap();
        assert_eq!(restored.version, 1);
        assert_eq!(second.my_bundle().unwrap(), alice.my_bundle().unwrap());
        // The next update is a format-2 backup under the same passphrase.
        let update = second.backup_update().unwrap().unwrap();
        let parsed = Backup::parse(&update.backup).unwrap();
        assert_eq!(parsed.version(), 2);
        let key = parsed
            .unlock_with_passphrase(b"correct horse battery staple")
            .unwrap();
        assert!(BackupKey::import(second.state().backup_key.as_deref().unwrap()).unwrap() == key);
        assert!(!parsed.open_with(&key).unwrap().trust.is_empty());
    }

    fn rand_core_rng() -> rand_chacha::ChaCha20Rng {
        use rand_chacha::rand_core::SeedableRng;
        rand_chacha::ChaCha20Rng::seed_from_u64(7)
    }
}
