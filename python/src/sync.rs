//! `Manager.sync`: many series of the manager's market through `dsm_core::sync`, on a Rust
//! thread with the GIL released (Ctrl-C cancels every series); one dict per series, and
//! with a dataset, what exporting the synced series into it did.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dsm_core::dataset::ExportReport;
use dsm_core::sync::{
    export_synced, split_list, Lockfile, SeriesResult, Shard, SyncPlan, SyncSpec,
};
use dsm_core::{DsmConfig, DsmError, Source};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::to_py;
use crate::wait;

/// What Python asks for.
pub struct Ask {
    pub symbols: Vec<String>,
    pub intervals: Vec<String>,
    pub kinds: Vec<String>,
    pub start: i64,
    pub end: i64,
    pub workers: usize,
    pub shard: Option<String>,
    pub lock: Option<PathBuf>,
    /// Export the synced series into this dataset (a directory or s3://) after the sync.
    pub dataset: Option<PathBuf>,
}

/// The rows of a sync, one per series, and the export's report when a dataset was given.
pub type Synced = (Vec<Py<PyDict>>, Option<Py<PyDict>>);

/// Run the sync `ask` describes with `config` (its provider and market).
pub fn run(py: Python<'_>, config: &DsmConfig, ask: Ask) -> PyResult<Synced> {
    let spec = SyncSpec {
        provider: config.provider.clone(),
        markets: vec![config.market.clone()],
        symbols: split_list(&ask.symbols),
        intervals: split_list(&ask.intervals),
        kinds: split_list(&ask.kinds),
        start: ask.start.to_string(),
        end: ask.end.to_string(),
    };
    let shard = ask
        .shard
        .as_deref()
        .map(Shard::parse)
        .transpose()
        .map_err(|e| to_py(py, e))?;
    let plan = SyncPlan::new(&spec, shard, &|_| Ok(config.clone())).map_err(|e| to_py(py, e))?;
    let plan = Arc::new(plan);
    let (worker, workers, lock, dataset) = (plan.clone(), ask.workers, ask.lock, ask.dataset);
    // As `dsm sync --dataset`: nothing is exported after an interrupted sync.
    let interrupted = Arc::new(AtomicBool::new(false));
    let seen = interrupted.clone();
    let done = wait::run(
        py,
        move || -> Result<(Vec<SeriesResult>, Option<ExportReport>), DsmError> {
            let results = worker.run(workers, &|_| {});
            if let Some(path) = lock {
                let previous = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| Lockfile::parse(&t, &path.display().to_string()).ok());
                let lock = Lockfile::build(&worker, &results, previous.as_ref())?;
                write(&path, &lock.to_toml())?;
            }
            let export = match dataset {
                Some(dir) if !seen.load(Ordering::SeqCst) => {
                    Some(export_synced(&worker, &results, &dir)?)
                }
                _ => None,
            };
            Ok((results, export))
        },
        || {
            interrupted.store(true, Ordering::SeqCst);
            plan.cancel()
        },
    )?;
    let (results, export) = done.map_err(|e| to_py(py, e))?;
    let rows = results
        .iter()
        .map(|r| row(py, r))
        .collect::<PyResult<_>>()?;
    let export = export.map(|e| report(py, &e)).transpose()?;
    Ok((rows, export))
}

fn report(py: Python<'_>, e: &ExportReport) -> PyResult<Py<PyDict>> {
    let d = PyDict::new(py);
    d.set_item("series", e.series)?;
    d.set_item("periods", e.periods)?;
    d.set_item("written", e.written)?;
    d.set_item("unchanged", e.unchanged)?;
    d.set_item("bytes_written", e.bytes_written)?;
    d.set_item("rows_written", e.rows_written)?;
    d.set_item("skipped", e.skipped.clone())?;
    d.set_item("manifest_written", e.manifest_written)?;
    Ok(d.unbind())
}

/// Whole or not at all: a temporary file beside it, renamed over it.
fn write(path: &std::path::Path, text: &str) -> Result<(), DsmError> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            DsmError::io(format!("cannot write the lockfile {}", path.display()), e)
        })
}

fn row(py: Python<'_>, r: &SeriesResult) -> PyResult<Py<PyDict>> {
    let d = PyDict::new(py);
    d.set_item("series", r.id.to_string())?;
    d.set_item("kind", r.id.kind.name())?;
    d.set_item("symbol", &r.id.symbol)?;
    d.set_item("interval", &r.id.interval)?;
    d.set_item("rows", r.rows)?;
    d.set_item("cache", r.periods_from(Source::Cache))?;
    d.set_item("archive", r.periods_from(Source::Archive))?;
    d.set_item("rest", r.periods_from(Source::Rest))?;
    d.set_item("gaps", r.gaps.len())?;
    d.set_item("requests", r.requests)?;
    d.set_item("error", r.error.clone())?;
    Ok(d.unbind())
}
