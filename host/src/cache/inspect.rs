//! `dsm cache ls | verify | clear`: walking the storage's listing (paged on object storage).
//! Only keys whose directories form a valid series key are looked at (on disk, symlinks are
//! never followed), so nothing outside the root is read or removed.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::expect::Expect;
use super::layout::{Period, SeriesKey};
use super::storage::{Entry as Stored, TempState, What};
use super::store::{self, At};
use super::{Cache, CacheError};
use crate::kinds::{Candles, Funding, Kind, Metrics, Trades};
use dsm_sdk::{kind::Shape, DataKind};

/// Which series to act on; `None` matches all. Provider and market compare
/// case-insensitively, the symbol uppercased, the interval exactly (`1m` is not `1M`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this provider.
    pub provider: Option<String>,
    /// Only this market.
    pub market: Option<String>,
    /// Only this symbol.
    pub symbol: Option<String>,
    /// Only this interval.
    pub interval: Option<String>,
    /// Only this data kind.
    pub kind: Option<DataKind>,
}

impl Filter {
    /// Whether `key` passes the filter.
    pub fn matches(&self, key: &SeriesKey) -> bool {
        let ci = |want: &Option<String>, got: &str| {
            want.as_deref()
                .is_none_or(|w| w.trim().eq_ignore_ascii_case(got))
        };
        ci(&self.provider, &key.provider)
            && ci(&self.market, &key.market)
            && self.kind.is_none_or(|k| k == key.kind)
            && ci(&self.symbol, &key.symbol)
            && self
                .interval
                .as_deref()
                .is_none_or(|w| w.trim() == key.interval)
    }
}

/// One series in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesSummary {
    /// The series.
    pub key: SeriesKey,
    /// Period files (days or months).
    pub periods: usize,
    /// Candles in all its files.
    pub rows: u64,
    /// Bytes of all its files.
    pub bytes: u64,
    /// The first period, `YYYY-MM-DD` or `YYYY-MM`.
    pub first: String,
    /// The last period.
    pub last: String,
}

/// What `Cache::verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Period files read and checked.
    pub files_checked: usize,
    /// Each bad file and what is wrong with it.
    pub bad: Vec<(PathBuf, String)>,
    /// Files of an older cache format: not used, fetched again and replaced (not damage).
    pub outdated: Vec<(PathBuf, String)>,
    /// Temporary files: writes in progress, or leftovers of killed processes (never read
    /// as data).
    pub leftovers: Vec<Leftover>,
}

/// A temporary file found in a series directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// The temporary file.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
    /// `Stale` ones were removed when the verify was asked to fix (`removed`).
    pub state: TempState,
    /// Whether this verify removed it.
    pub removed: bool,
}

impl VerifyReport {
    /// No bad file (leftover temporary files are harmless).
    pub fn is_ok(&self) -> bool {
        self.bad.is_empty()
    }
}

/// What `Cache::clear` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClearReport {
    /// Files removed.
    pub files_removed: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Directories left empty and removed.
    pub dirs_removed: usize,
    /// Temporary files of writes in progress in other processes, left alone.
    pub in_use: Vec<PathBuf>,
}

/// A file in a series directory.
enum Entry {
    Period {
        start: i64,
        key: String,
        bytes: u64,
    },
    Temp {
        key: String,
        bytes: u64,
    },
    Other {
        key: String,
        /// What it is, for `verify`.
        what: String,
    },
}

/// The files of one series, period files sorted by start.
struct Series {
    key: SeriesKey,
    period: Period,
    entries: Vec<Entry>,
}

impl Cache {
    /// A summary per series matching `filter`, sorted by key; series without files are left
    /// out. Row counts come from the file footers, without decoding the data. A storage
    /// that cannot be listed is logged and lists nothing ([`Cache::try_list`] says why).
    pub fn list(&self, filter: &Filter) -> Vec<SeriesSummary> {
        self.try_list(filter).unwrap_or_else(|e| {
            tracing::warn!("{e}");
            Vec::new()
        })
    }

    /// [`Cache::list`], failing when the storage cannot be listed.
    pub fn try_list(&self, filter: &Filter) -> Result<Vec<SeriesSummary>, CacheError> {
        let mut out = Vec::new();
        for s in self.series(filter)? {
            let period = s.period;
            let periods: Vec<_> = s
                .entries
                .into_iter()
                .filter_map(|e| match e {
                    Entry::Period { start, key, bytes } => Some((start, key, bytes)),
                    _ => None,
                })
                .collect();
            let (Some(first), Some(last)) = (periods.first(), periods.last()) else {
                continue;
            };
            out.push(SeriesSummary {
                first: period.stem(first.0),
                last: period.stem(last.0),
                periods: periods.len(),
                rows: periods
                    .iter()
                    .map(|p| self.rows_of(&s.key, period, p.0, &p.1))
                    .sum(),
                bytes: periods.iter().map(|p| p.2).sum(),
                key: s.key,
            });
        }
        Ok(out)
    }

    /// Read and check every file of the matching series; report stray and temporary files.
    pub fn verify(&self, filter: &Filter) -> VerifyReport {
        self.verify_and(filter, false)
    }

    /// [`Cache::verify`], removing stale temporary files when `fix` is set (never one a
    /// live process is writing: see `storage/files.rs`). A storage that cannot be listed
    /// is a bad entry naming the root.
    pub fn verify_and(&self, filter: &Filter, fix: bool) -> VerifyReport {
        let mut report = VerifyReport::default();
        let series = match self.series(filter) {
            Ok(s) => s,
            Err(e) => {
                report.bad.push((self.root.clone(), problem_of(e)));
                return report;
            }
        };
        for s in series {
            for entry in s.entries {
                let (key, problem) = match entry {
                    Entry::Period { start, key, .. } => {
                        report.files_checked += 1;
                        match self.read_rows(&s.key, s.period, start, &key) {
                            Ok(Some(_)) => continue,
                            Ok(None) => (key, "vanished while being checked".into()),
                            Err(CacheError::Outdated { path, message }) => {
                                report.outdated.push((path, message));
                                continue;
                            }
                            Err(e) => (key, problem_of(e)),
                        }
                    }
                    // Never read as data: harmless, but worth cleaning up.
                    Entry::Temp { key, bytes } => {
                        let state = self.storage.partial(&key, fix);
                        let removed = fix && state == TempState::Stale;
                        report.leftovers.push(Leftover {
                            path: self.storage.location(&key),
                            bytes,
                            state,
                            removed,
                        });
                        continue;
                    }
                    Entry::Other { key, what } => (key, what),
                };
                report.bad.push((self.storage.location(&key), problem));
            }
        }
        report
    }

    /// Remove the period and temporary files of the matching series, then the directories
    /// left empty (never the root, never a file dsm did not write).
    pub fn clear(&self, filter: &Filter) -> Result<ClearReport, CacheError> {
        let mut report = ClearReport::default();
        for s in self.series(filter)? {
            for entry in s.entries {
                let (key, bytes) = match entry {
                    Entry::Period { key, bytes, .. } => (key, bytes),
                    Entry::Temp { key, bytes } => {
                        // Removed inside the check, under the writer's lock.
                        match self.storage.partial(&key, true) {
                            TempState::Stale => {
                                report.files_removed += 1;
                                report.bytes += bytes;
                            }
                            TempState::InUse => report.in_use.push(self.storage.location(&key)),
                        }
                        continue;
                    }
                    Entry::Other { .. } => continue,
                };
                self.storage.delete(&key).map_err(|source| CacheError::Io {
                    path: self.storage.location(&key),
                    source,
                })?;
                report.files_removed += 1;
                report.bytes += bytes;
            }
            report.dirs_removed += self.storage.prune(&s.key.prefix());
        }
        Ok(report)
    }

    /// Remove the stale temporary files of one series (its writers are gone).
    pub(crate) fn remove_stale_temps_of(&self, key: &SeriesKey) {
        if key.validate().is_ok() {
            self.storage.sweep(&key.prefix());
        }
    }

    /// The series matching `filter`, with valid names only, sorted, each with its files.
    fn series(&self, filter: &Filter) -> Result<Vec<Series>, CacheError> {
        let prefix = filter.prefix();
        let mut by_series: BTreeMap<SeriesKey, Vec<Stored>> = BTreeMap::new();
        for stored in self.storage.list(&prefix) {
            let stored = stored.map_err(|source| CacheError::Io {
                path: self.storage.location(&prefix),
                source,
            })?;
            if let Some((key, _)) = SeriesKey::parse_key(&stored.key) {
                if filter.matches(&key) {
                    by_series.entry(key).or_default().push(stored);
                }
            }
        }
        let mut out = Vec::new();
        for (key, stored) in by_series {
            if let Ok(period) = key.period() {
                out.push(Series {
                    entries: entries(stored, period),
                    key,
                    period,
                });
            }
        }
        Ok(out)
    }

    /// Rows of one file: from the footer, else by reading it (0 if it is unreadable).
    fn rows_of(&self, key: &SeriesKey, period: Period, start: i64, file: &str) -> u64 {
        if let Some(n) = store::footer_rows(&At::new(&*self.storage, file.to_string()), key.kind) {
            return n;
        }
        match self.read_rows(key, period, start, file) {
            Ok(Some(n)) => n as u64,
            _ => 0,
        }
    }

    /// Read and check one file of any kind: its row count, `Ok(None)` when it does not exist.
    fn read_rows(
        &self,
        key: &SeriesKey,
        period: Period,
        start: i64,
        file: &str,
    ) -> Result<Option<usize>, CacheError> {
        let at = At::new(&*self.storage, file.to_string());
        let rows = |kind: &dyn ReadRows| kind.rows(key, period, start, &at);
        match (key.kind.shape(), key.interval()?) {
            (Shape::Candles, Some(iv)) => rows(&Candles::new(key.kind, iv)),
            (Shape::Funding, None) => rows(&Funding),
            (Shape::Trades, None) => rows(&Trades::new(key.kind)),
            (Shape::Metrics, None) => rows(&Metrics),
            _ => Err(CacheError::InvalidKey(format!(
                "series {key} has no kind of its shape"
            ))),
        }
    }
}

/// Reading a file of a kind, for `read_rows`' one match on the shape.
trait ReadRows {
    fn rows(
        &self,
        key: &SeriesKey,
        period: Period,
        start: i64,
        at: &At,
    ) -> Result<Option<usize>, CacheError>;
}

impl<K: Kind> ReadRows for K {
    fn rows(
        &self,
        key: &SeriesKey,
        period: Period,
        start: i64,
        at: &At,
    ) -> Result<Option<usize>, CacheError> {
        let expect = Expect {
            key,
            kind: self,
            period,
            start,
        };
        Ok(store::read(at, &expect)?.map(|p| p.rows.len()))
    }
}

impl Filter {
    /// The longest key prefix the filter fixes (components are stored normalized), so
    /// that a listing of object storage asks for no more than it must.
    fn prefix(&self) -> String {
        let exact = |v: &Option<String>, f: fn(&str) -> String| v.as_deref().map(|s| f(s.trim()));
        let parts = [
            exact(&self.provider, str::to_ascii_lowercase),
            exact(&self.market, str::to_ascii_lowercase),
            self.kind.map(|k| k.name().to_string()),
            exact(&self.symbol, str::to_ascii_uppercase),
            self.kind
                .filter(|k| k.has_interval())
                .and(exact(&self.interval, |s| s.to_string())),
        ];
        let fixed: Vec<String> = parts.into_iter().map_while(|p| p).collect();
        fixed.iter().map(|p| format!("{p}/")).collect()
    }
}

fn problem_of(e: CacheError) -> String {
    match e {
        CacheError::Corrupt { message, .. } | CacheError::Outdated { message, .. } => message,
        CacheError::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// The files of a series, period files first, sorted by start.
fn entries(stored: Vec<Stored>, period: Period) -> Vec<Entry> {
    let mut out: Vec<Entry> = stored
        .into_iter()
        .map(|s| {
            let name = s.key.rsplit('/').next().unwrap_or("").to_string();
            match (period.parse_file_name(&name), s.what) {
                (Some(start), What::Object) => Entry::Period {
                    start,
                    key: s.key,
                    bytes: s.bytes,
                },
                (_, What::Partial) => Entry::Temp {
                    key: s.key,
                    bytes: s.bytes,
                },
                (Some(_), What::Other(what)) => Entry::Other {
                    key: s.key,
                    what: format!("{what} at a cache file's name, never read"),
                },
                (None, _) => Entry::Other {
                    key: s.key,
                    what: "not a cache file of this series".into(),
                },
            }
        })
        .collect();
    out.sort_by_key(|e| match e {
        Entry::Period { start, .. } => (0, *start),
        _ => (1, 0),
    });
    out
}
