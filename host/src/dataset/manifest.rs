//! `_dsm/manifest.json`: what a dataset holds and what of it is complete, for readers
//! without dsm. Every listed period is complete (the cache holds complete periods only);
//! its file's size and xxh3 say which bytes are the ones dsm wrote. The manifest holds no
//! time of writing, so the same cache gives the same bytes.

use serde::{Deserialize, Serialize};

use crate::cache::SeriesKey;

/// Where the manifest is, relative to the dataset's root (hidden from Spark and from
/// `**/*.parquet` globs by the leading `_`).
pub const PATH: &str = "_dsm/manifest.json";
/// What `format` says.
pub const FORMAT: &str = "dsm-dataset";
/// The manifest version this dsm writes and reads.
pub const VERSION: u32 = 1;

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `dsm-dataset`.
    pub format: String,
    /// The manifest version (1).
    pub version: u32,
    /// The partition layout, as a pattern.
    pub layout: String,
    /// Every series, sorted by kind, provider, market, symbol, interval.
    pub series: Vec<SeriesEntry>,
}

/// One series and its complete periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesEntry {
    /// Data kind (`klines`, `funding`, ...).
    pub kind: String,
    /// Provider id.
    pub provider: String,
    /// Market id.
    pub market: String,
    /// Symbol.
    pub symbol: String,
    /// Interval (`1m`, `1M`); empty for kinds without one (no `interval=` level).
    pub interval: String,
    /// `day` or `month`: what one file holds.
    pub period: String,
    /// Runs of consecutive complete periods, `[first start, end)` in ms UTC.
    pub complete: Vec<[i64; 2]>,
    /// Every complete period, ascending.
    pub periods: Vec<PeriodEntry>,
}

/// One complete period and its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodEntry {
    /// The `date=` value (the period's first day).
    pub date: String,
    /// Start, ms UTC.
    pub start_ms: i64,
    /// End (exclusive), ms UTC.
    pub end_ms: i64,
    /// Rows in the file.
    pub rows: u64,
    /// Open times the exchange had no candle for, `[start, end)` ms (candle kinds).
    pub holes: Vec<[i64; 2]>,
    /// The checksum of the cache file it was exported from (its footer's xxh3).
    pub cache_xxh3: String,
    /// The file, relative to the root.
    pub file: String,
    /// The file's size.
    pub bytes: u64,
    /// xxh3-64 of the file's bytes, 16 hex digits.
    pub xxh3: String,
}

impl SeriesEntry {
    /// An entry for `key` with no periods yet.
    pub fn new(key: &SeriesKey, period: &str) -> SeriesEntry {
        SeriesEntry {
            kind: key.kind.name().to_string(),
            provider: key.provider.clone(),
            market: key.market.clone(),
            symbol: key.symbol.clone(),
            interval: key.interval.clone(),
            period: period.to_string(),
            complete: Vec::new(),
            periods: Vec::new(),
        }
    }

    /// The sort and identity key.
    pub fn id(&self) -> (&str, &str, &str, &str, &str) {
        (
            &self.kind,
            &self.provider,
            &self.market,
            &self.symbol,
            &self.interval,
        )
    }

    /// Sort the periods and recompute the runs of consecutive ones.
    pub fn settle(&mut self) {
        self.periods.sort_by_key(|p| p.start_ms);
        self.periods.dedup_by_key(|p| p.start_ms);
        let mut runs: Vec<[i64; 2]> = Vec::new();
        for p in &self.periods {
            match runs.last_mut() {
                Some(run) if run[1] == p.start_ms => run[1] = p.end_ms,
                _ => runs.push([p.start_ms, p.end_ms]),
            }
        }
        self.complete = runs;
    }
}

impl Manifest {
    /// An empty manifest.
    pub fn empty(layout: &str) -> Manifest {
        Manifest {
            format: FORMAT.into(),
            version: VERSION,
            layout: layout.into(),
            series: Vec::new(),
        }
    }

    /// Parse a manifest, refusing another format or version.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, String> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if m.format != FORMAT || m.version != VERSION {
            return Err(format!(
                "format {:?} version {}, this dsm reads {FORMAT} version {VERSION}",
                m.format, m.version
            ));
        }
        Ok(m)
    }

    /// Pretty JSON with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = serde_json::to_vec_pretty(self).expect("a manifest serializes");
        b.push(b'\n');
        b
    }

    /// The entry of a series, added if missing.
    pub fn series_mut(&mut self, key: &SeriesKey, period: &str) -> &mut SeriesEntry {
        let want = SeriesEntry::new(key, period);
        match self.series.iter().position(|s| s.id() == want.id()) {
            Some(i) => &mut self.series[i],
            None => {
                self.series.push(want);
                self.series.last_mut().expect("just pushed")
            }
        }
    }

    /// The entry of a period, if listed.
    pub fn period(&self, key: &SeriesKey, start: i64) -> Option<&PeriodEntry> {
        let want = SeriesEntry::new(key, "");
        self.series
            .iter()
            .find(|s| s.id() == want.id())?
            .periods
            .iter()
            .find(|p| p.start_ms == start)
    }

    /// Keep only the periods for which `keep` holds.
    pub fn retain_periods(&mut self, mut keep: impl FnMut(&PeriodEntry) -> bool) {
        for s in &mut self.series {
            s.periods.retain(&mut keep);
        }
    }

    /// Sorted series, sorted periods, runs recomputed, series without periods dropped.
    pub fn settle(&mut self) {
        for s in &mut self.series {
            s.settle();
        }
        self.series.retain(|s| !s.periods.is_empty());
        self.series.sort_by(|a, b| a.id().cmp(&b.id()));
    }
}
