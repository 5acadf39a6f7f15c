//! The verified local cache: one Arrow IPC file per series and period,
//! `{root}/{provider}/{market}/klines/{SYMBOL}/{interval}/{PERIOD}.arrow`.
//!
//! Only complete periods are written (the planner decides that), atomically. Every read checks
//! the file (schema, rows sorted, unique, aligned, inside the period): a bad file is an error
//! naming it, never data.

mod inspect;
mod layout;
mod store;

use std::path::{Path, PathBuf};

use dsm_sdk::Kline;

pub use inspect::{ClearReport, Filter, SeriesSummary, VerifyReport};
pub use layout::{Period, SeriesKey, EXTENSION, KLINES_DIR, TEMP_PREFIX};

use crate::error::DsmError;
use store::Expect;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// A key component that cannot name a cache path.
    #[error("cache: {0}")]
    InvalidKey(String),
    /// A period start that is not the start of a period.
    #[error("cache: {0}")]
    InvalidPeriod(String),
    #[error("cache file {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A file that exists but is not valid cache data; `dsm cache verify` lists these and
    /// `dsm cache clear` removes them.
    #[error("cache file {} is not valid: {message} (remove it with `dsm cache clear`)", .path.display())]
    Corrupt { path: PathBuf, message: String },
    /// Data that must not be cached (empty, or not belonging to the file's period).
    #[error("cache: not writing {}: {message}", .path.display())]
    Refused { path: PathBuf, message: String },
}

impl From<CacheError> for DsmError {
    fn from(e: CacheError) -> DsmError {
        match e {
            CacheError::InvalidKey(m) | CacheError::InvalidPeriod(m) => DsmError::InvalidInput(m),
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

/// The cache below one root directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(root: impl Into<PathBuf>) -> Cache {
        Cache { root: root.into() }
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

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file for the period starting at `period_start` (which must start a period).
    pub fn path(&self, key: &SeriesKey, period_start: i64) -> Result<PathBuf, CacheError> {
        let expect = self.expect(key, period_start)?;
        Ok(self.file_path(&expect))
    }

    /// Whether the period's file exists (cheap: not read nor checked).
    pub fn contains(&self, key: &SeriesKey, period_start: i64) -> bool {
        self.path(key, period_start)
            .map(|p| p.is_file())
            .unwrap_or(false)
    }

    /// The period's candles, checked; `Ok(None)` when there is no file.
    pub fn read(
        &self,
        key: &SeriesKey,
        period_start: i64,
    ) -> Result<Option<Vec<Kline>>, CacheError> {
        let expect = self.expect(key, period_start)?;
        store::read(&self.file_path(&expect), &expect)
    }

    /// Store a complete period atomically, replacing any file there. Refuses an empty slice
    /// and candles that are unaligned, unsorted, duplicated or outside the period.
    pub fn write(
        &self,
        key: &SeriesKey,
        period_start: i64,
        rows: &[Kline],
    ) -> Result<(), CacheError> {
        let expect = self.expect(key, period_start)?;
        store::write(&self.file_path(&expect), &expect, rows)
    }

    fn expect<'a>(&self, key: &'a SeriesKey, start: i64) -> Result<Expect<'a>, CacheError> {
        let interval = key.validate()?;
        let period = Period::for_interval(interval);
        if !period.is_start(start) {
            return Err(CacheError::InvalidPeriod(format!(
                "{start} ms is not the start of a {period:?} period"
            )));
        }
        Ok(Expect {
            key,
            interval,
            period,
            start,
        })
    }

    fn file_path(&self, expect: &Expect) -> PathBuf {
        expect
            .key
            .dir_under(&self.root)
            .join(expect.period.file_name(expect.start))
    }
}

#[cfg(test)]
mod tests;
