//! `Dsm`'s streaming and async fetches: the fetch on a thread of its own, its period
//! batches handed over through a bounded queue (`handoff`: memory stays bounded however
//! long the range), and the stream type the caller iterates.

use crate::error::{DsmError, Result};
use crate::handoff::{handoff, Receiver, Rows};
use crate::klines::Klines;
use crate::manager::Dsm;
use crate::report::{FetchSummary, PeriodBatch};
use crate::request::IntoMillis;
use dsm_sdk::{ErrorKind, ProviderError};

impl Dsm {
    /// The same fetch as a stream of period-sized batches (a UTC day, or a month for
    /// intervals of a day or more), in order: memory stays bounded however long the range.
    /// The fetch runs on its own thread, a few batches ahead of the reader at most (about
    /// two days of 1s, 16 days of 1m).
    pub fn fetch_stream(
        &self,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
    ) -> Result<FetchStream> {
        self.fetch_stream_with_progress(symbol, interval, start, end, |_, _| {})
    }

    /// As [`Dsm::fetch_stream`], calling `progress(done_ms, total_ms)` on the fetch thread
    /// as requests complete (not only when a period is ready): `done_ms` of the requested
    /// `total_ms` are fetched or read. `done_ms` can step back when a second source fills
    /// what the first did not have.
    pub fn fetch_stream_with_progress(
        &self,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
        mut progress: impl FnMut(i64, i64) + Send + 'static,
    ) -> Result<FetchStream> {
        let req = self.request(symbol, interval, start, end)?;
        let this = self.clone();
        spawn_stream(move |emit| this.run(&req, emit, &mut progress))
    }

    /// The async form, for use inside an application's runtime (tokio or any other): the
    /// blocking fetch runs on its own thread, so the caller's runtime is never blocked.
    pub async fn fetch_async(
        &self,
        symbol: &str,
        interval: &str,
        start: impl IntoMillis,
        end: impl IntoMillis,
    ) -> Result<Klines> {
        let req = self.request(symbol, interval, start, end)?;
        let this = self.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::Builder::new()
            .name("dsm-fetch".into())
            .spawn(move || {
                let result = this
                    .collect_klines(&req, &mut |_, _| {})
                    .map(|(rows, summary)| this.klines(&req, rows, summary));
                let _ = tx.send(result);
            })
            .map_err(|e| DsmError::io("cannot start a fetch thread", e))?;
        rx.await.unwrap_or_else(|_| {
            Err(DsmError::io(
                "fetch thread",
                std::io::Error::other("ended without a result"),
            ))
        })
    }
}

pub(crate) enum StreamMsg<T> {
    Batch(T),
    Done(Result<FetchSummary>),
}

impl<T: Rows> Rows for StreamMsg<T> {
    fn rows(&self) -> usize {
        match self {
            StreamMsg::Batch(b) => b.rows(),
            StreamMsg::Done(_) => 0,
        }
    }
}

/// `fetch` on its own thread, its batches sent to the returned stream a few ahead of the
/// reader at most; a dropped stream stops the fetch at its next batch.
pub(crate) fn spawn_stream<T: Rows + Send + 'static>(
    fetch: impl FnOnce(&mut dyn FnMut(T) -> Result<()>) -> Result<FetchSummary> + Send + 'static,
) -> Result<FetchStream<T>> {
    let (tx, rx) = handoff();
    std::thread::Builder::new()
        .name("dsm-stream".into())
        .spawn(move || {
            let done = fetch(&mut |batch| {
                tx.send(StreamMsg::Batch(batch))
                    .map_err(|_| stream_dropped())
            });
            let _ = tx.send(StreamMsg::Done(done));
        })
        .map_err(|e| DsmError::io("cannot start a fetch thread", e))?;
    Ok(FetchStream { rx, summary: None })
}

fn stream_dropped() -> DsmError {
    DsmError::Provider {
        provider: "dsm".into(),
        error: ProviderError::new(ErrorKind::CANCELLED, "the stream was dropped"),
    }
}

/// Period batches of a [`Dsm::fetch_stream`] (or record batches of
/// [`Dsm::stream_records`]), then `Ok` summary via [`FetchStream::summary`].
pub struct FetchStream<T = PeriodBatch> {
    rx: Receiver<StreamMsg<T>>,
    summary: Option<FetchSummary>,
}

impl<T> FetchStream<T> {
    /// The fetch's report, once the stream has ended without an error.
    pub fn summary(&self) -> Option<&FetchSummary> {
        self.summary.as_ref()
    }
}

impl<T> Iterator for FetchStream<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.rx.recv()? {
            StreamMsg::Batch(b) => Some(Ok(b)),
            StreamMsg::Done(Ok(summary)) => {
                self.summary = Some(summary);
                None
            }
            StreamMsg::Done(Err(e)) => Some(Err(e)),
        }
    }
}
