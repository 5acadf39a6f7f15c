//! Chunks fetched ahead: while the calling thread settles and emits one chunk, the
//! network half of the next few runs on threads of their own, so that a far server's round
//! trips overlap. Results are taken strictly in order; how many may wait is bounded by
//! their rows (memory), and what is no longer wanted is stopped and joined.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use std::thread::{Scope, ScopedJoinHandle};

use super::fetch::Outcome;
use super::Progress;

/// At most this many chunks ahead: enough to hide a far server's latency behind the
/// archive's own concurrency limit, which bounds the requests in flight anyway.
const MAX_AHEAD: usize = 4;

/// At most about this many rows held ahead. A row in flight costs some hundreds of bytes
/// (the plugin's decoded rows, the batch handed over, the host's buffer).
const ROWS_AHEAD: u64 = 200_000;

/// Chunks larger than this are not fetched ahead: one such chunk already keeps a server
/// busy for a while (a day of 1s is 86,400 candles in one file), so overlapping them buys
/// little, and their memory counts: a month of 1s peaked at 190-230 MiB with 2-4 days
/// ahead, against 86 MiB one day at a time (dsm-bench `memory`).
const MAX_CHUNK_ROWS: u64 = 50_000;

/// How many chunks of `periods` periods may be fetched ahead, for a kind with at most
/// `rows_per_period` rows a period (None: unknown, so none ahead).
pub(super) fn chunks_ahead(rows_per_period: Option<u64>, periods: usize) -> usize {
    let Some(rows) = rows_per_period else {
        return 0;
    };
    let per_chunk = rows.saturating_mul(periods as u64).max(1);
    if per_chunk > MAX_CHUNK_ROWS {
        return 0;
    }
    usize::try_from(ROWS_AHEAD / per_chunk)
        .unwrap_or(MAX_AHEAD)
        .min(MAX_AHEAD)
}

/// One chunk in flight: its periods (indices into the request's period starts), the flag
/// that stops it, its progress reports (kept for the calling thread), and its thread.
struct Job<'scope, R> {
    periods: (usize, usize),
    stop: Arc<AtomicBool>,
    progress: Receiver<(i64, i64)>,
    thread: ScopedJoinHandle<'scope, Outcome<R>>,
}

/// The chunks in flight, oldest first.
pub(super) struct Ahead<'scope, 'env, R> {
    scope: &'scope Scope<'scope, 'env>,
    jobs: VecDeque<Job<'scope, R>>,
    limit: usize,
}

impl<'scope, 'env, R: Send + 'scope> Ahead<'scope, 'env, R> {
    pub fn new(scope: &'scope Scope<'scope, 'env>, limit: usize) -> Self {
        Ahead {
            scope,
            jobs: VecDeque::new(),
            limit,
        }
    }

    /// Whether another chunk may be started.
    pub fn has_room(&self) -> bool {
        self.jobs.len() < self.limit
    }

    /// Where the next chunk to start ahead begins: after the last one in flight, else at
    /// `from`.
    pub fn next_from(&self, from: usize) -> usize {
        self.jobs.back().map_or(from, |j| j.periods.1.max(from))
    }

    /// Start fetching the periods `periods` on a thread of their own; what it reports as
    /// progress is handed to the calling thread's callback when the chunk's turn comes.
    pub fn spawn(
        &mut self,
        periods: (usize, usize),
        job: impl FnOnce(&AtomicBool, &mut Progress<'_>) -> Outcome<R> + Send + 'scope,
    ) {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let (tx, progress) = channel();
        let thread = self.scope.spawn(move || {
            job(&flag, &mut |done, total| {
                let _ = tx.send((done, total));
            })
        });
        self.jobs.push_back(Job {
            periods,
            stop,
            progress,
            thread,
        });
    }

    /// The chunk `periods` if it is the oldest in flight (to [`Pending::wait`] for, after
    /// starting more). Otherwise the guess was wrong (a cached file turned out unreadable,
    /// say): everything in flight is dropped and None says to fetch it here.
    pub fn take(&mut self, periods: (usize, usize)) -> Option<Pending<'scope, R>> {
        if self.jobs.front().map(|j| j.periods) != Some(periods) {
            self.abandon();
            return None;
        }
        self.jobs
            .pop_front()
            .map(|job| Pending(job.progress, job.thread))
    }

    /// Stop every chunk in flight and wait for their threads (what they fetched is dropped).
    pub fn abandon(&mut self) {
        for job in &self.jobs {
            job.stop.store(true, Ordering::Relaxed);
        }
        for job in self.jobs.drain(..) {
            let _ = join(job.thread);
        }
    }
}

impl<R> Drop for Ahead<'_, '_, R> {
    /// After an error or a cancel: nothing in flight outlives the fetch.
    fn drop(&mut self) {
        for job in &self.jobs {
            job.stop.store(true, Ordering::Relaxed);
        }
        // The scope joins the threads when it ends.
    }
}

/// A chunk taken from the front, still running or done.
pub(super) struct Pending<'scope, R>(Receiver<(i64, i64)>, ScopedJoinHandle<'scope, Outcome<R>>);

impl<R> Pending<'_, R> {
    /// Whether its thread is done (its outcome can be taken without waiting).
    pub fn is_done(&self) -> bool {
        self.1.is_finished()
    }

    /// Its outcome, once its thread is done, its progress reported to `progress` meanwhile
    /// (what it reported before its turn first).
    pub fn wait(self, progress: &mut Progress<'_>) -> Outcome<R> {
        // Ends when the job is done and its sender gone.
        for (done, total) in self.0.iter() {
            progress(done, total);
        }
        join(self.1)
    }
}

fn join<R>(thread: ScopedJoinHandle<'_, Outcome<R>>) -> Outcome<R> {
    thread
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candles_go_up_to_four_ahead_and_unknown_row_counts_none() {
        // A month of 1m days, a year of 1h months; a day of 1s is one large chunk.
        assert_eq!(chunks_ahead(Some(1440), 31), MAX_AHEAD);
        assert_eq!(chunks_ahead(Some(86_400), 1), 0);
        assert_eq!(chunks_ahead(Some(744), 12), MAX_AHEAD);
        // Large chunks: fewer, down to none.
        assert_eq!(chunks_ahead(Some(45_000), 1), 4);
        assert_eq!(chunks_ahead(Some(1_500), 31), 4);
        assert_eq!(chunks_ahead(Some(60_000), 1), 0);
        assert_eq!(chunks_ahead(Some(500_000), 1), 0);
        assert_eq!(chunks_ahead(None, 31), 0);
    }
}
