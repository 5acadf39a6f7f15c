//! `Manager`: one dsm_core `Dsm` for Python. Fetches run on a Rust thread with the GIL
//! released; Ctrl-C cancels them and the manager swaps in a fresh `Dsm` (a cancelled one
//! stays cancelled), so it can fetch again.

use std::sync::mpsc::Receiver;
use std::sync::{Mutex, Once};

use dsm_core::{DataKind, Dsm, DsmConfig, DsmError, FetchSummary};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::to_py;
use crate::table::{self, Batch, Gather, Names, Table};
use crate::{logs, settings, wait};

/// A time from Python: integer milliseconds UTC or a string as the CLI takes it.
#[derive(FromPyObject)]
enum Time {
    Ms(i64),
    Text(String),
}

fn millis(py: Python<'_>, t: &Time) -> PyResult<i64> {
    use dsm_core::IntoMillis;
    match t {
        Time::Ms(ms) => Ok(*ms),
        Time::Text(s) => s.as_str().into_millis().map_err(|e| to_py(py, e)),
    }
}

#[pyclass(frozen, module = "dsm._native")]
pub struct Manager {
    /// What the manager was created from, to make a fresh `Dsm` after a cancel.
    config: DsmConfig,
    dsm: Mutex<Dsm>,
}

#[pymethods]
impl Manager {
    /// A manager for `provider` / `market`: reads plugin manifests, loads no plugin.
    #[new]
    fn new(
        py: Python<'_>,
        provider: &str,
        market: &str,
        preset: &str,
        settings: &Bound<'_, PyDict>,
    ) -> PyResult<Manager> {
        let config = settings::build(py, provider, market, preset, settings)?;
        logs::want(config.log_level);
        let dsm = Dsm::create_with_config(config.clone()).map_err(|e| to_py(py, e))?;
        Ok(Manager {
            config,
            dsm: Mutex::new(dsm),
        })
    }

    #[getter]
    fn provider(&self) -> String {
        self.current().provider().to_string()
    }

    #[getter]
    fn market(&self) -> String {
        self.current().market().id.clone()
    }

    /// The market's intervals, from the manifest.
    #[getter]
    fn intervals(&self) -> Vec<String> {
        self.current().market().intervals.clone()
    }

    /// Whether this manager has made its provider (opened its plugin).
    #[getter]
    fn is_loaded(&self) -> bool {
        self.current().is_loaded()
    }

    /// The settings in force, as a dict (for `DSMManager.settings`).
    fn settings<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dsm = self.current();
        let c = dsm.config();
        let d = PyDict::new(py);
        d.set_item("request_timeout_ms", c.request_timeout.as_millis() as u64)?;
        d.set_item("connect_timeout_ms", c.connect_timeout.as_millis() as u64)?;
        d.set_item("max_retry_after_ms", c.max_retry_after.as_millis() as u64)?;
        d.set_item("retries", c.retries)?;
        d.set_item("pool_size", c.pool_size)?;
        d.set_item("concurrency", c.concurrency)?;
        d.set_item("log_level", c.log_level.0)?;
        d.set_item("log_http", c.log_http)?;
        let text = |p: &std::path::Path| p.to_string_lossy().into_owned();
        d.set_item("cache_dir", c.cache_dir.as_deref().map(text))?;
        d.set_item("cache_enabled", c.cache_enabled)?;
        d.set_item("source", format!("{:?}", c.source).to_lowercase())?;
        d.set_item("endpoints", c.endpoints.clone())?;
        let dirs: Vec<String> = c.plugin_dirs.iter().map(|p| text(p)).collect();
        d.set_item("plugin_dirs", dirs)?;
        d.set_item("plugin_path", text(dsm.plugin_path()))?;
        Ok(d)
    }

    /// Many series of this market (`dsm sync`): one dict per series, and the export's report
    /// when `dataset` is given (see `sync.rs`).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (symbols, intervals, kinds, start, end, workers, shard=None, lock=None, dataset=None))]
    fn sync(
        &self,
        py: Python<'_>,
        symbols: Vec<String>,
        intervals: Vec<String>,
        kinds: Vec<String>,
        start: Time,
        end: Time,
        workers: usize,
        shard: Option<String>,
        lock: Option<std::path::PathBuf>,
        dataset: Option<std::path::PathBuf>,
    ) -> PyResult<crate::sync::Synced> {
        bound_large_periods(
            kinds.iter().map(String::as_str),
            intervals.iter().map(String::as_str),
        );
        let ask = crate::sync::Ask {
            symbols,
            intervals,
            kinds,
            start: millis(py, &start)?,
            end: millis(py, &end)?,
            workers,
            shard,
            lock,
            dataset,
        };
        crate::sync::run(py, &self.config, ask)
    }

    /// Fetch `[start, end)` whole; times are ms UTC or strings.
    fn fetch(
        &self,
        py: Python<'_>,
        symbol: String,
        interval: String,
        start: Time,
        end: Time,
    ) -> PyResult<Table> {
        let (start, end) = (millis(py, &start)?, millis(py, &end)?);
        let dsm = self.current();
        // Bad input fails here, before a thread starts.
        let req = dsm
            .request(&symbol, &interval, start, end)
            .map_err(|e| to_py(py, e))?;
        let names = names(&dsm, &req);
        bound_large_periods([""], [interval.as_str()]);
        let worker = dsm.clone();
        // The columns are built on the worker, period by period as the fetch serves them, so
        // the GIL is held only to hand over.
        let result = wait::run(
            py,
            move || -> Result<Table, DsmError> {
                let mut gathered = Gather::for_request(&req);
                let summary = worker.fetch_kline_records(
                    &req,
                    &mut |p| {
                        gathered
                            .add_batch(&p.batch)
                            .map_err(|message| DsmError::InvalidData {
                                provider: "dsm".into(),
                                message,
                            })
                    },
                    &mut |_, _| {},
                )?;
                Ok(Table::new(names, &req, gathered, summary))
            },
            || self.cancel_and_renew(&dsm),
        )?;
        result.map_err(|e| to_py(py, e))
    }

    /// Any data kind (`funding`, `mark`, `trades`, ...) over `[start, end)` whole, as a
    /// table of the kind's columns; `interval` is "" for kinds without one.
    fn fetch_kind(
        &self,
        py: Python<'_>,
        kind: String,
        symbol: String,
        interval: String,
        start: Time,
        end: Time,
    ) -> PyResult<Table> {
        let (start, end) = (millis(py, &start)?, millis(py, &end)?);
        let dsm = self.current();
        let parsed = DataKind::parse(&kind).ok_or_else(|| {
            to_py(
                py,
                DsmError::InvalidInput(format!(
                    "unknown kind {kind:?}; use one of: {}",
                    DataKind::names().join(", ")
                )),
            )
        })?;
        let req = dsm
            .kind_request(parsed, &symbol, &interval, start, end)
            .map_err(|e| to_py(py, e))?;
        let names = Names {
            provider: dsm.provider().to_string(),
            market: dsm.market().id.clone(),
            symbol: req.series.symbol.clone(),
            interval: req.interval_name.clone(),
        };
        bound_large_periods([kind.as_str()], [interval.as_str()]);
        let worker = dsm.clone();
        let result = wait::run(
            py,
            move || -> Result<Table, DsmError> {
                let mut batches = Vec::new();
                let summary = worker.fetch_records(
                    &req,
                    &mut |p| {
                        batches.push(p.batch);
                        Ok(())
                    },
                    &mut |_, _| {},
                )?;
                Ok(Table::of_records(names, &req, batches, summary))
            },
            || self.cancel_and_renew(&dsm),
        )?;
        result.map_err(|e| to_py(py, e))
    }

    /// The market's symbols (`dsm_core::symbols`): a dict of columns (lists, `None` where
    /// unknown; times in ms UTC) and the listing's warnings.
    #[pyo3(signature = (kind, interval, include_archive, refresh))]
    fn symbols<'py>(
        &self,
        py: Python<'py>,
        kind: Option<String>,
        interval: Option<String>,
        include_archive: bool,
        refresh: bool,
    ) -> PyResult<(Bound<'py, PyDict>, Vec<String>)> {
        let kind = match kind {
            None => None,
            Some(k) => Some(DataKind::parse(&k).ok_or_else(|| {
                to_py(
                    py,
                    DsmError::InvalidInput(format!(
                        "unknown kind {k:?}; use one of: {}",
                        DataKind::names().join(", ")
                    )),
                )
            })?),
        };
        let query = dsm_core::SymbolQuery {
            kind,
            interval,
            include_archive,
            refresh,
        };
        let dsm = self.current();
        let worker = dsm.clone();
        let listing = wait::run(
            py,
            move || worker.symbols(&query),
            || self.cancel_and_renew(&dsm),
        )?
        .map_err(|e| to_py(py, e))?;
        let rows = &listing.rows;
        let d = PyDict::new(py);
        let text = |f: fn(&dsm_core::SymbolRow) -> &Option<String>| -> Vec<Option<String>> {
            rows.iter().map(|r| f(r).clone()).collect()
        };
        let time = |f: fn(&dsm_core::SymbolRow) -> Option<i64>| -> Vec<Option<i64>> {
            rows.iter().map(f).collect()
        };
        d.set_item(
            "symbol",
            rows.iter().map(|r| r.symbol.clone()).collect::<Vec<_>>(),
        )?;
        d.set_item("status", text(|r| &r.status))?;
        d.set_item("base", text(|r| &r.base))?;
        d.set_item("quote", text(|r| &r.quote))?;
        d.set_item("contract_type", text(|r| &r.contract_type))?;
        d.set_item("listed", time(|r| r.listed_ms))?;
        d.set_item("delivery", time(|r| r.delivery_ms))?;
        d.set_item(
            "on_exchange",
            rows.iter().map(|r| r.on_exchange).collect::<Vec<_>>(),
        )?;
        d.set_item(
            "in_archive",
            rows.iter().map(|r| r.in_archive).collect::<Vec<_>>(),
        )?;
        d.set_item("first_day", time(|r| r.first_day_ms))?;
        d.set_item("last_day", time(|r| r.last_day_ms))?;
        Ok((d, listing.warnings))
    }

    /// The same fetch as an iterator of period batches (bounded memory).
    fn stream(
        slf: &Bound<'_, Self>,
        py: Python<'_>,
        symbol: String,
        interval: String,
        start: Time,
        end: Time,
    ) -> PyResult<Stream> {
        let (start, end) = (millis(py, &start)?, millis(py, &end)?);
        let dsm = slf.get().current();
        let req = dsm
            .request(&symbol, &interval, start, end)
            .map_err(|e| to_py(py, e))?;
        bound_large_periods([""], [interval.as_str()]);
        let stream = dsm
            .fetch_stream(&symbol, &interval, start, end)
            .map_err(|e| to_py(py, e))?;
        // FetchStream blocks in `next`; a forwarding thread lets the Python side wait with
        // a timeout (for Ctrl-C), and builds each batch's columns without the GIL.
        // Dropping the receiver ends both threads.
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let names = names(&dsm, &req);
        std::thread::Builder::new()
            .name("dsm-python-stream".into())
            .spawn(move || {
                let mut stream = stream;
                let columns = |p| Batch::new(p, &names);
                for item in stream.by_ref().map(|r| r.map(columns)) {
                    let failed = item.is_err();
                    if tx.send(StreamItem::Batch(item)).is_err() || failed {
                        return;
                    }
                }
                let _ = tx.send(StreamItem::Done(
                    stream.summary().cloned().unwrap_or_default(),
                ));
            })
            .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
        Ok(Stream {
            rx: Mutex::new(Some(rx)),
            summary: Mutex::new(None),
            provider: dsm.provider().to_string(),
            market: dsm.market().id.clone(),
            symbol: req.symbol,
            interval: req.interval_name,
            dsm,
            manager: slf.clone().unbind(),
        })
    }

    /// Stop every fetch of this manager in flight (they raise CancelledError); the manager
    /// itself stays usable.
    fn cancel(&self) -> PyResult<()> {
        let dsm = self.current();
        self.cancel_and_renew(&dsm);
        Ok(())
    }
}

impl Manager {
    fn current(&self) -> Dsm {
        self.dsm.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Cancel `dsm`'s fetches and, if it is still this manager's, replace it with a fresh
    /// one (the plugin stays loaded, so that is cheap).
    fn cancel_and_renew(&self, dsm: &Dsm) {
        dsm.cancel();
        if let Ok(fresh) = Dsm::create_with_config(self.config.clone()) {
            let mut slot = self.dsm.lock().unwrap_or_else(|p| p.into_inner());
            if std::ptr::eq(slot.config(), dsm.config()) {
                *slot = fresh;
            }
        }
    }
}

/// Before a fetch or sync of series that may move periods of millions of rows (trades, days
/// of 1s: `dsm_core::memory::moves_large_periods`, the CLI's rule), fix glibc's mmap
/// threshold as the CLI does, so that a day's large buffers go back to the system instead
/// of growing the heap with each day. Process-wide and for good (glibc cannot undo it), so
/// once per process, on the first such fetch; a process fetching only other candles keeps
/// glibc's own threshold.
fn bound_large_periods<'a>(
    kinds: impl IntoIterator<Item = &'a str>,
    intervals: impl IntoIterator<Item = &'a str>,
) {
    static FIXED: Once = Once::new();
    if !FIXED.is_completed() && dsm_core::memory::moves_large_periods(kinds, intervals) {
        FIXED.call_once(dsm_core::memory::return_large_blocks);
    }
}

/// The ids a result of `dsm` for `req` carries.
fn names(dsm: &Dsm, req: &dsm_core::request::KlineRequest) -> Names {
    Names {
        provider: dsm.provider().to_string(),
        market: dsm.market().id.clone(),
        symbol: req.symbol.clone(),
        interval: req.interval_name.clone(),
    }
}

enum StreamItem {
    Batch(Result<Batch, DsmError>),
    Done(FetchSummary),
}

/// Iterator of `Batch`es from `Manager.stream`; `summary()` once it is exhausted.
#[pyclass(module = "dsm._native")]
pub struct Stream {
    rx: Mutex<Option<Receiver<StreamItem>>>,
    summary: Mutex<Option<FetchSummary>>,
    #[pyo3(get)]
    provider: String,
    #[pyo3(get)]
    market: String,
    #[pyo3(get)]
    symbol: String,
    #[pyo3(get)]
    interval: String,
    /// The `Dsm` this stream's fetch runs on, and its manager (to cancel on Ctrl-C).
    dsm: Dsm,
    manager: Py<Manager>,
}

#[pymethods]
impl Stream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Batch>> {
        // The receiver is taken out while waiting (the GIL is released then, and a lock held
        // across that could deadlock with another thread): a second reader meanwhile errs.
        let taken = self.rx.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(rx) = taken else {
            if self
                .summary
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some()
            {
                return Ok(None);
            }
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "this stream is closed or being read by another thread",
            ));
        };
        let (item, rx) = wait::recv(py, rx, || self.manager.get().cancel_and_renew(&self.dsm));
        match item? {
            Some(StreamItem::Batch(Ok(b))) => {
                *self.rx.lock().unwrap_or_else(|p| p.into_inner()) = Some(rx);
                Ok(Some(b))
            }
            Some(StreamItem::Batch(Err(e))) => Err(to_py(py, e)),
            Some(StreamItem::Done(s)) => {
                *self.summary.lock().unwrap_or_else(|p| p.into_inner()) = Some(s);
                Ok(None)
            }
            None => Err(pyo3::exceptions::PyRuntimeError::new_err(
                "the stream's fetch thread ended without a result",
            )),
        }
    }

    /// (gaps, sources, requests, cached_periods, notes) once the stream has ended, else None.
    #[allow(clippy::type_complexity)]
    fn summary(
        &self,
    ) -> Option<(
        Vec<(i64, i64, String)>,
        Vec<(i64, &'static str)>,
        u64,
        u32,
        Vec<String>,
    )> {
        let s = self.summary.lock().unwrap_or_else(|p| p.into_inner());
        s.as_ref().map(|s| {
            (
                table::gaps(s),
                table::sources(s),
                s.requests,
                s.cached_periods,
                s.notes.clone(),
            )
        })
    }

    /// Stop the stream's fetch (its thread ends at its next batch) and drop what is buffered.
    fn close(&self) {
        *self.rx.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
