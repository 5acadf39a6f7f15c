//! Cancellation: long waits look at the host's flag every [`POLL`] and end early.

use std::future::Future;
use std::time::Duration;

use dsm_sdk::{plugin::Host, ErrorKind, ProviderError};
use tokio::time::{sleep, Instant};

/// How often a wait looks at the host's cancellation flag.
pub const POLL: Duration = Duration::from_millis(100);

pub fn cancelled_error() -> ProviderError {
    ProviderError::new(ErrorKind::CANCELLED, "the host cancelled the request")
}

/// `Err(CANCELLED)` once the host has asked to stop.
pub fn check(host: &Host) -> Result<(), ProviderError> {
    if host.is_cancelled() {
        Err(cancelled_error())
    } else {
        Ok(())
    }
}

/// Sleep for `dur`, ending early with `CANCELLED` when the host asks to stop.
pub async fn sleep_cancellable(host: &Host, dur: Duration) -> Result<(), ProviderError> {
    let deadline = Instant::now() + dur;
    loop {
        check(host)?;
        let now = Instant::now();
        if now >= deadline {
            return Ok(());
        }
        sleep((deadline - now).min(POLL)).await;
    }
}

/// Resolves once the host has asked to stop.
async fn until_cancelled(host: &Host) {
    while !host.is_cancelled() {
        sleep(POLL).await;
    }
}

/// Run `fut`, abandoning it with `CANCELLED` when the host asks to stop.
pub async fn cancellable<F: Future>(host: &Host, fut: F) -> Result<F::Output, ProviderError> {
    tokio::select! {
        out = fut => Ok(out),
        _ = until_cancelled(host) => Err(cancelled_error()),
    }
}
