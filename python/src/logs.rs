//! Log output: the host's and plugins' `tracing` events go to stderr, filtered by the most
//! verbose `log_level` any manager of this process asked for (Python's logging levels are
//! process-wide too). Installed once, on the first manager.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

use dsm_sdk::LogLevel;
use tracing::Level;
use tracing_subscriber::prelude::*;

/// The most verbose level asked for so far (LogLevel numbering: 1 error .. 5 trace).
static MAX_LEVEL: AtomicU32 = AtomicU32::new(0);
static INSTALL: Once = Once::new();

/// Show events up to `level` from now on (never fewer than before).
pub fn want(level: LogLevel) {
    MAX_LEVEL.fetch_max(level.0, Ordering::Relaxed);
    INSTALL.call_once(|| {
        let filter = tracing_subscriber::filter::filter_fn(|meta| {
            rank(meta.level()) <= MAX_LEVEL.load(Ordering::Relaxed)
        });
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .with_filter(filter);
        // An embedding program may have installed its own subscriber: keep that one.
        let _ = tracing_subscriber::registry().with(layer).try_init();
    });
}

fn rank(level: &Level) -> u32 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}
