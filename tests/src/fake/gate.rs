//! Holding requests until the test says so: a point where the client is certainly in the
//! middle of its work (waiting for an answer), reached whatever the machine's speed.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

pub(crate) struct Gate {
    state: Mutex<GateState>,
    /// Signalled when a request is held.
    held_cv: Condvar,
    /// The release generation: held requests wait for it to pass theirs.
    released: watch::Sender<u64>,
}

#[derive(Default)]
struct GateState {
    /// Requests still let through before holding starts; `None`: the gate is open.
    pass: Option<usize>,
    /// Requests being held now.
    held: usize,
    generation: u64,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            state: Mutex::default(),
            held_cv: Condvar::new(),
            released: watch::channel(0).0,
        }
    }
}

impl Gate {
    fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets `n` more requests through, then holds every later one.
    pub(crate) fn hold_after(&self, n: usize) {
        self.lock().pass = Some(n);
    }

    /// Waits up to `timeout` for a request to be held; whether one is.
    pub(crate) fn wait_held(&self, timeout: Duration) -> bool {
        self.wait_held_count(1, timeout) > 0
    }

    /// Waits up to `timeout` for `n` requests to be held at once; how many are held.
    pub(crate) fn wait_held_count(&self, n: usize, timeout: Duration) -> usize {
        let st = self.lock();
        let (st, _) = self
            .held_cv
            .wait_timeout_while(st, timeout, |st| st.held < n)
            .unwrap_or_else(|e| e.into_inner());
        st.held
    }

    /// Answers every held request and opens the gate.
    pub(crate) fn release(&self) {
        let mut st = self.lock();
        st.pass = None;
        st.held = 0;
        st.generation += 1;
        self.released.send_replace(st.generation);
    }

    /// Called for each request before it is answered: returns at once, or when released.
    pub(crate) async fn enter(&self) {
        let generation = {
            let mut st = self.lock();
            match st.pass.as_mut() {
                None => return,
                Some(n) if *n > 0 => {
                    *n -= 1;
                    return;
                }
                Some(_) => {}
            }
            st.held += 1;
            self.held_cv.notify_all();
            st.generation
        };
        // A release between the unlock and here has already raised the value: no wait.
        let mut rx = self.released.subscribe();
        let _ = rx.wait_for(|g| *g > generation).await;
    }
}
