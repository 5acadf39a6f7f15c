//! The provider's own tokio runtime, created on first use.
//!
//! A plugin statically links its own tokio: the host's runtime is invisible inside it, so the
//! provider owns one (plugin-loading.md). It is created lazily so that loading a plugin and
//! constructing a provider start no threads, and shut down with the provider.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dsm_sdk::{ErrorKind, ProviderError};
use once_cell::sync::OnceCell;
use tokio::runtime::{Builder, Runtime};

/// Worker threads: the work is network-bound; two keep parsing off the caller's thread.
const WORKER_THREADS: usize = 2;
/// Threads for blocking work (DNS lookups).
const BLOCKING_THREADS: usize = 4;
/// How long dropping the provider waits for the runtime's threads to end.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// A multi-thread runtime created on the first [`LazyRuntime::block_on`].
pub struct LazyRuntime {
    name: String,
    cell: OnceCell<Runtime>,
    /// The runtime's threads that have started and not yet finished their work.
    live: Arc<AtomicUsize>,
}

impl LazyRuntime {
    /// `name` prefixes the thread names (e.g. `dsm-binance`).
    pub fn new(name: impl Into<String>) -> Self {
        LazyRuntime {
            name: name.into(),
            cell: OnceCell::new(),
            live: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The runtime's threads still running: counted by tokio's thread start and stop
    /// hooks, so 0 after a drop means every thread has finished (the kernel may list an
    /// exiting thread in /proc a moment longer).
    pub fn live_threads(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Whether the runtime exists yet (for tests of laziness).
    pub fn is_started(&self) -> bool {
        self.cell.get().is_some()
    }

    /// The runtime, created now if needed.
    pub fn get(&self) -> Result<&Runtime, ProviderError> {
        self.cell.get_or_try_init(|| {
            let (started, stopped) = (self.live.clone(), self.live.clone());
            Builder::new_multi_thread()
                .worker_threads(WORKER_THREADS)
                .max_blocking_threads(BLOCKING_THREADS)
                .thread_name(self.name.clone())
                .on_thread_start(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                })
                .on_thread_stop(move || {
                    stopped.fetch_sub(1, Ordering::SeqCst);
                })
                .enable_all()
                .build()
                .map_err(|e| {
                    ProviderError::new(
                        ErrorKind::INTERNAL,
                        format!("{}: cannot start the runtime: {e}", self.name),
                    )
                })
        })
    }

    /// Run `fut` to completion on this runtime from a blocking (non-async) caller.
    pub fn block_on<F: Future>(&self, fut: F) -> Result<F::Output, ProviderError> {
        Ok(self.get()?.block_on(fut))
    }
}

impl Drop for LazyRuntime {
    fn drop(&mut self) {
        let Some(rt) = self.cell.take() else { return };
        // Waiting is not allowed inside an async context (only reachable from plugin code).
        if tokio::runtime::Handle::try_current().is_ok() {
            rt.shutdown_background();
        } else {
            rt.shutdown_timeout(SHUTDOWN_WAIT);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_on_first_use_only() {
        let rt = LazyRuntime::new("dsm-test");
        assert!(!rt.is_started());
        assert_eq!(rt.block_on(async { 7 }).unwrap(), 7);
        assert!(rt.is_started());
    }

    #[test]
    fn drop_ends_worker_threads() {
        let rt = LazyRuntime::new("dsm-drop-test");
        let name = rt
            .block_on(async {
                tokio::spawn(async { std::thread::current().name().map(String::from) })
                    .await
                    .unwrap()
            })
            .unwrap();
        assert_eq!(name.as_deref(), Some("dsm-drop-test"));
        // Blocking threads too (DNS lookups run there).
        rt.block_on(async { tokio::task::spawn_blocking(|| ()).await.unwrap() })
            .unwrap();
        assert!(
            rt.live_threads() > WORKER_THREADS,
            "workers and a blocking thread"
        );
        let live = rt.live.clone();
        drop(rt);
        // Tokio runs the stop hook on each thread before drop's shutdown returns: no thread
        // runs provider code any more.
        assert_eq!(live.load(Ordering::SeqCst), 0);
    }
}
