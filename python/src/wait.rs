//! Waiting for work on a Rust thread without holding the GIL, while staying responsive to
//! Ctrl-C: the wait wakes every 100 ms to run Python's signal handlers.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// How often a wait looks at pending signals (so Ctrl-C is seen well within a second).
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// The next message on `rx`, or `None` if the sender is gone. On an exception from a signal
/// handler (KeyboardInterrupt) `on_interrupt` runs and the exception is returned. The
/// receiver is handed back (it crosses into the GIL-free closure and out again).
pub fn recv<T: Send>(
    py: Python<'_>,
    rx: Receiver<T>,
    on_interrupt: impl FnOnce(),
) -> (PyResult<Option<T>>, Receiver<T>) {
    let mut rx = rx;
    loop {
        let (got, back) = py.detach(move || (rx.recv_timeout(SIGNAL_POLL), rx));
        rx = back;
        match got {
            Ok(v) => return (Ok(Some(v)), rx),
            Err(RecvTimeoutError::Disconnected) => return (Ok(None), rx),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals() {
                    on_interrupt();
                    return (Err(e), rx);
                }
            }
        }
    }
}

/// Run `work` on its own thread and wait for its result (see [`recv`]).
pub fn run<T: Send + 'static>(
    py: Python<'_>,
    work: impl FnOnce() -> T + Send + 'static,
    on_interrupt: impl FnOnce(),
) -> PyResult<T> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("dsm-python-fetch".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a fetch thread: {e}")))?;
    recv(py, rx, on_interrupt)
        .0?
        .ok_or_else(|| PyRuntimeError::new_err("the fetch thread ended without a result"))
}
