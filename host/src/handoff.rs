//! The bounded handoff from a fetch thread to its reader: batches queue up to a bound on
//! rows (memory: about two days of 1s) and on batches, and a sender that met the bound
//! sleeps until half of it is free again. Each side wakes the other only when the other
//! sleeps: a wake-up of an idle core costs more than handing over a small batch on a VM, so
//! a fetch that runs ahead of its reader is woken once per several batches, not per batch.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Rows a batch holds, for the bound.
pub(crate) trait Rows {
    fn rows(&self) -> usize;
}

/// At most this many rows queued (two days of 1s; a batch larger than it still goes
/// through, alone).
const MAX_ROWS: usize = 200_000;
/// And at most this many batches (16 days of 1m).
const MAX_BATCHES: usize = 16;

/// A handoff with the default bounds.
pub(crate) fn handoff<T: Rows>() -> (Sender<T>, Receiver<T>) {
    handoff_bounded(MAX_ROWS, MAX_BATCHES, T::rows)
}

fn handoff_bounded<T>(
    max_rows: usize,
    max_batches: usize,
    rows: fn(&T) -> usize,
) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queue {
            items: VecDeque::new(),
            rows: 0,
            sender_gone: false,
            receiver_gone: false,
            sender_sleeps: false,
            receiver_sleeps: false,
        }),
        changed: Condvar::new(),
        max_rows,
        max_batches,
        rows,
    });
    (Sender(shared.clone()), Receiver(shared))
}

struct Shared<T> {
    queue: Mutex<Queue<T>>,
    changed: Condvar,
    max_rows: usize,
    max_batches: usize,
    /// Rows of a batch.
    rows: fn(&T) -> usize,
}

struct Queue<T> {
    items: VecDeque<T>,
    /// Rows of `items`.
    rows: usize,
    sender_gone: bool,
    receiver_gone: bool,
    /// The sender sleeps until half the bound is free.
    sender_sleeps: bool,
    /// The receiver sleeps until a batch comes (or the sender is gone).
    receiver_sleeps: bool,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Queue<T>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, q: MutexGuard<'a, Queue<T>>) -> MutexGuard<'a, Queue<T>> {
        self.changed.wait(q).unwrap_or_else(|e| e.into_inner())
    }

    /// `rows` more would pass the bound (an empty queue takes any batch).
    fn full(&self, q: &Queue<T>, rows: usize) -> bool {
        !q.items.is_empty() && (q.rows + rows > self.max_rows || q.items.len() >= self.max_batches)
    }

    /// A sleeping sender resumes once the queue is down to half of both bounds.
    fn half_free(&self, q: &Queue<T>) -> bool {
        q.rows <= self.max_rows / 2 && q.items.len() <= self.max_batches / 2
    }
}

/// The fetch thread's end. Dropping it ends the stream for the receiver.
pub(crate) struct Sender<T>(Arc<Shared<T>>);

impl<T> Sender<T> {
    /// Queues `item`, sleeping while the queue is full; `Err(item)` once the receiver is
    /// gone (the reader dropped the stream).
    pub fn send(&self, item: T) -> Result<(), T> {
        let s = &self.0;
        let rows = (s.rows)(&item);
        let mut q = s.lock();
        if s.full(&q, rows) && !q.receiver_gone {
            q.sender_sleeps = true;
            while !q.receiver_gone && (!s.half_free(&q) || s.full(&q, rows)) {
                q = s.wait(q);
            }
            q.sender_sleeps = false;
        }
        if q.receiver_gone {
            return Err(item);
        }
        q.rows += rows;
        q.items.push_back(item);
        if std::mem::take(&mut q.receiver_sleeps) {
            s.changed.notify_all();
        }
        Ok(())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.0.lock().sender_gone = true;
        self.0.changed.notify_all();
    }
}

/// The reader's end. Dropping it makes the sender's next `send` fail.
pub(crate) struct Receiver<T>(Arc<Shared<T>>);

impl<T> Receiver<T> {
    /// The next batch, sleeping until one comes; None once the sender is gone and the
    /// queue is empty.
    pub fn recv(&self) -> Option<T> {
        let s = &self.0;
        let mut q = s.lock();
        loop {
            if let Some(item) = q.items.pop_front() {
                q.rows -= (s.rows)(&item);
                if q.sender_sleeps && s.half_free(&q) {
                    s.changed.notify_all();
                }
                return Some(item);
            }
            if q.sender_gone {
                return None;
            }
            q.receiver_sleeps = true;
            q = s.wait(q);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut q = self.0.lock();
        q.receiver_gone = true;
        // The queued batches go now, not when the fetch thread ends.
        q.items.clear();
        q.rows = 0;
        drop(q);
        self.0.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Batches that are their own row counts.
    fn bounded(max_rows: usize, max_batches: usize) -> (Sender<usize>, Receiver<usize>) {
        handoff_bounded(max_rows, max_batches, |n| *n)
    }

    /// Waits (without a clock) until the sender sleeps with `queued` batches queued.
    fn until_the_sender_sleeps_at(rx: &Receiver<usize>, queued: usize) {
        loop {
            let q = rx.0.lock();
            if q.sender_sleeps && q.items.len() == queued {
                return;
            }
            drop(q);
            std::thread::yield_now();
        }
    }

    #[test]
    fn batches_come_in_order_and_the_end_after_the_last() {
        let (tx, rx) = bounded(100, 4);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for n in 1..=20 {
                    tx.send(n).unwrap();
                }
            });
            let got: Vec<usize> = std::iter::from_fn(|| rx.recv()).collect();
            assert_eq!(got, (1..=20).collect::<Vec<_>>());
        });
    }

    #[test]
    fn a_full_sender_sleeps_until_half_the_bound_is_free() {
        let (tx, rx) = bounded(1_000, 4);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for n in 1..=8 {
                    tx.send(n).unwrap();
                }
            });
            // Four batches queued: the bound on batches; the fifth waits.
            until_the_sender_sleeps_at(&rx, 4);
            assert_eq!(rx.recv(), Some(1));
            // Three left: more than half of 4, so it sleeps on.
            let q = rx.0.lock();
            assert!(q.sender_sleeps && q.items.len() == 3);
            drop(q);
            assert_eq!(rx.recv(), Some(2));
            // Two left: it resumes and fills the queue again.
            until_the_sender_sleeps_at(&rx, 4);
            assert_eq!(
                std::iter::from_fn(|| rx.recv()).collect::<Vec<_>>(),
                [3, 4, 5, 6, 7, 8]
            );
        });
    }

    #[test]
    fn rows_bound_the_queue_but_a_large_batch_still_goes_alone() {
        let (tx, rx) = bounded(100, 16);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for n in [60, 30, 500, 10] {
                    tx.send(n).unwrap();
                }
            });
            // 60 + 30 queued; 500 more would pass 100 rows.
            until_the_sender_sleeps_at(&rx, 2);
            assert_eq!(rx.0.lock().rows, 90);
            assert_eq!(rx.recv(), Some(60));
            assert_eq!(rx.recv(), Some(30));
            // Alone in the queue, the large batch is let through.
            assert_eq!(rx.recv(), Some(500));
            assert_eq!(rx.recv(), Some(10));
            assert_eq!(rx.recv(), None);
        });
    }

    #[test]
    fn a_dropped_receiver_fails_the_sleeping_sender_and_frees_the_queue() {
        let (tx, rx) = bounded(1_000, 2);
        std::thread::scope(|scope| {
            let sender = scope.spawn(move || (1..=5).map(|n| tx.send(n)).collect::<Vec<_>>());
            until_the_sender_sleeps_at(&rx, 2);
            let shared = rx.0.clone();
            drop(rx);
            let sent = sender.join().unwrap();
            assert_eq!(sent, [Ok(()), Ok(()), Err(3), Err(4), Err(5)]);
            assert!(shared.lock().items.is_empty());
        });
    }
}
