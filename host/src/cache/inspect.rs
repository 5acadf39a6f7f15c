//! `dsm cache ls | verify | clear`: walking the cache tree. Only real directories whose names
//! form a valid series key are entered (symlinks are never followed), so nothing outside the
//! root is read or removed.

use std::fs;
use std::path::{Path, PathBuf};

use super::files::{self, TempState};
use super::layout::{Period, SeriesKey, TEMP_PREFIX};
use super::store::{self, Expect};
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
        path: PathBuf,
        bytes: u64,
    },
    Temp {
        path: PathBuf,
        bytes: u64,
    },
    Other {
        path: PathBuf,
        /// What it is, for `verify`.
        what: String,
    },
}

impl Cache {
    /// A summary per series matching `filter`, sorted by key; series without files are left
    /// out. Row counts come from the file footers, without decoding the data.
    pub fn list(&self, filter: &Filter) -> Vec<SeriesSummary> {
        let mut out = Vec::new();
        for (key, dir, period) in self.series(filter) {
            let periods: Vec<_> = entries(&dir, period)
                .into_iter()
                .filter_map(|e| match e {
                    Entry::Period { start, path, bytes } => Some((start, path, bytes)),
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
                    .map(|p| rows_of(&key, period, p.0, &p.1))
                    .sum(),
                bytes: periods.iter().map(|p| p.2).sum(),
                key,
            });
        }
        out
    }

    /// Read and check every file of the matching series; report stray and temporary files.
    pub fn verify(&self, filter: &Filter) -> VerifyReport {
        self.verify_and(filter, false)
    }

    /// [`Cache::verify`], removing stale temporary files when `fix` is set (never one a
    /// live process is writing: see `files.rs`).
    pub fn verify_and(&self, filter: &Filter, fix: bool) -> VerifyReport {
        let mut report = VerifyReport::default();
        for (key, dir, _) in self.series(filter) {
            let Ok(period) = key.period() else {
                continue;
            };
            for entry in entries(&dir, period) {
                let (path, problem) = match entry {
                    Entry::Period { start, path, .. } => {
                        report.files_checked += 1;
                        match read_rows(&key, period, start, &path) {
                            Ok(Some(_)) => continue,
                            Ok(None) => (path, "vanished while being checked".into()),
                            Err(CacheError::Outdated { path, message }) => {
                                report.outdated.push((path, message));
                                continue;
                            }
                            Err(e) => (path, problem_of(e)),
                        }
                    }
                    // Never read as data: harmless, but worth cleaning up.
                    Entry::Temp { path, bytes } => {
                        let state = files::remove_if_stale(&path, fix);
                        let removed = fix && state == TempState::Stale;
                        report.leftovers.push(Leftover {
                            path,
                            bytes,
                            state,
                            removed,
                        });
                        continue;
                    }
                    Entry::Other { path, what } => (path, what),
                };
                report.bad.push((path, problem));
            }
        }
        report
    }

    /// Remove the period and temporary files of the matching series, then the directories
    /// left empty (never the root, never a file dsm did not write).
    pub fn clear(&self, filter: &Filter) -> Result<ClearReport, CacheError> {
        let mut report = ClearReport::default();
        for (_, dir, period) in self.series(filter) {
            for entry in entries(&dir, period) {
                let (path, bytes) = match entry {
                    Entry::Period { path, bytes, .. } => (path, bytes),
                    Entry::Temp { path, bytes } => {
                        // Removed inside the check, under the writer's lock.
                        match files::remove_if_stale(&path, true) {
                            TempState::Stale => {
                                report.files_removed += 1;
                                report.bytes += bytes;
                            }
                            TempState::InUse => report.in_use.push(path),
                        }
                        continue;
                    }
                    Entry::Other { .. } => continue,
                };
                fs::remove_file(&path).map_err(|source| CacheError::Io { path, source })?;
                report.files_removed += 1;
                report.bytes += bytes;
            }
            report.dirs_removed += self.remove_empty_dirs(&dir);
        }
        Ok(report)
    }

    /// Remove the stale temporary files of one series (its writers are gone).
    pub(crate) fn remove_stale_temps_of(&self, key: &SeriesKey) {
        let Ok(period) = key.period() else {
            return;
        };
        for entry in entries(&key.dir_under(&self.root), period) {
            if let Entry::Temp { path, .. } = entry {
                if files::remove_if_stale(&path, true) == TempState::Stale {
                    tracing::info!(
                        "cache: removed {} (left by a killed process)",
                        path.display()
                    );
                }
            }
        }
    }

    /// Remove `dir` and its ancestors while they are empty, stopping below the root.
    fn remove_empty_dirs(&self, dir: &Path) -> usize {
        let mut removed = 0;
        let mut cur = Some(dir);
        while let Some(d) = cur.filter(|d| d.starts_with(&self.root) && *d != self.root) {
            // Fails (and stops) when the directory is not empty.
            if fs::remove_dir(d).is_err() {
                break;
            }
            removed += 1;
            cur = d.parent();
        }
        removed
    }

    /// The series directories matching `filter`, with valid names only, sorted.
    fn series(&self, filter: &Filter) -> Vec<(SeriesKey, PathBuf, Period)> {
        let mut out = Vec::new();
        for (provider, p_dir) in subdirs(&self.root) {
            for (market, m_dir) in subdirs(&p_dir) {
                for kind in DataKind::ALL {
                    for (symbol, s_dir) in subdirs(&m_dir.join(kind.name())) {
                        let key = |interval: String| SeriesKey {
                            provider: provider.clone(),
                            market: market.clone(),
                            kind,
                            symbol: symbol.clone(),
                            interval,
                        };
                        let dirs = match kind.has_interval() {
                            true => subdirs(&s_dir),
                            false => vec![(String::new(), s_dir.clone())],
                        };
                        for (interval, dir) in dirs {
                            let key = key(interval);
                            if let Ok(period) = key.period() {
                                if filter.matches(&key) {
                                    out.push((key, dir, period));
                                }
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

fn problem_of(e: CacheError) -> String {
    match e {
        CacheError::Corrupt { message, .. } | CacheError::Outdated { message, .. } => message,
        CacheError::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// Rows of one file: from the footer, else by reading it (0 if it is unreadable).
fn rows_of(key: &SeriesKey, period: Period, start: i64, path: &Path) -> u64 {
    if let Some(n) = store::footer_rows(path) {
        return n;
    }
    match read_rows(key, period, start, path) {
        Ok(Some(n)) => n as u64,
        _ => 0,
    }
}

/// Read and check one file of any kind: its row count, `Ok(None)` when it does not exist.
fn read_rows(
    key: &SeriesKey,
    period: Period,
    start: i64,
    path: &Path,
) -> Result<Option<usize>, CacheError> {
    fn rows<K: Kind>(
        kind: &K,
        key: &SeriesKey,
        period: Period,
        start: i64,
        path: &Path,
    ) -> Result<Option<usize>, CacheError> {
        let expect = Expect {
            key,
            kind,
            period,
            start,
        };
        Ok(store::read(path, &expect)?.map(|p| p.rows.len()))
    }
    match (key.kind.shape(), key.interval()?) {
        (Shape::Candles, Some(iv)) => rows(&Candles::new(key.kind, iv), key, period, start, path),
        (Shape::Funding, None) => rows(&Funding, key, period, start, path),
        (Shape::Trades, None) => rows(&Trades::new(key.kind), key, period, start, path),
        (Shape::Metrics, None) => rows(&Metrics, key, period, start, path),
        _ => Err(CacheError::InvalidKey(format!(
            "series {key} has no kind of its shape"
        ))),
    }
}

/// Real subdirectories (not symlinks) with UTF-8 names, sorted; none if `dir` is unreadable.
fn subdirs(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out: Vec<_> = read_dir(dir)
        .filter(|(_, _, t)| t.is_dir())
        .filter_map(|(name, path, _)| Some((name.into_string().ok()?, path)))
        .collect();
    out.sort();
    out
}

fn read_dir(dir: &Path) -> impl Iterator<Item = (std::ffi::OsString, PathBuf, fs::FileType)> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name(), e.path(), e.file_type().ok()?)))
}

/// The files of a series directory, period files sorted by start.
fn entries(dir: &Path, period: Period) -> Vec<Entry> {
    let mut out: Vec<Entry> = read_dir(dir)
        .filter(|(_, _, t)| !t.is_dir())
        .map(|(name, path, t)| {
            let name = name.to_string_lossy().into_owned();
            let bytes = || fs::symlink_metadata(&path).map(|m| m.len()).unwrap_or(0);
            match period.parse_file_name(&name) {
                Some(start) if t.is_file() => Entry::Period {
                    start,
                    bytes: bytes(),
                    path,
                },
                _ if t.is_file() && name.starts_with(TEMP_PREFIX) => Entry::Temp {
                    bytes: bytes(),
                    path,
                },
                Some(_) => Entry::Other {
                    path,
                    what: format!("{} at a cache file's name, never read", files::kind_of(&t)),
                },
                None => Entry::Other {
                    path,
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
