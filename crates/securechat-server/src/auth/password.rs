//! Argon2id password hashing on a bounded pool of blocking threads.
//!
//! A hash costs ~20 ms of CPU and 19 MiB of memory (OWASP's Argon2id
//! parameters, the `argon2` crate's defaults). Running it on the async
//! runtime would stall every connection on that worker, and running an
//! unbounded number at once would let a login burst exhaust memory and starve
//! message delivery. So hashes run on `spawn_blocking` behind a semaphore with
//! one permit per core but one: a login burst queues for the hashing cores
//! while the last core keeps delivering messages.

use std::sync::Arc;

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;
use zeroize::Zeroizing;

/// Hashes and verifies passwords off the async runtime.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// A real hash of a random password, verified against when a username
    /// does not exist so that the answer takes the same time either way.
    dummy_hash: Arc<str>,
}

impl Hasher {
    /// A hasher allowing `concurrency` hashes at once.
    pub fn new(concurrency: usize) -> anyhow::Result<Self> {
        let mut random = [0u8; 16];
        rand::fill(&mut random);
        let dummy = hash_blocking(&Zeroizing::new(format!("{random:?}")))?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy.into(),
        })
    }

    /// One permit per available core but one (at least one).
    pub fn for_this_machine() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores.saturating_sub(1))
    }

    /// Hashes `password` into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: Zeroizing<String>) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        tokio::task::spawn_blocking(move || hash_blocking(&password))
            .await
            .context("password hashing task failed")?
    }

    /// Checks `password` against `hash`; with `None` (no such user) checks a
    /// dummy hash and returns `false`, taking the same time.
    pub async fn verify(
        &self,
        password: Zeroizing<String>,
        hash: Option<String>,
    ) -> anyhow::Result<bool> {
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let _permit = self.permits.acquire().await.context("hasher closed")?;
        let matches = tokio::task::spawn_blocking(move || verify_blocking(&password, &hash))
            .await
            .context("password verification task failed")??;
        Ok(exists && matches)
    }
}

/// Hashes synchronously; for the CLI and inside the pool.
pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))
}

fn verify_blocking(password: &str, hash: &str) -> anyhow::Result<bool> {
    let parsed =
        PasswordHash::new(hash).map_err(|e| anyhow::anyhow!("stored hash is invalid: {e}"))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let hasher = Hasher::new(2).unwrap();
        let hash = hasher
            .hash(Zeroizing::new("correct horse".into()))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            hasher
                .verify(Zeroizing::new("correct horse".into()), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(Zeroizing::new("wrong horse".into()), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn missing_user_never_matches() {
        let hasher = Hasher::new(1).unwrap();
        assert!(
            !hasher
                .verify(Zeroizing::new("anything".into()), None)
                .await
                .unwrap()
        );
    }
}
