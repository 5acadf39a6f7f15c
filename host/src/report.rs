//! What a fetch reports besides candles: where each period came from, and the gaps.

use dsm_sdk::Kline;

use crate::timeparse::format_time;

/// Where a period's candles came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// The local cache.
    Cache,
    /// The exchange's bulk archive (e.g. Binance Vision).
    Archive,
    /// The exchange's REST API.
    Rest,
}

impl Source {
    /// `cache`, `archive` or `rest`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Cache => "cache",
            Source::Archive => "archive",
            Source::Rest => "rest",
        }
    }
}

/// Which sources a fetch may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SourceMode {
    /// Cache, then the archive for published periods, then REST.
    #[default]
    Auto,
    /// The cache only: never touches the network.
    Cache,
    /// The archive only (complete periods are still cached).
    Archive,
    /// REST only (complete periods are still cached).
    Rest,
}

impl SourceMode {
    /// `auto`, `cache`, `archive`, `rest` (also `live`).
    pub fn parse(s: &str) -> Option<SourceMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(SourceMode::Auto),
            "cache" => Some(SourceMode::Cache),
            "archive" => Some(SourceMode::Archive),
            "rest" | "live" => Some(SourceMode::Rest),
            _ => None,
        }
    }

    pub(crate) fn reads_cache(self) -> bool {
        matches!(self, SourceMode::Auto | SourceMode::Cache)
    }

    pub(crate) fn uses_archive(self) -> bool {
        matches!(self, SourceMode::Auto | SourceMode::Archive)
    }

    pub(crate) fn uses_rest(self) -> bool {
        matches!(self, SourceMode::Auto | SourceMode::Rest)
    }
}

/// Candles that should exist but were not served, `[start_ms, end_ms)`, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// First missing open time (ms UTC).
    pub start_ms: i64,
    /// End, exclusive.
    pub end_ms: i64,
    /// Why, as the sources said.
    pub reason: String,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} .. {}: {}",
            format_time(self.start_ms),
            format_time(self.end_ms),
            self.reason
        )
    }
}

/// One period's rows (trimmed to the requested range) and their source: candles by
/// default, or the rows of another kind (`PeriodBatch<FundingRate>`).
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodBatch<R = Kline> {
    /// Start of the UTC day (or month, for intervals of a day or more and for funding).
    pub period_start: i64,
    /// Where the rows came from.
    pub source: Source,
    /// The rows, ascending by time.
    pub rows: Vec<R>,
    /// Whether this fetch wrote the period to the cache.
    pub cached: bool,
}

impl<R> crate::handoff::Rows for PeriodBatch<R> {
    fn rows(&self) -> usize {
        self.rows.len()
    }
}

/// Everything about a fetch but the candles.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FetchSummary {
    /// Missing candles and why, merged and in order.
    pub gaps: Vec<Gap>,
    /// (period start, source) for every period that served candles, in order.
    pub sources: Vec<(i64, Source)>,
    /// HTTP requests made by the plugin, retries included.
    pub requests: u64,
    /// Periods written to the cache by this fetch.
    pub cached_periods: u32,
    /// Things a user should know that did not stop the fetch (e.g. an archive file that
    /// failed its checksum and was replaced by REST data).
    pub notes: Vec<String>,
}

impl FetchSummary {
    /// Add gaps, merging a gap that continues the previous one for the same reason.
    pub(crate) fn add_gaps(&mut self, gaps: impl IntoIterator<Item = Gap>) {
        for g in gaps {
            match self.gaps.last_mut() {
                Some(last) if last.end_ms == g.start_ms && last.reason == g.reason => {
                    last.end_ms = g.end_ms
                }
                _ => self.gaps.push(g),
            }
        }
    }
}

/// One period as the failover hands it on (inside the library): its rows, or, for a period
/// served from the cache of a kind with a column form, the cache file's checked record
/// batches (trimmed to the request), which become rows only where an output wants rows.
#[derive(Debug)]
pub(crate) struct ServedPeriod<R> {
    pub period_start: i64,
    pub source: Source,
    pub cached: bool,
    pub data: PeriodData<R>,
}

/// The rows of a [`ServedPeriod`].
#[derive(Debug)]
pub(crate) enum PeriodData<R> {
    Rows(Vec<R>),
    /// In the kind's schema, ascending, none empty.
    Batches(Vec<arrow_array::RecordBatch>),
}

impl<R> ServedPeriod<R> {
    /// The period's rows appended to `out` (one copy from the columns of a cached period).
    pub fn extend_into<K: crate::kinds::Kind<Row = R>>(
        self,
        kind: &K,
        out: &mut Vec<R>,
    ) -> crate::error::Result<()> {
        match self.data {
            PeriodData::Rows(rows) if out.capacity() == 0 => *out = rows,
            PeriodData::Rows(mut rows) => out.append(&mut rows),
            PeriodData::Batches(batches) => {
                for b in &batches {
                    kind.extend_rows(b, out).map_err(cache_data)?;
                }
            }
        }
        Ok(())
    }

    /// The period as the public [`PeriodBatch`] of rows.
    pub fn into_batch<K: crate::kinds::Kind<Row = R>>(
        self,
        kind: &K,
    ) -> crate::error::Result<PeriodBatch<R>> {
        let (period_start, source, cached) = (self.period_start, self.source, self.cached);
        let mut rows = Vec::new();
        self.extend_into(kind, &mut rows)?;
        Ok(PeriodBatch {
            period_start,
            source,
            rows,
            cached,
        })
    }
}

/// Batches checked by the cache read that no longer read as the kind's (cannot happen).
pub(crate) fn cache_data(message: String) -> crate::error::DsmError {
    crate::error::DsmError::InvalidData {
        provider: "cache".into(),
        message,
    }
}
