//! Where a fetch's batches go, and delivering fetched windows to it in ascending order.

use std::future::Future;

use dsm_sdk::{
    plugin::{DataOut, Sink},
    FetchReport, FundingBatch, Kline, KlineBatch, MetricBatch, ProviderError, SourceKind,
    TradeBatch,
};

use crate::ordered::for_each_ordered;
use crate::window::Window;

/// Where batches go: the host's sink, or a collector in tests ([`crate::testing::Collect`]).
pub trait Out {
    fn batch(&mut self, batch: KlineBatch) -> Result<(), ProviderError>;
    fn progress(&mut self, done_ms: i64, total_ms: i64);
}

impl Out for Sink<'_, '_> {
    fn batch(&mut self, batch: KlineBatch) -> Result<(), ProviderError> {
        self.push(batch)
    }

    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        Sink::progress(self, done_ms, total_ms)
    }
}

/// Candle-shaped kinds (mark, index, premium) go through the same delivery as klines.
impl Out for DataOut<'_, '_> {
    fn batch(&mut self, batch: KlineBatch) -> Result<(), ProviderError> {
        self.push_klines(batch)
    }

    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        DataOut::progress(self, done_ms, total_ms)
    }
}

/// Where funding batches go: the host's sink, or [`crate::testing::Collect`].
pub trait FundingOut {
    fn funding(&mut self, batch: FundingBatch) -> Result<(), ProviderError>;
    fn progress(&mut self, done_ms: i64, total_ms: i64);
}

impl FundingOut for DataOut<'_, '_> {
    fn funding(&mut self, batch: FundingBatch) -> Result<(), ProviderError> {
        self.push_funding(batch)
    }

    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        DataOut::progress(self, done_ms, total_ms)
    }
}

/// Where trade batches go (trades and aggregated trades): the host's sink, or
/// [`crate::testing::Collect`].
pub trait TradesOut {
    fn trades(&mut self, batch: TradeBatch) -> Result<(), ProviderError>;
    fn progress(&mut self, done_ms: i64, total_ms: i64);
}

impl TradesOut for DataOut<'_, '_> {
    fn trades(&mut self, batch: TradeBatch) -> Result<(), ProviderError> {
        self.push_trades(batch)
    }

    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        DataOut::progress(self, done_ms, total_ms)
    }
}

/// Where metric batches go: the host's sink, or [`crate::testing::Collect`].
pub trait MetricsOut {
    fn metrics(&mut self, batch: MetricBatch) -> Result<(), ProviderError>;
    fn progress(&mut self, done_ms: i64, total_ms: i64);
}

impl MetricsOut for DataOut<'_, '_> {
    fn metrics(&mut self, batch: MetricBatch) -> Result<(), ProviderError> {
        self.push_metrics(batch)
    }

    fn progress(&mut self, done_ms: i64, total_ms: i64) {
        DataOut::progress(self, done_ms, total_ms)
    }
}

/// A window fetched in full: its candles, ascending and inside it.
pub struct Fetched {
    pub window: Window,
    pub klines: Vec<Kline>,
    pub requests: u64,
}

/// Fetch `windows` (ascending, covering `[start_ms, end_ms)`) with `task`, up to
/// `2 x concurrency` of them at a time, and hand each to `out` in order as one LIVE batch
/// covering exactly its window, with progress. Memory stays bounded by the windows in flight.
pub async fn fetch_in_order<F, Fut>(
    windows: Vec<Window>,
    (start_ms, end_ms): (i64, i64),
    concurrency: usize,
    out: &mut dyn Out,
    task: F,
) -> Result<FetchReport, ProviderError>
where
    F: FnMut(Window) -> Fut,
    Fut: Future<Output = Result<Fetched, ProviderError>> + Send + 'static,
{
    let mut report = FetchReport::default();
    // Twice the HTTP concurrency: finished windows wait their turn while others run.
    let lookahead = 2 * concurrency.max(1);
    let deliver = |f: Fetched| {
        report.requests += f.requests;
        report.klines += f.klines.len() as u64;
        out.batch(KlineBatch {
            klines: f.klines.into(),
            source: SourceKind::LIVE,
            covered_start_ms: f.window.start_ms,
            covered_end_ms: f.window.end_ms,
        })?;
        out.progress(f.window.end_ms - start_ms, end_ms - start_ms);
        Ok(())
    };
    for_each_ordered(windows, lookahead, task, deliver).await?;
    Ok(report)
}
