//! A Hive-partitioned Parquet dataset of what the cache holds, for query engines that read
//! it without dsm (DuckDB, Spark, Trino, polars):
//! `kind=K/provider=P/market=M/symbol=S[/interval=I]/date=YYYY-MM-DD/part-0.parquet` (see
//! `layout.rs`) and `_dsm/manifest.json` listing every complete period with checksums.
//!
//! ```no_run
//! use dsm_core::cache::Cache;
//! use dsm_core::dataset::{export_to_dir, Selection};
//! let cache = Cache::new(Cache::default_dir());
//! let report = export_to_dir(&cache, "/data/dsm".as_ref(), &Selection::all())?;
//! println!("{} files written, {} unchanged", report.written, report.unchanged);
//! # Ok::<(), dsm_core::DsmError>(())
//! ```
//!
//! Each file is written whole or not at all ([`DatasetStore::put`]); an export writes only
//! the periods whose cache file changed since the manifest was written (by the checksum
//! the cache file states), then the manifest, last and only if it changed. Nothing is
//! ever deleted from a dataset.

mod layout;
mod manifest;
mod store;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use arrow_array::RecordBatch;
use dsm_sdk::kind::Shape;

use crate::cache::{Cache, CacheError, Filter, SeriesKey, SeriesSummary};
use crate::error::{DsmError, Result};
use crate::kinds::{Candles, Funding, Kind, Metrics, Trades};

pub use layout::{date_of, file_path, partition_columns, schema, FILE_NAME};
pub use manifest::{Manifest, PeriodEntry, SeriesEntry, PATH as MANIFEST_PATH};
pub use store::{check_rel_path, DatasetStore, DirStore, Object, StorageStore};

/// The layout, as the manifest states it.
pub const LAYOUT: &str =
    "kind={kind}/provider={provider}/market={market}/symbol={symbol}[/interval={interval}]/date={YYYY-MM-DD}/part-0.parquet";

/// What to export: the series matching `filter`, the periods overlapping `[start, end)`
/// (ms UTC; `None` is unbounded). Periods are exported whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Which series.
    pub filter: Filter,
    /// Periods ending after this.
    pub start: Option<i64>,
    /// Periods starting before this.
    pub end: Option<i64>,
    /// When set, only these series (of those the filter matches): what a sync fetched.
    pub series: Option<Vec<SeriesKey>>,
}

impl Selection {
    /// Everything in the cache.
    pub fn all() -> Selection {
        Selection::default()
    }

    fn overlaps(&self, start: i64, end: i64) -> bool {
        self.start.is_none_or(|s| end > s) && self.end.is_none_or(|e| start < e)
    }
}

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Series with at least one period selected.
    pub series: usize,
    /// Periods selected.
    pub periods: usize,
    /// Files written (new or changed periods).
    pub written: usize,
    /// Periods whose file was already there with the same cache checksum: not rewritten.
    pub unchanged: usize,
    /// Bytes of the files written.
    pub bytes_written: u64,
    /// Rows of the files written.
    pub rows_written: u64,
    /// Cache files not exported and why (damaged, unreadable): `dsm cache verify` says more.
    pub skipped: Vec<(String, String)>,
    /// Whether the manifest was written (it is not when nothing changed).
    pub manifest_written: bool,
}

/// [`export`] into `location`: `s3://bucket/prefix` (the cache's object storage, set up
/// from the usual `AWS_*` variables; one exporter per prefix at a time, nothing locks it)
/// or a directory ([`export_to_dir`], locked).
pub fn export_to(cache: &Cache, location: &Path, selection: &Selection) -> Result<ExportReport> {
    if !location.to_string_lossy().contains("://") {
        return export_to_dir(cache, location, selection);
    }
    matching(cache, selection)?;
    let storage = crate::cache::storage::open(location)
        .map_err(|e| DsmError::InvalidInput(format!("dataset {}: {e}", location.display())))?;
    export(cache, &StorageStore::new(storage), selection)
}

/// [`export`] into the directory `dir` (created if missing), after removing temporary
/// files that writers killed earlier left there.
pub fn export_to_dir(cache: &Cache, dir: &Path, selection: &Selection) -> Result<ExportReport> {
    matching(cache, selection)?; // before a directory is made for nothing
    let store = DirStore::create(dir)
        .map_err(|e| DsmError::io(format!("dataset directory {}", dir.display()), e))?;
    // Refused before the lock file is made in a directory that is not a dataset.
    read_manifest(&store, &listing(&store)?)?;
    let lock = store
        .lock()
        .map_err(|e| DsmError::io(format!("locking the dataset {}", dir.display()), e))?;
    let Some(_lock) = lock else {
        return Err(DsmError::io(
            format!("dataset {}", dir.display()),
            std::io::Error::new(
                std::io::ErrorKind::WouldBlock,
                "another dsm export is writing it; run this one when it has finished",
            ),
        ));
    };
    let removed = store.remove_stale_temps();
    if removed > 0 {
        tracing::info!("dataset: removed {removed} temporary files left by killed processes");
    }
    export(cache, &store, selection)
}

/// Write the selected periods of `cache` into the dataset `store`: the changed ones, then
/// the manifest. One export at a time per dataset is the caller's to ensure (for a
/// directory, [`export_to_dir`] holds its lock and removes dead writers' temporary files).
pub fn export(
    cache: &Cache,
    store: &dyn DatasetStore,
    selection: &Selection,
) -> Result<ExportReport> {
    let at = |what: &str| format!("dataset {}: {what}", store.describe());
    let objects = listing(store)?;
    let old = read_manifest(store, &objects)?;
    let mut manifest = old.clone().unwrap_or_else(|| Manifest::empty(LAYOUT));
    let series = matching(cache, selection)?;
    let mut report = ExportReport::default();
    let mut written = HashSet::new();
    for s in &series {
        let mut w = Writer {
            cache,
            store,
            objects: &objects,
            manifest: &mut manifest,
            report: &mut report,
            written: &mut written,
        };
        w.series(selection, &s.key)?;
    }
    // An entry whose file is gone or was changed by hand (and not written now) is not vouched
    // for any more.
    manifest
        .retain_periods(|p| written.contains(&p.file) || objects.get(&p.file) == Some(&p.bytes));
    if report.periods == 0 {
        return Err(DsmError::InvalidInput(format!(
            "the cache at {} has {} series matching {}, but no period in the range asked for",
            cache.root().display(),
            series.len(),
            describe(&selection.filter)
        )));
    }
    manifest.settle();
    if old.as_ref() != Some(&manifest) {
        store
            .put(manifest::PATH, &manifest.to_bytes())
            .map_err(|e| DsmError::io(at(&format!("writing {}", manifest::PATH)), e))?;
        report.manifest_written = true;
    }
    Ok(report)
}

/// Every object of the store and its size.
fn listing(store: &dyn DatasetStore) -> Result<HashMap<String, u64>> {
    let objects = store
        .list()
        .map_err(|e| DsmError::io(format!("dataset {}: listing", store.describe()), e))?;
    Ok(objects.into_iter().map(|o| (o.path, o.bytes)).collect())
}

/// The series of the selection; none is an error.
fn matching(cache: &Cache, selection: &Selection) -> Result<Vec<SeriesSummary>> {
    let mut series = cache.list(&selection.filter);
    if let Some(only) = &selection.series {
        series.retain(|s| only.contains(&s.key));
    }
    if series.is_empty() {
        return Err(DsmError::InvalidInput(format!(
            "nothing in the cache at {} matches {}; `dsm cache ls` lists what is cached",
            cache.root().display(),
            describe(&selection.filter)
        )));
    }
    Ok(series)
}

/// The manifest there, or None for a new dataset; a directory with other files in it and
/// no manifest is refused (it is not a dataset, and would be filled with one).
fn read_manifest(
    store: &dyn DatasetStore,
    objects: &HashMap<String, u64>,
) -> Result<Option<Manifest>> {
    let at = format!("dataset {}", store.describe());
    let bytes = store
        .get(manifest::PATH)
        .map_err(|e| DsmError::io(format!("{at}: reading {}", manifest::PATH), e))?;
    match bytes {
        Some(b) => Manifest::parse(&b).map(Some).map_err(|e| {
            DsmError::InvalidInput(format!(
                "{at}: {} cannot be used ({e}); export into a new directory",
                manifest::PATH
            ))
        }),
        None => match objects.keys().find(|p| !p.starts_with("kind=")) {
            Some(other) => Err(DsmError::InvalidInput(format!(
                "{at} holds {other} and no {}: it is not a dsm dataset; export into an empty or \
                 new directory",
                manifest::PATH
            ))),
            None => Ok(None),
        },
    }
}

/// What one export works with.
struct Writer<'a> {
    cache: &'a Cache,
    store: &'a dyn DatasetStore,
    objects: &'a HashMap<String, u64>,
    manifest: &'a mut Manifest,
    report: &'a mut ExportReport,
    /// Files written by this export.
    written: &'a mut HashSet<String>,
}

impl Writer<'_> {
    /// Export the selected periods of one series.
    fn series(&mut self, selection: &Selection, key: &SeriesKey) -> Result<()> {
        let period = key.period()?;
        let mut selected = false;
        for start in cache_periods(self.cache, key) {
            let end = period.next(start);
            if selection.overlaps(start, end) {
                selected = true;
                self.report.periods += 1;
                self.period(key, start, end)?;
            }
        }
        self.report.series += usize::from(selected);
        Ok(())
    }

    /// Export one period unless the dataset has it from the same cache file.
    fn period(&mut self, key: &SeriesKey, start: i64, end: i64) -> Result<()> {
        let (cache, report) = (self.cache, &mut *self.report);
        let file = layout::file_path(key, start);
        let stated = cache.stated_checksum(key, start);
        if let (Some(p), Some(sum)) = (self.manifest.period(key, start), &stated) {
            if p.cache_xxh3 == *sum && self.objects.get(&p.file) == Some(&p.bytes) {
                report.unchanged += 1;
                return Ok(());
            }
        }
        let cache_path = cache.path(key, start)?.display().to_string();
        let (batch, holes) = match read_batch(cache, key, start) {
            Ok(Some(read)) => read,
            Ok(None) => return Ok(()), // removed since it was listed
            Err(e) => {
                report.skipped.push((cache_path, e.to_string()));
                return Ok(());
            }
        };
        // The file read is the one the checksum was taken of (a fetch may replace it).
        let Some(sum) = stated.filter(|s| cache.stated_checksum(key, start).as_ref() == Some(s))
        else {
            let why = "replaced while being exported; export again".to_string();
            report.skipped.push((cache_path, why));
            return Ok(());
        };
        let bytes = layout::to_dataset(&batch, layout::schema(key.kind))
            .and_then(|b| layout::encode_parquet(&b))
            .map_err(|e| DsmError::io(format!("encoding {file}"), std::io::Error::other(e)))?;
        self.store.put(&file, &bytes).map_err(|e| {
            DsmError::io(
                format!("dataset {}: writing {file}", self.store.describe()),
                e,
            )
        })?;
        report.written += 1;
        report.bytes_written += bytes.len() as u64;
        report.rows_written += batch.num_rows() as u64;
        self.written.insert(file.clone());
        let entry = self
            .manifest
            .series_mut(key, layout::period_name(key.period()?));
        entry.periods.retain(|p| p.start_ms != start);
        entry.periods.push(PeriodEntry {
            date: layout::date_of(start),
            start_ms: start,
            end_ms: end,
            rows: batch.num_rows() as u64,
            holes: holes.into_iter().map(|(a, b)| [a, b]).collect(),
            cache_xxh3: sum,
            file,
            bytes: bytes.len() as u64,
            xxh3: format!("{:016x}", twox_hash::XxHash3_64::oneshot(&bytes)),
        });
        Ok(())
    }
}

/// The starts of the periods the cache has for a series, ascending.
fn cache_periods(cache: &Cache, key: &SeriesKey) -> Vec<i64> {
    let one = Filter {
        provider: Some(key.provider.clone()),
        market: Some(key.market.clone()),
        symbol: Some(key.symbol.clone()),
        interval: Some(key.interval.clone()),
        kind: Some(key.kind),
    };
    let (Ok(period), Some(summary)) = (key.period(), cache.list(&one).into_iter().next()) else {
        return Vec::new();
    };
    let (Some(first), Some(last)) = (
        period.parse_stem(&summary.first),
        period.parse_stem(&summary.last),
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut t = first;
    while t <= last {
        if cache.contains(key, t) {
            out.push(t);
        }
        t = period.next(t);
    }
    out
}

/// A cache period of any kind as a record batch in the kind's schema, with its holes;
/// everything checked as any cache read is.
type Read = (RecordBatch, Vec<(i64, i64)>);

fn read_batch(
    cache: &Cache,
    key: &SeriesKey,
    start: i64,
) -> std::result::Result<Option<Read>, CacheError> {
    fn read<K: Kind>(
        cache: &Cache,
        kind: &K,
        key: &SeriesKey,
        start: i64,
    ) -> std::result::Result<Option<Read>, CacheError> {
        Ok(cache
            .read_period_of(kind, key, start)?
            .map(|p| (kind.to_batch(kind.schema(), &p.rows), p.holes)))
    }
    match (key.kind.shape(), key.interval()?) {
        (Shape::Candles, Some(iv)) => read(cache, &Candles::new(key.kind, iv), key, start),
        (Shape::Funding, None) => read(cache, &Funding, key, start),
        (Shape::Trades, None) => read(cache, &Trades::new(key.kind), key, start),
        (Shape::Metrics, None) => read(cache, &Metrics, key, start),
        _ => Err(CacheError::InvalidKey(format!(
            "series {key} has no kind of its shape"
        ))),
    }
}

/// The filter as words, for messages.
fn describe(f: &Filter) -> String {
    let parts: Vec<String> = [
        ("provider", f.provider.clone()),
        ("market", f.market.clone()),
        ("kind", f.kind.map(|k| k.name().to_string())),
        ("symbol", f.symbol.clone()),
        ("interval", f.interval.clone()),
    ]
    .into_iter()
    .filter_map(|(n, v)| Some(format!("{n} {}", v?)))
    .collect();
    match parts.is_empty() {
        true => "anything".into(),
        false => parts.join(", "),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_trades;
