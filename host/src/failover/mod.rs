//! The failover, one for all providers and data kinds: cache, then the archive for
//! published periods, then REST; every row validated, complete periods cached, every gap
//! reported. What differs between kinds is asked of [`Kind`].
//!
//! Work goes in chunks of periods (a month of days, a day for 1s, a year of months) so that
//! memory stays bounded and monthly archive files can be used. The network half of the
//! next few uncached chunks runs ahead on other threads ([`ahead`]), and a chunk's cache
//! writes overlap the next chunk ([`writes`]); everything else (settling, the summary,
//! emitting, progress) happens here, in order.

mod ahead;
mod chunk;
mod fetch;
mod gaps;
mod ranges;
mod reads;
mod sink;
mod writes;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow_array::RecordBatch;
use dsm_sdk::{
    data_module::DataProviderBox, manifest::KindOffer, ErrorKind, ProviderBox, ProviderError,
};

use crate::cache::{Cache, CacheError, CachedBatches, CachedPeriod, Period, ReadBuf, SeriesKey};
use crate::error::{DsmError, Result};
use crate::kinds::Kind;
use crate::report::{cache_data, FetchSummary, PeriodData, ServedPeriod, Source, SourceMode};
use crate::request::SeriesRequest;
use crate::timeparse::format_time;
use ahead::Ahead;
use gaps::Reasons;
use reads::Reads;
use sink::PeriodBuf;
use writes::Writes;

/// Everything one fetch needs; the provider is asked for only when the network is needed,
/// so a fetch served from the cache never loads the plugin.
pub struct Failover<'a, K: Kind> {
    /// The provider for klines (every plugin has it).
    /// `Sync`: chunks ahead call it from their own threads.
    pub provider: &'a (dyn Fn() -> Result<&'a ProviderBox> + Sync),
    /// The provider for the other kinds (plugins built on dsm-sdk with data kinds).
    pub data_provider: &'a (dyn Fn() -> Result<&'a DataProviderBox> + Sync),
    pub provider_id: &'a str,
    /// The market's id.
    pub market: &'a str,
    /// What the market offers of this kind (sources, intervals).
    pub offer: &'a KindOffer,
    pub kind: &'a K,
    pub req: &'a SeriesRequest,
    pub cache: Option<&'a Cache>,
    pub mode: SourceMode,
    /// Read the cache whatever `mode` says (`DsmConfig::cache_first`).
    pub cache_first: bool,
    pub now: i64,
    /// Candles a source lacked are asked for again while the hole was seen less than this
    /// long (ms) after its period ended: the exchange may still publish them.
    pub hole_recheck_window_ms: i64,
    /// Ask again for every hole of the range, however old.
    pub recheck_holes: bool,
    pub cancel: Arc<AtomicBool>,
}

type Emit<'e, R> = dyn FnMut(ServedPeriod<R>) -> Result<()> + 'e;
type Progress<'p> = dyn FnMut(i64, i64) + 'p;
/// Where a served period goes: the summary and the output.
type Out<'o, 'e, R> = (&'o mut FetchSummary, &'o mut Emit<'e, R>);
/// A cache file read: the period, or None (absent, or the cache not read).
type Read<R> = std::result::Result<Option<Cached<R>>, CacheError>;
/// The walk's helpers: chunks fetched ahead, cache files read ahead, a chunk being
/// written.
type Helpers<'h, 's, 'env, R> = (
    &'h mut Ahead<'s, 'env, R>,
    &'h mut Reads<'s, 'env, Read<R>>,
    &'h mut Writes<'s, 'env, R>,
);

/// A period read from the cache: as rows, or as the file's record batches (kinds with a
/// column form).
enum Cached<R> {
    Rows(CachedPeriod<R>),
    Batches(CachedBatches),
}

impl<R> Cached<R> {
    /// The holes and when they were seen.
    fn holes(&self) -> (&[(i64, i64)], i64) {
        match self {
            Cached::Rows(c) => (&c.holes, c.holes_seen_ms),
            Cached::Batches(c) => (&c.holes, c.holes_seen_ms),
        }
    }
}

impl<K: Kind> Failover<'_, K> {
    pub fn run(
        &self,
        emit: &mut Emit<'_, K::Row>,
        progress: &mut Progress<'_>,
    ) -> Result<FetchSummary> {
        let kind = self.kind.id();
        if self.mode == SourceMode::Archive && !self.offer.archive {
            return Err(DsmError::InvalidInput(format!(
                "{kind} of market {} of {} has no archive source; use --source rest or auto",
                self.market, self.provider_id
            )));
        }
        if self.mode == SourceMode::Rest && !self.offer.rest {
            return Err(DsmError::InvalidInput(format!(
                "{kind} of market {} of {} has no REST source; use --source archive or auto",
                self.market, self.provider_id
            )));
        }
        let period = self.kind.period();
        let key = SeriesKey::of(
            kind,
            self.provider_id,
            self.market,
            &self.req.symbol,
            self.kind.interval_name(),
        )?;
        let starts = period_starts(period, self.req.start_ms, self.req.end_ms);
        let limit =
            ahead::chunks_ahead(self.kind.rows_per_period(), self.chunk_len(period, &starts));
        let shared = reads::Shared::new(starts.len(), self.reads_ahead());
        std::thread::scope(|scope| {
            let mut ahead = Ahead::new(scope, limit);
            // A chunk is written while the next is taken only where chunks may be held
            // ahead: the same bound on memory.
            let mut writes = Writes::new(scope, limit > 0);
            let (key, starts) = (&key, &starts);
            let mut buf = ReadBuf::default(); // the helper's memory, its own
            let mut reads = Reads::new(scope, &shared, move |i| {
                self.read_file(key, starts[i], &mut buf)
            });
            self.walk(
                key,
                period,
                starts,
                (&mut ahead, &mut reads, &mut writes),
                emit,
                progress,
            )
        })
    }

    /// How many cache files may be read ahead of the walk.
    fn reads_ahead(&self) -> usize {
        match self.cache.is_some() && self.reads_cache() {
            true => reads::periods_ahead(self.kind.rows_per_period()),
            false => 0,
        }
    }

    /// Every period of the request in order: from the cache, asked for again, or in chunks
    /// fetched here or ahead.
    fn walk<'s>(
        &'s self,
        key: &'s SeriesKey,
        period: Period,
        starts: &'s [i64],
        (ahead, reads, writes): Helpers<'_, 's, '_, K::Row>,
        emit: &mut Emit<'_, K::Row>,
        progress: &mut Progress<'_>,
    ) -> Result<FetchSummary> {
        let mut summary = FetchSummary::default();
        // The cache files the walk reads itself go into this memory (arenas, reused once
        // free).
        let mut read_buf = ReadBuf::default();
        let mut i = 0;
        while i < starts.len() {
            self.check_cancelled()?;
            let read = reads.take(i, |k| self.read_file(key, starts[k], &mut read_buf));
            let cached = self.settle_read(read, &mut summary);
            if cached.is_some() {
                // What was fetched before this period goes out first.
                self.emit_written(period, writes.finish(), &mut summary, emit)?;
            }
            match cached {
                Some(c) if self.recheck(period, starts[i], &c) => {
                    let out = (&mut summary, &mut *emit);
                    self.recheck_period(key, period, starts[i], c, out, progress)?;
                    i += 1;
                }
                Some(c) => {
                    // A cached range: the next files are read ahead from now on.
                    reads.start();
                    let out = (&mut summary, &mut *emit);
                    self.serve_cached(period, starts[i], c, out)?;
                    i += 1;
                }
                None => {
                    let j = self.chunk_end(key, period, starts, i);
                    let pending = ahead.take((i, j));
                    self.start_ahead(ahead, key, period, starts, j);
                    // The chunk before goes out now unless this one is already here: the
                    // output never waits on the network for what is ready.
                    if !pending.as_ref().is_some_and(|p| p.is_done()) {
                        self.emit_written(period, writes.finish(), &mut summary, emit)?;
                    }
                    let outcome = match pending {
                        Some(pending) => pending.wait(progress),
                        // Not ahead (the first, or none may be): fetched here, with progress.
                        None => {
                            self.fetch(period, &starts[i..j], &AtomicBool::new(false), progress)
                        }
                    };
                    let settled = self.settle_chunk(period, &starts[i..j], outcome, &mut summary);
                    let settled = match settled {
                        Ok(chunk) => chunk,
                        Err(e) => {
                            // The chunk before this one is served, then the error.
                            self.emit_written(period, writes.finish(), &mut summary, emit)?;
                            return Err(e);
                        }
                    };
                    let before = writes.push(settled, move |c| self.write_chunk(key, c));
                    self.emit_written(period, before, &mut summary, emit)?;
                    i = j;
                }
            }
            let done = starts.get(i).copied().unwrap_or(self.req.end_ms);
            progress(
                done.min(self.req.end_ms) - self.req.start_ms,
                self.req.end_ms - self.req.start_ms,
            );
        }
        self.emit_written(period, writes.finish(), &mut summary, emit)?;
        Ok(summary)
    }

    /// Emit the chunk whose writes were waited for, if any.
    fn emit_written(
        &self,
        period: Period,
        written: Option<writes::Written<K::Row>>,
        summary: &mut FetchSummary,
        emit: &mut Emit<'_, K::Row>,
    ) -> Result<()> {
        match written {
            Some(w) => self.emit_chunk(period, w, summary, emit),
            None => Ok(()),
        }
    }

    /// Start the uncached chunks after period `from` until `ahead` is full, as the walk
    /// will meet them (periods in the cache are skipped: they are read in order).
    fn start_ahead<'s>(
        &'s self,
        ahead: &mut Ahead<'s, '_, K::Row>,
        key: &SeriesKey,
        period: Period,
        starts: &'s [i64],
        from: usize,
    ) {
        let mut i = ahead.next_from(from);
        while ahead.has_room() && i < starts.len() {
            if self.is_cached(key, starts[i]) {
                i += 1;
                continue;
            }
            let j = self.chunk_end(key, period, starts, i);
            let periods = &starts[i..j];
            ahead.spawn((i, j), move |stop, progress| {
                self.fetch(period, periods, stop, progress)
            });
            i = j;
        }
    }

    /// The cached period's file, or None (absent, or the cache off or not read in this
    /// mode). A kind with a column form keeps the file's record batches (read into `buf`):
    /// the warm read's fast path. Called by the walk and by its helper.
    fn read_file(&self, key: &SeriesKey, start: i64, buf: &mut ReadBuf) -> Read<K::Row> {
        let Some(cache) = self.cache.filter(|_| self.reads_cache()) else {
            return Ok(None);
        };
        match self.kind.has_columns() {
            true => cache
                .read_batches_of(self.kind, key, start, buf)
                .map(|c| c.map(Cached::Batches)),
            false => cache
                .read_period_of(self.kind, key, start)
                .map(|c| c.map(Cached::Rows)),
        }
    }

    /// The cached period read, or None: absent, or a bad or old-format file, which is noted
    /// and fetched again.
    fn settle_read(
        &self,
        read: Read<K::Row>,
        summary: &mut FetchSummary,
    ) -> Option<Cached<K::Row>> {
        match read {
            Ok(cached) => cached,
            Err(e @ CacheError::Outdated { .. }) => {
                tracing::info!("{e}; fetching that period again");
                None
            }
            Err(e) => {
                tracing::warn!("{e}; fetching that period again");
                summary.notes.push(format!("{e}; fetched again"));
                None
            }
        }
    }

    fn serve_cached(
        &self,
        period: Period,
        p: i64,
        cached: Cached<K::Row>,
        out: Out<'_, '_, K::Row>,
    ) -> Result<()> {
        let (summary, emit) = out;
        // No `settle`: a cache file is read only after its rows were checked sorted, unique
        // and inside its period, and only closed periods are written, so every row is final.
        let batches = match cached {
            Cached::Rows(c) => {
                let (buf, reasons) = from_cache(
                    period,
                    p,
                    c.rows,
                    (&c.holes, c.holes_seen_ms),
                    self.kind.noun(),
                );
                return self.finish_period(period, p, buf, &reasons, false, None, summary, emit);
            }
            Cached::Batches(c) => c,
        };
        let CachedBatches {
            batches,
            holes,
            holes_seen_ms,
            bytes,
        } = batches;
        let (buf, reasons) = from_cache(
            period,
            p,
            Vec::new(),
            (&holes, holes_seen_ms),
            self.kind.noun(),
        );
        let (lo, hi) = (
            p.max(self.req.start_ms),
            period.next(p).min(self.req.end_ms),
        );
        let kept = self.trim(batches, lo, hi)?;
        let mut times = Vec::with_capacity(kept.len());
        for b in &kept {
            times.push(self.kind.times_of(b).map_err(cache_data)?);
        }
        // A complete period leaves no gap: found in a tight pass, the walk only otherwise.
        if !gaps::grid_complete(self.kind.grid(), (lo, hi), self.now, &times) {
            let times = times.into_iter().flat_map(|t| t.iter().copied());
            self.add_gaps((lo, hi), &buf, times, &reasons, false, summary);
        }
        if !kept.is_empty() {
            summary.sources.push((p, Source::Cache));
            emit(ServedPeriod {
                period_start: p,
                source: Source::Cache,
                cached: false,
                data: PeriodData::Batches(kept),
            })?;
        }
        // The file's bytes (the batches not kept hold them) are free for later reads.
        drop(bytes);
        Ok(())
    }

    /// The rows of `batches` (ascending) inside `[lo, hi)`, as slices of them (no copy);
    /// no empty batch.
    fn trim(&self, batches: Vec<RecordBatch>, lo: i64, hi: i64) -> Result<Vec<RecordBatch>> {
        let mut kept = Vec::with_capacity(batches.len());
        for b in batches {
            let times = self.kind.times_of(&b).map_err(cache_data)?;
            let (a, z) = (
                times.partition_point(|t| *t < lo),
                times.partition_point(|t| *t < hi),
            );
            match (a, z) {
                _ if a >= z => {}
                (0, z) if z == times.len() => kept.push(b),
                _ => kept.push(b.slice(a, z - a)),
            }
        }
        Ok(kept)
    }

    /// Fetch a cached period with holes again, alone; when the sources fail, what is
    /// cached is served (with a note): asking again never costs data the cache has.
    #[allow(clippy::too_many_arguments)]
    fn recheck_period(
        &self,
        key: &SeriesKey,
        period: Period,
        p: i64,
        cached: Cached<K::Row>,
        (summary, emit): Out<'_, '_, K::Row>,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let stem = period.stem(p);
        let seen = format_time(cached.holes().1);
        let noun = self.kind.noun();
        tracing::info!("{key} {stem}: asking again for {noun}s the exchange lacked at {seen}");
        match self.fetch_chunk(key, period, &[p], summary, emit, progress) {
            Err(DsmError::Provider { error, .. }) if error.kind == ErrorKind::CANCELLED => {
                Err(self.provider_error(error))
            }
            Err(e @ (DsmError::Provider { .. } | DsmError::InvalidData { .. })) => {
                let why = format!(
                    "{key} {stem}: could not ask again for the {noun}s missing since {seen} \
                     ({e}); served from the cache"
                );
                tracing::warn!("{why}");
                summary.notes.push(why);
                self.serve_cached(period, p, cached, (summary, emit))
            }
            other => other,
        }
    }

    /// Whether the cached period's holes inside the request are to be asked for again:
    /// always with `recheck_holes`, else while they were seen soon after the period ended.
    fn recheck(&self, period: Period, start: i64, c: &Cached<K::Row>) -> bool {
        let (holes, holes_seen_ms) = c.holes();
        // Only where REST can fill in what the archive (published once) lacks.
        let network = self.mode.uses_rest() && self.reads_cache();
        let (lo, hi) = (
            start.max(self.req.start_ms),
            period.next(start).min(self.req.end_ms),
        );
        let wanted = holes.iter().any(|&(s, e)| s < hi && lo < e);
        let recent = holes_seen_ms
            < period
                .next(start)
                .saturating_add(self.hole_recheck_window_ms);
        network && wanted && (self.recheck_holes || recent)
    }

    /// The most periods in one chunk starting at `starts[i]`.
    fn max_chunk(&self, period: Period, starts: &[i64], i: usize) -> usize {
        match (period, self.kind.periods_per_call()) {
            (_, Some(n)) => n,
            (Period::Month, None) => 12,
            // Up to the end of the month, so monthly archive files can serve whole months.
            (Period::Day, None) => {
                let month_end = Period::Month.next(Period::Month.start_of(starts[i]));
                starts[i..].iter().take_while(|s| **s < month_end).count()
            }
        }
    }

    /// The length of the longest chunk, for the bound on chunks ahead.
    fn chunk_len(&self, period: Period, starts: &[i64]) -> usize {
        match (period, self.kind.periods_per_call()) {
            (_, Some(n)) => n,
            (Period::Month, None) => 12,
            (Period::Day, None) => 31,
        }
        .min(starts.len())
    }

    /// End (exclusive index) of the chunk of uncached periods starting at `i`.
    fn chunk_end(&self, key: &SeriesKey, period: Period, starts: &[i64], i: usize) -> usize {
        let max_len = self.max_chunk(period, starts, i);
        let mut j = i + 1;
        while j < starts.len() && j - i < max_len && !self.is_cached(key, starts[j]) {
            j += 1;
        }
        j
    }

    /// Whether the period starting at `start` is in the cache and read in this mode.
    fn is_cached(&self, key: &SeriesKey, start: i64) -> bool {
        self.reads_cache() && self.cache.is_some_and(|c| c.contains(key, start))
    }

    fn reads_cache(&self) -> bool {
        self.cache_first || self.mode.reads_cache()
    }

    fn check_cancelled(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(self.cancelled());
        }
        Ok(())
    }

    fn cancelled(&self) -> DsmError {
        self.provider_error(ProviderError::new(
            ErrorKind::CANCELLED,
            "the fetch was cancelled",
        ))
    }

    fn provider_error(&self, error: ProviderError) -> DsmError {
        DsmError::Provider {
            provider: self.provider_id.to_string(),
            error,
        }
    }
}

fn period_starts(period: Period, start: i64, end: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut p = period.start_of(start);
    while p < end {
        out.push(p);
        p = period.next(p);
    }
    out
}

/// A cached period as the failover's buffer: covered but for the holes, which are gaps
/// saying when the exchange was asked.
fn from_cache<R>(
    period: Period,
    p: i64,
    rows: Vec<R>,
    (holes, holes_seen_ms): (&[(i64, i64)], i64),
    noun: &str,
) -> (PeriodBuf<R>, Reasons) {
    let mut covered = ranges::RangeSet::default();
    let mut reasons = Reasons::default();
    let mut at = p;
    let seen = format_time(holes_seen_ms);
    for &(s, e) in holes {
        covered.add(at, s);
        reasons.add(
            s,
            e,
            format!("the exchange has no {noun} here (it had none when asked at {seen}; cached)"),
        );
        at = e;
    }
    covered.add(at, period.next(p));
    let buf = PeriodBuf {
        rows,
        covered,
        source: Some(Source::Cache),
    };
    (buf, reasons)
}
