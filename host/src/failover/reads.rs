//! Cache files read ahead: while the walk serves one cached period (trims it, looks for
//! gaps, hands it on), a second thread reads the next ones (the file, its checksum, the
//! decode and the rows' checks), so a warm read uses two cores. The walk takes periods
//! strictly in order; both threads claim the next unread period (the walk while the one
//! it wants is still being read by the helper), so neither waits on the other, and reads
//! stay at most a few periods ahead of the walk (memory). A helper that got a full window
//! ahead sleeps until the walk has taken half of it, and each side wakes the other only
//! when the other sleeps: a wake-up of an idle core costs more than a period's read on a
//! VM, so the helper reads a few periods per wake-up, not one.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::Scope;

/// At most about this many rows read ahead and waiting (a cached row is some tens of bytes
/// of file; a year of 1m days is 8 periods ahead, a day of 1s 2).
const ROWS_AHEAD: u64 = 200_000;
/// And at most this many periods: enough to keep the helper busy while the walk serves one.
const MAX_AHEAD: usize = 8;

/// How many periods may be read ahead for a kind with at most `rows_per_period` rows a
/// period (None: unknown, e.g. trades, so none: a busy day of trades is large).
pub(super) fn periods_ahead(rows_per_period: Option<u64>) -> usize {
    let Some(rows) = rows_per_period else {
        return 0;
    };
    usize::try_from(ROWS_AHEAD / rows.max(1))
        .unwrap_or(MAX_AHEAD)
        .min(MAX_AHEAD)
}

/// What the walk and its helper share: which periods are claimed, and the reads done.
pub(super) struct Shared<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
    /// How many periods the walk has.
    len: usize,
    /// How far ahead of the walk the helper may claim.
    window: usize,
}

struct State<T> {
    /// The first period nobody has claimed.
    next: usize,
    /// The period the walk is at.
    at: usize,
    /// Reads done and not yet taken, by period.
    ready: VecDeque<(usize, T)>,
    /// The walk is over: the helper ends.
    stop: bool,
    /// The helper sleeps until half its window is free.
    helper_sleeps: bool,
    /// The walk sleeps until the helper's read of the period it is at is in.
    walk_sleeps: bool,
}

impl<T: Send> Shared<T> {
    pub fn new(len: usize, window: usize) -> Self {
        Shared {
            state: Mutex::new(State {
                next: 0,
                at: 0,
                ready: VecDeque::new(),
                stop: false,
                helper_sleeps: false,
                walk_sleeps: false,
            }),
            changed: Condvar::new(),
            len,
            window,
        }
    }

    /// The helper's loop: claim the next period while it is near enough, read it, repeat,
    /// until the walk is over or the last period is claimed.
    fn work(&self, mut read: impl FnMut(usize) -> T) {
        loop {
            let mut st = self.lock();
            if st.next > st.at + self.window {
                st.helper_sleeps = true;
                while !st.stop && st.next < self.len && !self.may_resume(&st) {
                    st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
                }
                st.helper_sleeps = false;
            }
            if st.stop || st.next >= self.len {
                return;
            }
            let i = st.next;
            st.next += 1;
            drop(st);
            let done = read(i);
            let mut st = self.lock();
            st.ready.push_back((i, done));
            if std::mem::take(&mut st.walk_sleeps) {
                self.changed.notify_all();
            }
        }
    }

    /// A sleeping helper resumes once half its window is free again.
    fn may_resume(&self, st: &State<T>) -> bool {
        st.next + self.window / 2 <= st.at + self.window
    }

    /// Period `i`'s read: the helper's, or `read` here if nobody claimed it. While the
    /// helper is still reading `i`, the walk reads the next unclaimed period itself rather
    /// than wait (both threads read until `i` is in). Reads before `i` are dropped.
    fn take(&self, i: usize, mut read: impl FnMut(usize) -> T) -> T {
        let mut st = self.lock();
        st.at = i;
        st.ready.retain(|(k, _)| *k >= i);
        if st.helper_sleeps && self.may_resume(&st) {
            self.changed.notify_all();
        }
        loop {
            if let Some(pos) = st.ready.iter().position(|(k, _)| *k == i) {
                return st.ready.remove(pos).expect("found").1;
            }
            if st.next <= i {
                st.next = i + 1;
                drop(st);
                return read(i);
            }
            if st.next < self.len && st.next <= i + self.window {
                let k = st.next;
                st.next += 1;
                drop(st);
                let done = read(k);
                st = self.lock();
                st.ready.push_back((k, done));
                continue;
            }
            st.walk_sleeps = true;
            st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl<T> Shared<T> {
    fn stop(&self) {
        self.lock().stop = true;
        self.changed.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The walk's side: takes periods in order, and starts the helper when asked (once).
pub(super) struct Reads<'scope, 'env, T> {
    scope: &'scope Scope<'scope, 'env>,
    shared: &'scope Shared<T>,
    /// The helper's read of period `i`, until the helper is started.
    helper: Option<Box<dyn FnMut(usize) -> T + Send + 'scope>>,
}

impl<'scope, 'env, T: Send + 'scope> Reads<'scope, 'env, T> {
    /// `helper` reads period `i` on the helper's thread (with memory of its own); no
    /// helper when `shared`'s window is 0.
    pub fn new(
        scope: &'scope Scope<'scope, 'env>,
        shared: &'scope Shared<T>,
        helper: impl FnMut(usize) -> T + Send + 'scope,
    ) -> Self {
        let helper: Option<Box<dyn FnMut(usize) -> T + Send + 'scope>> = match shared.window {
            0 => None,
            _ => Some(Box::new(helper)),
        };
        Reads {
            scope,
            shared,
            helper,
        }
    }

    /// Period `i`'s read, by the helper or by `read` (of a period) here.
    pub fn take(&mut self, i: usize, read: impl FnMut(usize) -> T) -> T {
        self.shared.take(i, read)
    }

    /// From now on the helper reads ahead (called once the walk meets a cached period, so
    /// a walk of uncached periods starts no thread).
    pub fn start(&mut self) {
        if let Some(read) = self.helper.take() {
            let shared = self.shared;
            self.scope.spawn(move || shared.work(read));
        }
    }
}

impl<T> Drop for Reads<'_, '_, T> {
    /// The walk is over (done, failed or unwinding): the helper ends, and the scope joins it.
    fn drop(&mut self) {
        self.shared.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{channel, Receiver, Sender};

    #[test]
    fn candles_read_a_few_periods_ahead_and_unknown_row_counts_none() {
        assert_eq!(periods_ahead(Some(1440)), MAX_AHEAD);
        assert_eq!(periods_ahead(Some(744)), MAX_AHEAD);
        assert_eq!(periods_ahead(Some(86_400)), 2);
        assert_eq!(periods_ahead(Some(500_000)), 0);
        assert_eq!(periods_ahead(None), 0);
    }

    /// The helper says which period it claimed, then reads it when the test lets it (one
    /// `go` a read; a closed gate lets it through too).
    fn gated(go: Receiver<()>, said: Sender<usize>) -> impl FnMut(usize) -> String + Send {
        move |i| {
            said.send(i).unwrap();
            let _ = go.recv();
            format!("helper {i}")
        }
    }

    #[test]
    fn periods_come_in_order_from_the_helper_or_read_here() {
        let shared = Shared::new(6, 2);
        std::thread::scope(|scope| {
            let (go, gate) = channel();
            let (said, heard) = channel();
            let mut reads = Reads::new(scope, &shared, gated(gate, said));
            // Before the helper starts, the walk reads everything itself.
            assert_eq!(reads.take(0, |k| format!("here {k}")), "here 0");
            reads.start();
            assert_eq!(heard.recv().unwrap(), 1);
            go.send(()).unwrap();
            // 1 is read; the helper claims 2 (two past the walk at 0), and no further.
            assert_eq!(heard.recv().unwrap(), 2);
            assert_eq!(
                reads.take(1, |_| unreachable!("read by the helper")),
                "helper 1"
            );
            go.send(()).unwrap();
            // The walk at 1: the helper may claim 3.
            assert_eq!(heard.recv().unwrap(), 3);
            // The walk jumps to 5 (3 and 4 were fetched instead): 2's read is dropped, and
            // 5, which nobody claimed, is read here.
            assert_eq!(reads.take(5, |k| format!("here {k}")), "here 5");
            drop(reads); // the walk is over: the helper ends once its gate closes
            drop(go);
        });
        let st = shared.lock();
        assert!(st.stop && st.next == 6);
        assert!(
            st.ready.iter().all(|(k, _)| *k == 3),
            "2 dropped, only 3 came late"
        );
    }

    #[test]
    fn while_the_helper_reads_one_the_walk_reads_the_next_ones() {
        let shared = Shared::new(4, 2);
        std::thread::scope(|scope| {
            let (go, gate) = channel();
            let (said, heard) = channel();
            let mut reads = Reads::new(scope, &shared, gated(gate, said));
            reads.start();
            assert_eq!(heard.recv().unwrap(), 0, "claimed, held at its gate");
            let mut here = Vec::new();
            let got = reads.take(0, |k| {
                here.push(k);
                if k == 2 {
                    go.send(()).unwrap(); // the window is full: the helper may finish 0
                }
                format!("here {k}")
            });
            assert_eq!(got, "helper 0", "waited for, not read twice");
            assert_eq!(here, [1, 2], "read here meanwhile, up to the window");
            assert_eq!(reads.take(1, |_| unreachable!()), "here 1");
            assert_eq!(reads.take(2, |_| unreachable!()), "here 2");
            // The walk at 2: half the window is free, the helper may claim 3.
            assert_eq!(heard.recv().unwrap(), 3);
            drop(go);
            assert_eq!(reads.take(3, |_| unreachable!()), "helper 3");
        });
    }

    /// Waits (without a clock) until the helper sleeps with `next` unclaimed.
    fn until_the_helper_sleeps_at(shared: &Shared<String>, next: usize) {
        loop {
            let st = shared.lock();
            if st.helper_sleeps && st.next == next {
                return;
            }
            drop(st);
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_helper_a_window_ahead_sleeps_until_half_of_it_is_taken() {
        let shared = Shared::new(12, 4);
        std::thread::scope(|scope| {
            let (go, gate) = channel();
            let (said, heard) = channel();
            let mut reads = Reads::new(scope, &shared, gated(gate, said));
            reads.start();
            // The walk at 0: the helper claims 0..=4, a window ahead, then sleeps.
            for i in 0..=4 {
                assert_eq!(heard.recv().unwrap(), i);
                go.send(()).unwrap();
            }
            until_the_helper_sleeps_at(&shared, 5);
            for i in 0..3 {
                assert_eq!(reads.take(i, |_| unreachable!()), format!("helper {i}"));
                // Fewer than half the window's periods taken: it sleeps on, claiming none.
                assert!(heard.try_recv().is_err(), "woken at {i}");
                let st = shared.lock();
                assert!(st.helper_sleeps && st.next == 5, "at {i}");
            }
            // The walk at 3: next (5) + 2 <= 3 + 4; the helper claims 5, 6 and 7 in a row.
            assert_eq!(reads.take(3, |_| unreachable!()), "helper 3");
            for i in 5..=7 {
                assert_eq!(heard.recv().unwrap(), i);
                go.send(()).unwrap();
            }
            until_the_helper_sleeps_at(&shared, 8);
            assert_eq!(reads.take(4, |_| unreachable!()), "helper 4");
            assert!(heard.try_recv().is_err(), "asleep until the walk is at 6");
            drop(go);
        });
    }

    #[test]
    fn without_a_window_no_helper_starts() {
        let shared = Shared::new(3, 0);
        std::thread::scope(|scope| {
            let mut reads = Reads::new(scope, &shared, |_| unreachable!("no helper"));
            reads.start();
            for i in 0..3 {
                assert_eq!(reads.take(i, |k| k * 10), i * 10);
            }
        });
    }
}
