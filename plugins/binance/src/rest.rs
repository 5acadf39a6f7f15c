//! A REST fetch: plan windows, fetch them concurrently, deliver them in ascending order.

use std::sync::Arc;

use dsm_plugin_kit::deliver::{fetch_in_order, Out};
use dsm_sdk::{FetchReport, ProviderError};

use crate::page::{fetch_window, Job};
use crate::plan::plan;

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
    fetch_in_order(windows, (start_ms, end_ms), concurrency, out, |w| {
        fetch_window(job.clone(), w)
    })
    .await
}
