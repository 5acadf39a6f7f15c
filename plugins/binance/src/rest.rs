//! A REST fetch: plan windows, fetch them concurrently, deliver them in ascending order.

use std::sync::Arc;

use dsm_plugin_kit::deliver::{fetch_in_order, Out};
use dsm_sdk::{FetchReport, ProviderError};

use crate::page::{fetch_window, Job};
use crate::plan::plan_for_budget;

/// Fetch `[start_ms, end_ms)` with up to `concurrency` requests in flight. One batch per
/// window, covering exactly that window, in ascending order. The page size is chosen by
/// which limit binds (`plan_for_budget`), the call's weight told to the gate before its requests
/// go out, so that the calls planned after it see it.
pub async fn fetch(
    job: Arc<Job>,
    interval: dsm_plugin_kit::Interval,
    (start_ms, end_ms): (i64, i64),
    concurrency: usize,
    out: &mut dyn Out,
) -> Result<FetchReport, ProviderError> {
    let range = (start_ms, end_ms);
    let gate = (job.gate.demand(), job.gate.budget());
    let calls = plan_for_budget(job.market, interval, range, gate);
    job.gate.plan(calls.weight);
    let page = calls.page;
    fetch_in_order(calls.windows, range, concurrency, out, |w| {
        fetch_window(job.clone(), w, page)
    })
    .await
}
