//! A REST fetch: plan windows, fetch them concurrently, deliver them in ascending order.

use std::sync::Arc;

use dsm_plugin_kit::ordered::for_each_ordered;
use dsm_sdk::{plugin::Sink, FetchReport, KlineBatch, ProviderError, SourceKind};

use crate::page::{fetch_window, Job, Page};
use crate::plan::plan;

/// Where batches go: the host's sink, or a collector in tests.
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

/// Fetch `[start_ms, end_ms)` with up to `concurrency` requests in flight. One batch per
/// window, covering exactly that window, in ascending order.
pub async fn fetch(
    job: Arc<Job>,
    interval: dsm_plugin_kit::Interval,
    (start_ms, end_ms): (i64, i64),
    concurrency: usize,
    out: &mut dyn Out,
) -> Result<FetchReport, ProviderError> {
    let windows = plan(job.market, interval, start_ms, end_ms);
    let mut report = FetchReport::default();
    // Twice the HTTP concurrency: finished windows wait their turn while others run.
    let lookahead = 2 * concurrency.max(1);
    let deliver = |page: Page| {
        report.requests += page.requests;
        report.klines += page.klines.len() as u64;
        out.batch(KlineBatch {
            klines: page.klines.into(),
            source: SourceKind::LIVE,
            covered_start_ms: page.window.start_ms,
            covered_end_ms: page.window.end_ms,
        })?;
        out.progress(page.window.end_ms - start_ms, end_ms - start_ms);
        Ok(())
    };
    for_each_ordered(
        windows,
        lookahead,
        |w| fetch_window(job.clone(), w),
        deliver,
    )
    .await?;
    Ok(report)
}
