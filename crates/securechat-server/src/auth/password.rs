//! Argon2id password hashing on dedicated threads.
//!
//! A hash costs ~20 ms of CPU and 19 MiB of memory (OWASP's Argon2id
//! parameters, the `argon2` crate's defaults). Running it on the async
//! runtime would stall every connection on that worker, and letting a login
//! burst take every core would starve message delivery. So hashes run on a
//! small pool of their own threads, one per core: the first at normal
//! priority, so a burst always gets one core's worth of hashing, the others
//! at the lowest priority, so they use only what message delivery leaves
//! idle. Jobs queue in arrival order; memory stays bounded by the
//! pool size (one 19 MiB block a thread).

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords off the async runtime.
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    /// A real hash of a random password, verified against when a username
    /// does not exist so that the answer takes the same time either way.
    dummy_hash: Arc<str>,
}

impl Hasher {
    /// A hasher with `threads` hashing threads (at least one); they stop
    /// once every clone of the hasher is dropped.
    pub fn new(threads: usize) -> anyhow::Result<Self> {
        let mut random = [0u8; 16];
        rand::fill(&mut random);
        let dummy = hash_blocking(&Zeroizing::new(format!("{random:?}")))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    if index > 0 {
                        lower_priority();
                    }
                    work(&queue);
                })
                .context("cannot start a password hashing thread")?;
        }
        Ok(Self {
            jobs,
            dummy_hash: dummy.into(),
        })
    }

    /// One hashing thread per available core.
    pub fn for_this_machine() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores)
    }

    /// Runs `f` on a hashing thread once one is free.
    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> anyhow::Result<R> {
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = reply.send(f());
            }))
            .ok()
            .context("password hashing threads stopped")?;
        outcome.await.context("password hashing job failed")
    }

    /// Hashes `password` into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(&self, password: Zeroizing<String>) -> anyhow::Result<String> {
        self.run(move || hash_blocking(&password)).await?
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
        let matches = self
            .run(move || verify_blocking(&password, &hash))
            .await??;
        Ok(exists && matches)
    }
}

/// A hashing thread's loop: one job at a time until the hasher is dropped.
/// Jobs own what they need, so one that panicked leaves nothing half-done.
fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, so each job
        // goes to exactly one idle thread.
        let job = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            // A panicking job drops its reply (its caller gets an error);
            // the thread lives on for the next one.
            Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
            Err(_) => return,
        }
    }
}

/// Gives the calling thread the lowest priority of the normal scheduling
/// policy (nice 19 on Linux, where niceness is per thread): it then runs
/// only on CPU time no normal-priority thread wants. Failure (a sandbox
/// forbidding it) leaves the thread at normal priority, which is still
/// correct, only less polite.
fn lower_priority() {
    if let Err(e) =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
    {
        tracing::debug!("password hashing thread keeps normal priority: {e:?}");
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

    /// A job that panics fails alone: its caller gets an error and the
    /// only thread is still there for the next hash.
    #[tokio::test]
    async fn a_panicking_job_leaves_the_thread_working() {
        let hasher = Hasher::new(1).unwrap();
        let failed = hasher.run(|| -> u8 { panic!("job failed") }).await;
        assert!(failed.is_err());
        let hash = hasher.hash(Zeroizing::new("still works".into())).await;
        assert!(hash.unwrap().starts_with("$argon2id$"));
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

    /// The nice value of the calling thread, from procfs.
    #[cfg(target_os = "linux")]
    fn own_nice() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // Fields after the parenthesized command name; nice is field 19.
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        after.split(' ').nth(16).unwrap().parse().unwrap()
    }

    /// A burst runs on every thread at once, the first at normal priority
    /// and the others at the lowest: the split that keeps one core's worth
    /// of hashing guaranteed and the rest from competing with delivery.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn burst_uses_every_thread_only_the_first_at_normal_priority() {
        let base = own_nice();
        let hasher = Hasher::new(3).unwrap();
        let together = Arc::new(std::sync::Barrier::new(3));
        let observe = || {
            let together = Arc::clone(&together);
            hasher.run(move || {
                // Every job waits for the other two: they can only all
                // finish if three threads run them at once.
                together.wait();
                let name = std::thread::current().name().map(str::to_owned);
                (name, own_nice())
            })
        };
        let (a, b, c) = tokio::join!(observe(), observe(), observe());
        let mut seen = [a.unwrap(), b.unwrap(), c.unwrap()];
        seen.sort();
        assert_eq!(seen[0], (Some("argon2-0".into()), base));
        assert_eq!(seen[1], (Some("argon2-1".into()), 19));
        assert_eq!(seen[2], (Some("argon2-2".into()), 19));
    }
}
