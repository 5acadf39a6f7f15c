//! The verified cache: one Arrow IPC file per series and period,
//! `{root}/{provider}/{market}/klines/{SYMBOL}/{interval}/{PERIOD}.arrow`, where the root is
//! a directory or `s3://bucket/prefix` (`storage/`: where the bytes live; everything here
//! is written once for every backend).
//!
//! Only complete periods are written (the planner decides that), atomically, with a
//! checksum of the whole file, the series and period they belong to, and the candles the
//! exchange did not have. Every read checks all of it and validates every candle as the
//! network's are: a bad file is an error naming it, never data.

mod batches;
mod checksum;
mod expect;
mod format;
mod inspect;
mod layout;
pub mod storage;
mod store;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dsm_sdk::Kline;

pub use batches::{CachedBatches, ReadBuf};
pub use expect::CachedPeriod;
pub use format::FORMAT_VERSION;
pub use inspect::{ClearReport, Filter, Leftover, SeriesSummary, VerifyReport};
pub use layout::{Period, SeriesKey, EXTENSION, KLINES_DIR, TEMP_PREFIX};
pub use storage::TempState;

use crate::error::DsmError;
use crate::kinds::{Candles, Kind};
use expect::Expect;
use storage::Storage;
use store::At;

/// What can go wrong with the cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A key component that cannot name a cache path.
    #[error("cache: {0}")]
    InvalidKey(String),
    /// A period start that is not the start of a period.
    #[error("cache: {0}")]
    InvalidPeriod(String),
    /// Reading or writing a cache file failed.
    #[error("cache file {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file that exists but is not valid cache data; `dsm cache verify` lists these and
    /// `dsm cache clear` removes them.
    #[error("cache file {} is not valid: {message} (remove it with `dsm cache clear`)", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// A file of another cache format (an older dsm): not used, fetched again and replaced.
    #[error("cache file {} is not used: {message}", .path.display())]
    Outdated {
        /// The file.
        path: PathBuf,
        /// Why it is not used.
        message: String,
    },
    /// A cache location that names no usable storage (an unknown scheme, a bad bucket).
    #[error("cache: {message}")]
    InvalidLocation {
        /// What is wrong with it.
        message: String,
    },
    /// Data that must not be cached (empty, or not belonging to the file's period).
    #[error("cache: not writing {}: {message}", .path.display())]
    Refused {
        /// The file that would have been written.
        path: PathBuf,
        /// Why not.
        message: String,
    },
}

impl From<CacheError> for DsmError {
    fn from(e: CacheError) -> DsmError {
        match e {
            CacheError::InvalidKey(m) | CacheError::InvalidPeriod(m) => DsmError::InvalidInput(m),
            CacheError::InvalidLocation { message } => DsmError::InvalidInput(format!(
                "cache location: {message} (--cache-dir, DSM_CACHE_DIR)"
            )),
            CacheError::Io { path, source } => {
                DsmError::io(format!("cache file {}", path.display()), source)
            }
            other => {
                let message = other.to_string();
                DsmError::io(
                    "cache",
                    std::io::Error::new(std::io::ErrorKind::InvalidData, message),
                )
            }
        }
    }
}

/// The cache below one root: a directory, or a prefix in a bucket.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    storage: Arc<dyn Storage>,
}

impl PartialEq for Cache {
    fn eq(&self, other: &Cache) -> bool {
        self.root == other.root
    }
}

impl Eq for Cache {}

/// How many files [`Cache::write_many_of`] writes at once (threads; on object storage,
/// PUTs in flight). A month of days is 31 files: on this project's bench disk (ext4, a
/// virtio disk, ~5 ms an fsync) 16 at a time published a year of days in ~156 ms against
/// ~170-265 ms at 8 and no better at 31 (BENCHMARKS.md, ninth round).
pub const WRITE_THREADS: usize = 16;

impl Cache {
    /// The cache below the directory `root` (nothing is created until a period is stored).
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        let root = root.into();
        Cache {
            storage: Arc::new(storage::FileStorage::new(root.clone())),
            root,
        }
    }

    /// The cache at `location`: `s3://bucket/prefix` (object storage, set up from the
    /// usual `AWS_*` variables; nothing is contacted yet) or a directory.
    pub fn at(location: impl Into<PathBuf>) -> Result<Cache, CacheError> {
        let root = location.into();
        let storage = storage::open(&root).map_err(|e| CacheError::InvalidLocation {
            message: e.to_string(),
        })?;
        Ok(Cache { root, storage })
    }

    /// The cache in `storage`, named `root` in messages.
    pub fn with_storage(root: impl Into<PathBuf>, storage: Arc<dyn Storage>) -> Cache {
        Cache {
            root: root.into(),
            storage,
        }
    }

    /// Where the cache's files are kept.
    pub fn storage(&self) -> &dyn Storage {
        &*self.storage
    }

    /// Fails, saying why, when no period could be stored (before a fetch that would).
    pub fn check_writable(&self) -> std::io::Result<()> {
        self.storage.check_writable()
    }

    /// `$DSM_CACHE_DIR`, else `$XDG_CACHE_HOME/dsm`, else `~/.cache/dsm` (relative paths in
    /// the XDG variable are ignored, as the XDG spec says).
    pub fn default_dir() -> PathBuf {
        let var = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(dir) = var("DSM_CACHE_DIR") {
            return dir;
        }
        if let Some(xdg) = var("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
            return xdg.join("dsm");
        }
        let home = var("HOME").unwrap_or_else(std::env::temp_dir);
        home.join(".cache").join("dsm")
    }

    /// The root: a directory, or `s3://bucket/prefix`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file for the period starting at `period_start` (which must start a period): a
    /// path, or the object's `s3://` URL.
    pub fn path(&self, key: &SeriesKey, period_start: i64) -> Result<PathBuf, CacheError> {
        Ok(self.storage.location(&self.key_of(key, period_start)?))
    }

    /// The period's key in the storage, `{provider}/.../{PERIOD}.arrow`.
    pub fn key_of(&self, key: &SeriesKey, period_start: i64) -> Result<String, CacheError> {
        let period = key.period()?;
        if !period.is_start(period_start) {
            return Err(CacheError::InvalidPeriod(format!(
                "{period_start} ms is not the start of a {period:?} period"
            )));
        }
        Ok(format!(
            "{}{}",
            key.prefix(),
            period.file_name(period_start)
        ))
    }

    /// Whether something is at the period's path (cheap: not opened nor checked; whatever
    /// it is, [`Cache::read`] says whether it is good).
    pub fn contains(&self, key: &SeriesKey, period_start: i64) -> bool {
        self.key_of(key, period_start)
            .is_ok_and(|k| self.storage.exists(&k).unwrap_or(false))
    }

    /// The period's candles, checked; `Ok(None)` when there is no file.
    pub fn read(
        &self,
        key: &SeriesKey,
        period_start: i64,
    ) -> Result<Option<Vec<Kline>>, CacheError> {
        Ok(self.read_period(key, period_start)?.map(|p| p.rows))
    }

    /// The period's candles and the candles the exchange did not have, checked (checksum,
    /// identity, every candle validated); `Ok(None)` when there is no file.
    pub fn read_period(
        &self,
        key: &SeriesKey,
        period_start: i64,
    ) -> Result<Option<CachedPeriod>, CacheError> {
        self.read_period_of(&candles_of(key)?, key, period_start)
    }

    /// [`Cache::read_period`] for a series of any kind.
    pub fn read_period_of<K: Kind>(
        &self,
        kind: &K,
        key: &SeriesKey,
        period_start: i64,
    ) -> Result<Option<CachedPeriod<K::Row>>, CacheError> {
        let expect = self.expect(kind, key, period_start)?;
        store::read(&self.file_at(&expect), &expect)
    }

    /// [`Cache::read_period_of`] for a kind with a column form ([`Kind::has_columns`]): the
    /// file's record batches as decoded, checked as its rows would be, read into `buf`.
    pub fn read_batches_of<K: Kind>(
        &self,
        kind: &K,
        key: &SeriesKey,
        period_start: i64,
        buf: &mut ReadBuf,
    ) -> Result<Option<CachedBatches>, CacheError> {
        let expect = self.expect(kind, key, period_start)?;
        store::read_batches(&self.file_at(&expect), &expect, buf)
    }

    /// Store a complete period atomically, replacing any file there, with the open times
    /// without a row recorded as missing at the exchange now. Refuses an empty slice and
    /// candles that are invalid, unaligned, unsorted, duplicated or outside the period.
    pub fn write(
        &self,
        key: &SeriesKey,
        period_start: i64,
        rows: &[Kline],
    ) -> Result<(), CacheError> {
        self.write_seen(key, period_start, rows, crate::request::now_ms())
    }

    /// [`Cache::write`], with the missing candles recorded as seen at `seen_ms`.
    pub fn write_seen(
        &self,
        key: &SeriesKey,
        period_start: i64,
        rows: &[Kline],
        seen_ms: i64,
    ) -> Result<(), CacheError> {
        self.write_one(&candles_of(key)?, key, period_start, rows, seen_ms)
    }

    fn write_one<K: Kind>(
        &self,
        kind: &K,
        key: &SeriesKey,
        period_start: i64,
        rows: &[K::Row],
        seen_ms: i64,
    ) -> Result<(), CacheError> {
        let expect = self.expect(kind, key, period_start)?;
        store::write(&self.file_at(&expect), &expect, rows, seen_ms)
    }

    /// Store several complete periods of candles: [`Cache::write_many_of`] for klines.
    pub fn write_many(
        &self,
        key: &SeriesKey,
        periods: &[(i64, &[Kline])],
        seen_ms: i64,
    ) -> Vec<Result<(), CacheError>> {
        match candles_of(key) {
            Ok(kind) => self.write_many_of(&kind, key, periods, seen_ms),
            Err(e) => periods
                .iter()
                .map(|_| Err(CacheError::InvalidKey(e.to_string())))
                .collect(),
        }
    }

    /// Store several complete periods, each exactly as [`Cache::write`] does (its own
    /// temporary file, fsync, rename, directory fsync), with the files written on a few
    /// threads at once: a filesystem commits concurrent fsyncs together, so on a disk where
    /// one fsync takes milliseconds a month of days costs a few of them, not 62. One result
    /// per period, in order. Missing rows are recorded as seen at `seen_ms`. Stale
    /// temporary files of the series (left by killed processes) are removed.
    /// On object storage each period is one PUT, a few in flight at once.
    pub fn write_many_of<K: Kind>(
        &self,
        kind: &K,
        key: &SeriesKey,
        periods: &[(i64, &[K::Row])],
        seen_ms: i64,
    ) -> Vec<Result<(), CacheError>> {
        if !periods.is_empty() {
            self.remove_stale_temps_of(key);
        }
        let write_all = |items: &[(i64, &[K::Row])],
                         slots: &mut [Option<Result<(), CacheError>>]| {
            for ((start, rows), slot) in items.iter().zip(slots) {
                *slot = Some(self.write_one(kind, key, *start, rows, seen_ms));
            }
        };
        let mut out: Vec<Option<Result<(), CacheError>>> = periods.iter().map(|_| None).collect();
        if periods.len() <= 1 {
            write_all(periods, &mut out);
        } else {
            let per = periods.len().div_ceil(WRITE_THREADS);
            std::thread::scope(|s| {
                for (items, slots) in periods.chunks(per).zip(out.chunks_mut(per)) {
                    let spawned = std::thread::Builder::new()
                        .name("dsm-cache-write".into())
                        .spawn_scoped(s, || write_all(items, slots));
                    if let Err(e) = spawned {
                        // No thread to be had: these periods are written after the others.
                        tracing::debug!("cache: writing without a helper thread: {e}");
                    }
                }
            });
            // Periods whose thread could not be started.
            for (i, slot) in out.iter_mut().enumerate() {
                if slot.is_none() {
                    let (start, rows) = periods[i];
                    *slot = Some(self.write_one(kind, key, start, rows, seen_ms));
                }
            }
        }
        out.into_iter()
            .map(|r| r.expect("every period was written"))
            .collect()
    }

    fn expect<'a, K: Kind>(
        &self,
        kind: &'a K,
        key: &'a SeriesKey,
        start: i64,
    ) -> Result<Expect<'a, K>, CacheError> {
        let period = key.period()?;
        if key.kind != kind.id() || period != kind.period() {
            return Err(CacheError::InvalidKey(format!(
                "series {key} does not hold {} data",
                kind.id()
            )));
        }
        if !period.is_start(start) {
            return Err(CacheError::InvalidPeriod(format!(
                "{start} ms is not the start of a {period:?} period"
            )));
        }
        Ok(Expect {
            key,
            kind,
            period,
            start,
        })
    }

    fn file_at<K: Kind>(&self, expect: &Expect<K>) -> At<'_> {
        let key = format!(
            "{}{}",
            expect.key.prefix(),
            expect.period.file_name(expect.start)
        );
        At::new(&*self.storage, key)
    }
}

/// The candle kind of a candle series' key.
fn candles_of(key: &SeriesKey) -> Result<Candles, CacheError> {
    match key.interval()? {
        Some(iv) => Ok(Candles::new(key.kind, iv)),
        None => Err(CacheError::InvalidKey(format!(
            "series {key} holds {} rows, not candles",
            key.kind
        ))),
    }
}

#[cfg(test)]
mod test_backends;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_batches;
#[cfg(test)]
mod tests_bounds;
#[cfg(test)]
mod tests_slices;
#[cfg(test)]
mod tests_trust;
