//! A chunk's cache writes overlapped with the next chunk: the walk hands a settled chunk to
//! a helper thread that writes (and fsyncs) its complete periods, and goes on to take the
//! next chunk when that one is already fetched, so the chunks ahead keep running instead
//! of waiting on the disk (when it is not, the written chunk is emitted first: output never
//! waits on the network). A chunk is emitted only once its writes are done, since each
//! served period says whether it was cached; periods are still emitted in order, and
//! memory grows by at most one chunk.

use std::sync::mpsc::sync_channel;
use std::thread::{Scope, ScopedJoinHandle};

use super::gaps::Reasons;
use super::sink::PeriodBuf;
use crate::cache::CacheError;

/// A chunk settled: each period's rows and whether it is to be cached, in order, and the
/// reasons for what its sources lacked.
pub(super) struct Settled<R> {
    pub periods: Vec<(i64, PeriodBuf<R>, bool)>,
    pub reasons: Reasons,
}

/// The results of a chunk's cache writes, one per period to be cached, in order.
pub(super) type Stored = Vec<Result<(), CacheError>>;

/// A settled chunk and its writes' results.
pub(super) type Written<R> = (Settled<R>, Stored);

enum Writing<'scope, R> {
    Running(ScopedJoinHandle<'scope, Written<R>>),
    Done(Written<R>),
}

/// The chunk being written, if any.
pub(super) struct Writes<'scope, 'env, R> {
    scope: &'scope Scope<'scope, 'env>,
    /// Whether chunks are written on a helper while the walk goes on (false: written and
    /// emitted one by one, for chunks too large to hold two of).
    overlap: bool,
    pending: Option<Writing<'scope, R>>,
}

impl<'scope, 'env, R: Send + 'scope> Writes<'scope, 'env, R> {
    pub fn new(scope: &'scope Scope<'scope, 'env>, overlap: bool) -> Self {
        Writes {
            scope,
            overlap,
            pending: None,
        }
    }

    /// Start writing `chunk` with `write` on a helper thread (here, when none can be had),
    /// and return the chunk written before it, its writes done: the one to emit now.
    /// Without overlap, `chunk` is written here and returned.
    pub fn push<W>(&mut self, chunk: Settled<R>, write: W) -> Option<Written<R>>
    where
        W: FnOnce(&Settled<R>) -> Stored + Send + 'scope,
    {
        if !self.overlap {
            let stored = write(&chunk);
            return Some((chunk, stored));
        }
        // The chunk goes over once the thread is there, so a failed spawn keeps it.
        let (tx, rx) = sync_channel::<(Settled<R>, W)>(1);
        let spawned = std::thread::Builder::new()
            .name("dsm-chunk-write".into())
            .spawn_scoped(self.scope, move || {
                let (chunk, write) = rx.recv().expect("the chunk is sent once spawned");
                let stored = write(&chunk);
                (chunk, stored)
            });
        let next = match spawned {
            Ok(thread) => {
                tx.send((chunk, write))
                    .expect("the writer waits for its chunk");
                Writing::Running(thread)
            }
            Err(e) => {
                tracing::debug!("cache: writing a chunk without a helper thread: {e}");
                let stored = write(&chunk);
                Writing::Done((chunk, stored))
            }
        };
        let before = self.finish();
        self.pending = Some(next);
        before
    }

    /// The chunk being written, once its writes are done.
    pub fn finish(&mut self) -> Option<Written<R>> {
        match self.pending.take()? {
            Writing::Done(w) => Some(w),
            Writing::Running(thread) => Some(
                thread
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(p: i64) -> Settled<u32> {
        Settled {
            periods: vec![(p, PeriodBuf::default(), true)],
            reasons: Reasons::default(),
        }
    }

    fn starts(w: Option<Written<u32>>) -> Option<(i64, usize)> {
        w.map(|(c, stored)| (c.periods[0].0, stored.len()))
    }

    #[test]
    fn with_overlap_each_chunk_comes_back_after_the_next_is_pushed() {
        std::thread::scope(|s| {
            let mut writes = Writes::new(s, true);
            let write = |c: &Settled<u32>| c.periods.iter().map(|_| Ok(())).collect();
            assert_eq!(starts(writes.push(chunk(1), write)), None);
            assert_eq!(starts(writes.push(chunk(2), write)), Some((1, 1)));
            assert_eq!(starts(writes.push(chunk(3), write)), Some((2, 1)));
            assert_eq!(starts(writes.finish()), Some((3, 1)));
            assert_eq!(starts(writes.finish()), None);
        });
    }

    #[test]
    fn without_overlap_a_chunk_is_written_and_returned_at_once() {
        std::thread::scope(|s| {
            let mut writes = Writes::new(s, false);
            let write = |_: &Settled<u32>| vec![Err(CacheError::InvalidKey("k".into()))];
            let (c, stored) = writes.push(chunk(7), write).expect("returned at once");
            assert_eq!(c.periods[0].0, 7);
            assert!(matches!(stored[..], [Err(CacheError::InvalidKey(_))]));
            assert!(writes.finish().is_none());
        });
    }
}
