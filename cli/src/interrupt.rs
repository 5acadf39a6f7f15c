//! Ctrl-C and SIGTERM during a fetch: the first one raises a flag (the fetch stops, the
//! temporary output is removed, completed cached periods stay); a second one exits at once.

use std::sync::atomic::{AtomicBool, Ordering};

/// The exit code of a process ended by SIGINT, by shell convention (128 + 2).
pub const EXIT_CODE: u8 = 130;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only async-signal-safe work here: an atomic swap and _exit.
    if INTERRUPTED.swap(true, Ordering::SeqCst) {
        unsafe { libc::_exit(EXIT_CODE.into()) };
    }
}

/// Catch SIGINT and SIGTERM from now on.
pub fn install() {
    // SAFETY: a zeroed sigaction with an empty mask and a handler that only touches an
    // atomic and calls _exit is a valid disposition.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Calls `on_interrupt` once when a signal arrives, from a thread of its own that lives
/// until `done` is set.
pub fn watch(
    done: std::sync::Arc<AtomicBool>,
    on_interrupt: impl FnOnce() + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !done.load(Ordering::SeqCst) {
            if interrupted() {
                on_interrupt();
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    })
}
