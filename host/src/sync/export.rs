//! After a sync, its series into a dataset (`dsm sync --dataset`, Python's
//! `sync(dataset=...)`): exactly the series synced, the periods overlapping the range synced.

use std::path::Path;

use super::{SeriesResult, SyncPlan};
use crate::cache::SeriesKey;
use crate::dataset::{export_to, ExportReport, Selection};
use crate::error::{DsmError, Result};

/// Export the series of `results` (from `plan`'s cache) into `dataset`: a directory or
/// `s3://BUCKET/PREFIX` (one exporter per prefix at a time: nothing locks a bucket).
pub fn export_synced(
    plan: &SyncPlan,
    results: &[SeriesResult],
    dataset: &Path,
) -> Result<ExportReport> {
    let Some(cache) = results
        .first()
        .and_then(|r| plan.manager(&r.id.market))
        .and_then(|dsm| dsm.cache())
    else {
        return Err(DsmError::InvalidInput(
            "a dataset is exported from the cache; this sync had none (or no series)".into(),
        ));
    };
    let keys = results
        .iter()
        .map(|r| {
            let id = &r.id;
            SeriesKey::of(id.kind, &id.provider, &id.market, &id.symbol, &id.interval)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let selection = Selection {
        filter: Default::default(),
        start: results.iter().map(|r| r.range.0).min(),
        end: results.iter().map(|r| r.range.1).max(),
        series: Some(keys),
    };
    export_to(cache, dataset, &selection)
}
