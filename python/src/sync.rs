//! `Manager.sync`: many series of the manager's market through `dsm_core::sync`, on a Rust
//! thread with the GIL released (Ctrl-C cancels every series); one dict per series.

use std::path::PathBuf;
use std::sync::Arc;

use dsm_core::sync::{split_list, Lockfile, SeriesResult, Shard, SyncPlan, SyncSpec};
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
}

/// Run the sync `ask` describes with `config` (its provider and market).
pub fn run(py: Python<'_>, config: &DsmConfig, ask: Ask) -> PyResult<Vec<Py<PyDict>>> {
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
    let (worker, workers, lock) = (plan.clone(), ask.workers, ask.lock);
    let done = wait::run(
        py,
        move || -> Result<Vec<SeriesResult>, DsmError> {
            let results = worker.run(workers, &|_| {});
            if let Some(path) = lock {
                let previous = std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|t| Lockfile::parse(&t, &path.display().to_string()).ok());
                let lock = Lockfile::build(&worker, &results, previous.as_ref())?;
                write(&path, &lock.to_toml())?;
            }
            Ok(results)
        },
        || plan.cancel(),
    )?;
    let results = done.map_err(|e| to_py(py, e))?;
    results.iter().map(|r| row(py, r)).collect()
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
