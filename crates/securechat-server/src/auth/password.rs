//! Argon2id password hashing on dedicated threads.
//!
//! A hash costs ~20 ms of CPU and 19 MiB of memory (OWASP's Argon2id
//! parameters, the `argon2` crate's defaults). Running it on the async
//! runtime would stall every connection on that worker, and letting a login
//! burst take every core would starve message delivery. So hashes run on a
//! small pool of their own threads, one per core: the first at normal
//! priority, so a burst always gets one core's worth of hashing, the others
//! at the lowest priority, so they use only what message delivery leaves
//! idle. Memory stays bounded by the pool size (one 19 MiB block a thread).
//!
//! The queue in front of the pool is bounded too, so a flood of sign-ins
//! or registrations cannot make everyone wait behind it: work for people
//! already signed in ([`Priority::Session`], a password change) goes first,
//! anonymous work (log in, register) waits in a queue of
//! [`ANONYMOUS_PER_THREAD`] jobs a thread and is shed beyond it with
//! [`HashError::Busy`] (503 and `Retry-After`). A job whose caller has gone
//! (the client hung up) is dropped unrun.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

use anyhow::Context;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

/// Anonymous jobs that may wait per hashing thread: about a third of a
/// second of backlog at ~20 ms a hash.
pub const ANONYMOUS_PER_THREAD: usize = 16;
/// Jobs of signed-in people that may wait per hashing thread.
const SESSION_PER_THREAD: usize = 64;

/// Who the work is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Someone already signed in (a password change): served first.
    Session,
    /// Logging in or registering: queued behind, and shed when the queue
    /// is full.
    Anonymous,
}

/// Why a hash or check did not happen.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue for this priority is full: try again shortly.
    #[error("the server is busy checking passwords; try again in a moment")]
    Busy,
    /// The hashing itself failed (or its threads are gone).
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<HashError> for crate::error::Error {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => crate::error::Error::Unavailable {
                retry_after: 1,
                message: e.to_string().into(),
            },
            HashError::Failed(e) => crate::error::Error::Internal(e),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Queues {
    session: VecDeque<Job>,
    anonymous: VecDeque<Job>,
    /// Set when the last hasher is dropped: threads finish what is queued
    /// and stop.
    closed: bool,
}

struct Pool {
    queues: Mutex<Queues>,
    ready: Condvar,
    session_limit: usize,
    anonymous_limit: usize,
}

/// Closes the pool when the last clone of the hasher goes.
struct Owner(Arc<Pool>);

impl Drop for Owner {
    fn drop(&mut self) {
        if let Ok(mut queues) = self.0.queues.lock() {
            queues.closed = true;
        }
        self.0.ready.notify_all();
    }
}

/// Hashes and verifies passwords off the async runtime.
#[derive(Clone)]
pub struct Hasher {
    pool: Arc<Pool>,
    _owner: Arc<Owner>,
    /// A real hash of a random password, verified against when a username
    /// does not exist so that the answer takes the same time either way.
    dummy_hash: Arc<str>,
}

impl Hasher {
    /// Jobs waiting for a hashing thread, for the metrics.
    pub fn queued(&self) -> usize {
        self.pool
            .queues
            .lock()
            .map_or(0, |q| q.session.len() + q.anonymous.len())
    }

    /// A hasher with `threads` hashing threads (at least one); they stop
    /// once every clone of the hasher is dropped.
    pub fn new(threads: usize) -> anyhow::Result<Self> {
        let threads = threads.max(1);
        let mut random = [0u8; 16];
        rand::fill(&mut random);
        let dummy = hash_blocking(&Zeroizing::new(format!("{random:?}")))?;
        let pool = Arc::new(Pool {
            queues: Mutex::new(Queues::default()),
            ready: Condvar::new(),
            session_limit: threads * SESSION_PER_THREAD,
            anonymous_limit: threads * ANONYMOUS_PER_THREAD,
        });
        for index in 0..threads {
            let pool = Arc::clone(&pool);
            std::thread::Builder::new()
                .name(format!("argon2-{index}"))
                .spawn(move || {
                    if index > 0 {
                        crate::background::lower_priority("password hashing");
                    }
                    work(&pool);
                })
                .context("cannot start a password hashing thread")?;
        }
        Ok(Self {
            _owner: Arc::new(Owner(Arc::clone(&pool))),
            pool,
            dummy_hash: dummy.into(),
        })
    }

    /// One hashing thread per available core.
    pub fn for_this_machine() -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores)
    }

    /// Runs `f` on a hashing thread once one is free, unless the queue for
    /// `priority` is full; skipped if the caller stopped waiting.
    async fn run<R: Send + 'static>(
        &self,
        priority: Priority,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, HashError> {
        let (reply, outcome) = oneshot::channel();
        let job: Job = Box::new(move || {
            if reply.is_closed() {
                return;
            }
            let _ = reply.send(f());
        });
        {
            let mut queues = self
                .pool
                .queues
                .lock()
                .map_err(|_| anyhow::anyhow!("password hashing queue poisoned"))?;
            let (queue, limit) = match priority {
                Priority::Session => (&mut queues.session, self.pool.session_limit),
                Priority::Anonymous => (&mut queues.anonymous, self.pool.anonymous_limit),
            };
            if queue.len() >= limit {
                return Err(HashError::Busy);
            }
            queue.push_back(job);
        }
        self.pool.ready.notify_one();
        Ok(outcome.await.context("password hashing job failed")?)
    }

    /// Hashes `password` into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
    pub async fn hash(
        &self,
        priority: Priority,
        password: Zeroizing<String>,
    ) -> Result<String, HashError> {
        Ok(self
            .run(priority, move || hash_blocking(&password))
            .await??)
    }

    /// Checks `password` against `hash`; with `None` (no such user) checks a
    /// dummy hash and returns `false`, taking the same time.
    pub async fn verify(
        &self,
        priority: Priority,
        password: Zeroizing<String>,
        hash: Option<String>,
    ) -> Result<bool, HashError> {
        let exists = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = self
            .run(priority, move || verify_blocking(&password, &hash))
            .await??;
        Ok(exists && matches)
    }
}

/// A hashing thread's loop: one job at a time, signed-in people's first,
/// until the pool is closed and drained. Jobs own what they need, so one
/// that panicked leaves nothing half-done.
fn work(pool: &Pool) {
    loop {
        let job = {
            let Ok(mut queues) = pool.queues.lock() else {
                return;
            };
            loop {
                if let Some(job) = queues.session.pop_front() {
                    break job;
                }
                if let Some(job) = queues.anonymous.pop_front() {
                    break job;
                }
                if queues.closed {
                    return;
                }
                queues = match pool.ready.wait(queues) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        // A panicking job drops its reply (its caller gets an error); the
        // thread lives on for the next one.
        drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)));
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
            .hash(Priority::Anonymous, Zeroizing::new("correct horse".into()))
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            hasher
                .verify(
                    Priority::Anonymous,
                    Zeroizing::new("correct horse".into()),
                    Some(hash.clone())
                )
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(
                    Priority::Session,
                    Zeroizing::new("wrong horse".into()),
                    Some(hash)
                )
                .await
                .unwrap()
        );
    }

    /// A job that panics fails alone: its caller gets an error and the
    /// only thread is still there for the next hash.
    #[tokio::test]
    async fn a_panicking_job_leaves_the_thread_working() {
        let hasher = Hasher::new(1).unwrap();
        let failed = hasher
            .run(Priority::Anonymous, || -> u8 { panic!("job failed") })
            .await;
        assert!(failed.is_err());
        let hash = hasher
            .hash(Priority::Anonymous, Zeroizing::new("still works".into()))
            .await;
        assert!(hash.unwrap().starts_with("$argon2id$"));
    }

    #[tokio::test]
    async fn missing_user_never_matches() {
        let hasher = Hasher::new(1).unwrap();
        assert!(
            !hasher
                .verify(Priority::Anonymous, Zeroizing::new("anything".into()), None)
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
            hasher.run(Priority::Anonymous, move || {
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

    /// Holds the only thread until `release` is dropped.
    fn block(
        hasher: &Hasher,
    ) -> (
        std::sync::mpsc::Sender<()>,
        impl Future<Output = ()> + use<>,
    ) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let hasher = hasher.clone();
        (release, async move {
            let _ = hasher
                .run(Priority::Session, move || {
                    let _ = held.recv();
                })
                .await;
        })
    }

    /// Anonymous work beyond the queue's bound is refused at once, not
    /// queued; signed-in people's work still gets in, and goes first.
    #[tokio::test]
    async fn a_full_anonymous_queue_sheds_and_session_work_goes_first() {
        let hasher = Hasher::new(1).unwrap();
        let (release, blocker) = block(&hasher);
        let blocker = tokio::spawn(blocker);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut queued = Vec::new();
        for i in 0..ANONYMOUS_PER_THREAD {
            let (hasher, order) = (hasher.clone(), Arc::clone(&order));
            queued.push(tokio::spawn(async move {
                hasher
                    .run(Priority::Anonymous, move || order.lock().unwrap().push(i))
                    .await
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let shed = hasher.run(Priority::Anonymous, || ()).await;
        assert!(matches!(shed, Err(HashError::Busy)), "{shed:?}");
        let first = {
            let (hasher, order) = (hasher.clone(), Arc::clone(&order));
            tokio::spawn(async move {
                hasher
                    .run(Priority::Session, move || {
                        order.lock().unwrap().push(usize::MAX)
                    })
                    .await
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(release);
        blocker.await.unwrap();
        first.await.unwrap().unwrap();
        for job in queued {
            job.await.unwrap().unwrap();
        }
        let order = order.lock().unwrap();
        assert_eq!(order.first(), Some(&usize::MAX), "{order:?}");
        assert_eq!(order.len(), ANONYMOUS_PER_THREAD + 1);
    }

    /// A job whose caller stopped waiting (the client hung up) is not run.
    #[tokio::test]
    async fn abandoned_jobs_are_dropped_unrun() {
        let hasher = Hasher::new(1).unwrap();
        let (release, blocker) = block(&hasher);
        let blocker = tokio::spawn(blocker);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..5 {
            let ran = Arc::clone(&ran);
            let job = hasher.run(Priority::Anonymous, move || {
                ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            });
            // Given up on before a thread is free.
            let _ = tokio::time::timeout(std::time::Duration::from_millis(5), job).await;
        }
        drop(release);
        blocker.await.unwrap();
        let ran_after = hasher
            .run(Priority::Anonymous, {
                let ran = Arc::clone(&ran);
                move || ran.load(std::sync::atomic::Ordering::SeqCst)
            })
            .await
            .unwrap();
        assert_eq!(ran_after, 0);
    }
}
