//! The background runtime: one thread, at the lowest priority of the
//! normal scheduling policy, running its own single-threaded async
//! runtime, for work that must never delay the message path — today, Web
//! Push: the fan-out (who gets a push about a message) and the sender
//! (encrypting each payload with two P-256 scalar multiplications, the
//! HTTP request, the queue's bookkeeping).
//!
//! Done on the async workers, that work sat in the same run queues as the
//! tasks that serve sockets and requests: with every receiver subscribed,
//! a busy channel's pushes outnumber its messages many times over, and
//! message latency rose with them. On this thread it runs on CPU time
//! nothing else wants (the kernel schedules the workers first), and the
//! push queue, which is durable, simply drains later.
//!
//! Its tasks use their own database connections where those are tied to a
//! runtime (PostgreSQL's sockets: a connection opened here would otherwise
//! be served by this thread's I/O driver when a request handler borrows
//! it): see `Db::for_background`.
//!
//! What they must not do from here is hold something the message path
//! waits for. SQLite has one writer connection, shared with the message
//! path: a transaction driven from this thread waits between its
//! statements for CPU time nothing else wants, while every message commit
//! queues behind it (a priority inversion). Such work goes back to the
//! runtime that started the thread, at normal priority, through
//! [`Background::write`].

use std::future::Future;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;
use tokio::task::{JoinError, JoinHandle};

use crate::storage::Db;

/// A low-priority thread with an async runtime of its own. The thread
/// ends, dropping its unfinished tasks, when this is dropped.
pub struct Background {
    handle: Handle,
    /// The runtime that started the thread (`None` outside one).
    foreground: Option<Handle>,
    _stop: oneshot::Sender<()>,
}

impl Background {
    /// Starts the thread, named `name`.
    pub fn start(name: &str) -> std::io::Result<Self> {
        let runtime = Builder::new_current_thread().enable_all().build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let label = name.to_owned();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                lower_priority(&label);
                // Runs the spawned tasks until the owner is dropped.
                let _ = runtime.block_on(stopped);
            })?;
        Ok(Self {
            handle,
            foreground: Handle::try_current().ok(),
            _stop: stop,
        })
    }

    /// Runs `work`, a database write of this thread's tasks, where it
    /// cannot hold up the message path. On SQLite it runs at normal
    /// priority ([`Background::at_normal_priority`]): it holds the one
    /// writer connection the message path shares. On PostgreSQL, whose
    /// writers do not wait for one another and whose background pools this
    /// thread serves (`Db::for_background`), it runs where it is called.
    pub async fn write<T, F>(&self, db: &Db, work: F) -> Result<T, sqlx::Error>
    where
        F: Future<Output = Result<T, sqlx::Error>> + Send + 'static,
        T: Send + 'static,
    {
        match db {
            Db::Sqlite { .. } => self
                .at_normal_priority(work)
                .await
                .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?,
            Db::Postgres(_) => work.await,
        }
    }

    /// Runs `work` on the runtime that started this thread, at normal
    /// priority, and waits for its result: for short work that holds what
    /// the message path needs (see the module's documentation). `Err` only
    /// when that runtime is shutting down.
    pub async fn at_normal_priority<F>(&self, work: F) -> Result<F::Output, JoinError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.foreground {
            Some(runtime) => runtime.spawn(work).await,
            None => Ok(work.await),
        }
    }

    /// Runs `task` on the background thread.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(task)
    }
}

/// Gives the calling thread the lowest priority of the normal scheduling
/// policy (nice 19 on Linux, where niceness is per thread): it then runs
/// only on CPU time no normal-priority thread wants. Failure (a sandbox
/// forbidding it) leaves the thread at normal priority, which is still
/// correct, only less polite.
pub fn lower_priority(what: &str) {
    if let Err(e) =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
    {
        tracing::debug!("{what} thread keeps normal priority: {e:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tasks_run_on_the_background_thread_until_it_is_dropped() {
        let background = Background::start("test-background").unwrap_or_else(|e| panic!("{e}"));
        let name = background
            .spawn(async { std::thread::current().name().map(str::to_owned) })
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(name.as_deref(), Some("test-background"));
        let timer = background.spawn(tokio::time::sleep(std::time::Duration::from_millis(5)));
        assert!(timer.await.is_ok(), "its own timers run");
        let forever = background.spawn(std::future::pending::<()>());
        drop(background);
        let ended = forever.await;
        assert!(ended.as_ref().is_err_and(|e| e.is_cancelled()), "{ended:?}");
    }

    #[tokio::test]
    async fn normal_priority_work_runs_on_the_runtime_that_started_the_thread() {
        let background = std::sync::Arc::new(
            Background::start("test-background-2").unwrap_or_else(|e| panic!("{e}")),
        );
        let here = std::thread::current().name().map(str::to_owned);
        let from_there = std::sync::Arc::clone(&background);
        let ran_on = background
            .spawn(async move {
                from_there
                    .at_normal_priority(async { std::thread::current().name().map(str::to_owned) })
                    .await
            })
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ran_on, here);
        assert_ne!(ran_on.as_deref(), Some("test-background-2"));
    }
}
