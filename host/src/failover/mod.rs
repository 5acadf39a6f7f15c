//! The failover, one for all providers: cache, then the archive for published periods, then
//! REST; every candle validated, complete periods cached, every gap reported.
//!
//! Work goes in chunks of periods (a month of days, a day for 1s, a year of months) so that
//! memory stays bounded and monthly archive files can be used.

mod gaps;
mod ranges;
mod sink;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dsm_sdk::{
    abi_stable::{sabi_trait::TD_Opaque, sabi_types::RMut, std_types::RResult},
    ErrorKind, FetchReport, FetchRequest, KlineSink_TO, MarketInfo, ProviderBox, ProviderError,
    SourceKind,
};

use crate::cache::{Cache, CacheError, CachedPeriod, Period, SeriesKey};
use crate::error::{DsmError, Result};
use crate::interval::{Interval, MINUTE};
use crate::report::{FetchSummary, PeriodBatch, Source, SourceMode};
use crate::request::KlineRequest;
use crate::timeparse::format_time;
use gaps::{expected_gaps, Reasons};
use sink::{ChunkSink, PeriodBuf, UNUSABLE_ARCHIVE};

/// Everything one fetch needs; the provider is asked for only when the network is needed,
/// so a fetch served from the cache never loads the plugin.
pub struct Failover<'a> {
    pub provider: &'a dyn Fn() -> Result<&'a ProviderBox>,
    pub provider_id: &'a str,
    pub market: &'a MarketInfo,
    pub req: &'a KlineRequest,
    pub cache: Option<&'a Cache>,
    pub mode: SourceMode,
    pub now: i64,
    /// Candles a source lacked are asked for again while the hole was seen less than this
    /// long (ms) after its period ended: the exchange may still publish them.
    pub hole_recheck_window_ms: i64,
    /// Ask again for every hole of the range, however old.
    pub recheck_holes: bool,
    pub cancel: Arc<AtomicBool>,
}

type Emit<'e> = dyn FnMut(PeriodBatch) -> Result<()> + 'e;
type Progress<'p> = dyn FnMut(i64, i64) + 'p;

impl Failover<'_> {
    pub fn run(&self, emit: &mut Emit<'_>, progress: &mut Progress<'_>) -> Result<FetchSummary> {
        if self.mode == SourceMode::Archive && !self.market.archive {
            return Err(DsmError::InvalidInput(format!(
                "market {} of {} has no archive source; use --source rest or auto",
                self.market.id, self.provider_id
            )));
        }
        let period = Period::for_interval(self.req.interval);
        let key = SeriesKey::new(
            self.provider_id,
            &self.market.id,
            &self.req.symbol,
            &self.req.interval_name,
        )?;
        let starts = period_starts(period, self.req.start_ms, self.req.end_ms);
        let mut summary = FetchSummary::default();
        let mut i = 0;
        while i < starts.len() {
            self.check_cancelled()?;
            match self.read_cached(&key, starts[i], &mut summary) {
                Some(c) if self.recheck(period, starts[i], &c) => {
                    self.recheck_period(&key, period, starts[i], c, &mut summary, emit, progress)?;
                    i += 1;
                }
                Some(c) => {
                    self.serve_cached(period, starts[i], c, &mut summary, emit)?;
                    i += 1;
                }
                None => {
                    let j = self.chunk_end(&key, period, &starts, i);
                    self.fetch_chunk(&key, period, &starts[i..j], &mut summary, emit, progress)?;
                    i = j;
                }
            }
            let done = starts.get(i).copied().unwrap_or(self.req.end_ms);
            progress(
                done.min(self.req.end_ms) - self.req.start_ms,
                self.req.end_ms - self.req.start_ms,
            );
        }
        Ok(summary)
    }

    /// The cached period, or None (absent, cache off or not read in this mode, or a bad or
    /// old-format file, which is noted and fetched again).
    fn read_cached(
        &self,
        key: &SeriesKey,
        start: i64,
        summary: &mut FetchSummary,
    ) -> Option<CachedPeriod> {
        let cache = self.cache.filter(|_| self.mode.reads_cache())?;
        match cache.read_period(key, start) {
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
        cached: CachedPeriod,
        summary: &mut FetchSummary,
        emit: &mut Emit<'_>,
    ) -> Result<()> {
        let (mut buf, reasons) = from_cache(period, p, cached);
        self.settle(period, p, &mut buf);
        self.finish_period(period, p, buf, &reasons, false, None, summary, emit)
    }

    /// Fetch a cached period with holes again, alone; when the sources fail, what is
    /// cached is served (with a note): asking again never costs data the cache has.
    #[allow(clippy::too_many_arguments)]
    fn recheck_period(
        &self,
        key: &SeriesKey,
        period: Period,
        p: i64,
        cached: CachedPeriod,
        summary: &mut FetchSummary,
        emit: &mut Emit<'_>,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let stem = period.stem(p);
        let seen = format_time(cached.holes_seen_ms);
        tracing::info!("{key} {stem}: asking again for candles the exchange lacked at {seen}");
        match self.fetch_chunk(key, period, &[p], summary, emit, progress) {
            Err(DsmError::Provider { error, .. }) if error.kind == ErrorKind::CANCELLED => {
                Err(self.provider_error(error))
            }
            Err(e @ (DsmError::Provider { .. } | DsmError::InvalidData { .. })) => {
                let why = format!(
                    "{key} {stem}: could not ask again for the candles missing since {seen} \
                     ({e}); served from the cache"
                );
                tracing::warn!("{why}");
                summary.notes.push(why);
                self.serve_cached(period, p, cached, summary, emit)
            }
            other => other,
        }
    }

    /// Whether the cached period's holes inside the request are to be asked for again:
    /// always with `recheck_holes`, else while they were seen soon after the period ended.
    fn recheck(&self, period: Period, start: i64, c: &CachedPeriod) -> bool {
        // Only where REST can fill in what the archive (published once) lacks.
        let network = self.mode.uses_rest() && self.mode.reads_cache();
        let (lo, hi) = (
            start.max(self.req.start_ms),
            period.next(start).min(self.req.end_ms),
        );
        let wanted = c.holes.iter().any(|&(s, e)| s < hi && lo < e);
        let recent = c.holes_seen_ms
            < period
                .next(start)
                .saturating_add(self.hole_recheck_window_ms);
        network && wanted && (self.recheck_holes || recent)
    }

    /// End (exclusive index) of the chunk of uncached periods starting at `i`.
    fn chunk_end(&self, key: &SeriesKey, period: Period, starts: &[i64], i: usize) -> usize {
        let max_len = match (period, self.req.interval) {
            (Period::Month, _) => 12,
            (Period::Day, Interval::Fixed(ms)) if ms < MINUTE => 1,
            // Up to the end of the month, so monthly archive files can serve whole months.
            (Period::Day, _) => {
                let month_end = Period::Month.next(Period::Month.start_of(starts[i]));
                starts[i..].iter().take_while(|s| **s < month_end).count()
            }
        };
        let cached =
            |s: i64| self.mode.reads_cache() && self.cache.is_some_and(|c| c.contains(key, s));
        let mut j = i + 1;
        while j < starts.len() && j - i < max_len && !cached(starts[j]) {
            j += 1;
        }
        j
    }

    #[allow(clippy::too_many_arguments)]
    fn fetch_chunk(
        &self,
        key: &SeriesKey,
        period: Period,
        starts: &[i64],
        summary: &mut FetchSummary,
        emit: &mut Emit<'_>,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let chunk = (
            starts[0],
            period.next(*starts.last().expect("a chunk has periods")),
        );
        let mut bufs: BTreeMap<i64, PeriodBuf> = BTreeMap::new();
        let mut reasons = Reasons::default();
        if self.mode.uses_archive() && self.market.archive {
            // Archives publish whole periods after they end: ask for those only.
            let end = chunk.1.min(period.start_of(self.now));
            if chunk.0 < end {
                self.archive(
                    chunk.0,
                    end,
                    period,
                    &mut bufs,
                    &mut reasons,
                    summary,
                    progress,
                )?;
            }
        }
        if self.mode.uses_rest() {
            for (s, e) in self.uncovered(period, starts, &bufs) {
                let report = self.call(SourceKind::LIVE, s, e, period, &mut bufs, progress)?;
                summary.requests += report.requests;
                reasons.add_report(&report);
            }
        }
        let mut settled = Vec::with_capacity(starts.len());
        for &p in starts {
            let mut buf = bufs.remove(&p).unwrap_or_default();
            let cacheable = self.settle(period, p, &mut buf);
            settled.push((p, buf, cacheable));
        }
        // The chunk's complete periods go to the cache together (their fsyncs overlap).
        let mut written = match self.cache {
            Some(cache) => {
                let todo: Vec<(i64, &[dsm_sdk::Kline])> = settled
                    .iter()
                    .filter(|(_, _, cacheable)| *cacheable)
                    .map(|(p, buf, _)| (*p, buf.rows.as_slice()))
                    .collect();
                cache.write_many(key, &todo, self.now).into_iter()
            }
            None => Vec::new().into_iter(),
        };
        for (p, buf, cacheable) in settled {
            let unpublished = self.mode == SourceMode::Archive && p >= period.start_of(self.now);
            let stored = if cacheable { written.next() } else { None };
            self.finish_period(period, p, buf, &reasons, unpublished, stored, summary, emit)?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn archive(
        &self,
        start: i64,
        end: i64,
        period: Period,
        bufs: &mut BTreeMap<i64, PeriodBuf>,
        reasons: &mut Reasons,
        summary: &mut FetchSummary,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        match self.call(SourceKind::ARCHIVE, start, end, period, bufs, progress) {
            Ok(report) => {
                summary.requests += report.requests;
                for m in report.missing.iter() {
                    let unusable =
                        m.reason.contains("checksum") || m.reason.starts_with(UNUSABLE_ARCHIVE);
                    if self.mode.uses_rest() && unusable {
                        summary
                            .notes
                            .push(format!("archive: {}; used REST instead", m.reason));
                    }
                }
                reasons.add_report(&report);
                Ok(())
            }
            // The archive failing is not the end while REST can fill in.
            Err(DsmError::Provider { error, .. })
                if self.mode.uses_rest() && error.kind != ErrorKind::CANCELLED =>
            {
                let why = format!("archive unavailable: {error}");
                tracing::warn!("{why}; using REST");
                summary.notes.push(why.clone());
                reasons.add(start, end, why);
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Parts of the requested range in `starts` that no source has covered yet.
    fn uncovered(
        &self,
        period: Period,
        starts: &[i64],
        bufs: &BTreeMap<i64, PeriodBuf>,
    ) -> Vec<(i64, i64)> {
        let mut need = ranges::RangeSet::default();
        for &p in starts {
            let lo = p.max(self.req.start_ms);
            let hi = period.next(p).min(self.req.end_ms);
            let missing = match bufs.get(&p) {
                Some(buf) => buf.covered.missing(lo, hi),
                None => vec![(lo, hi)],
            };
            for (s, e) in missing {
                need.add(s, e);
            }
        }
        need.ranges().to_vec()
    }

    /// One plugin call for `[start, end)` from `source`, filed into `bufs`.
    fn call(
        &self,
        source: SourceKind,
        start: i64,
        end: i64,
        period: Period,
        bufs: &mut BTreeMap<i64, PeriodBuf>,
        progress: &mut Progress<'_>,
    ) -> Result<FetchReport> {
        self.check_cancelled()?;
        let provider = (self.provider)()?;
        let call_req = KlineRequest {
            start_ms: start,
            end_ms: end,
            ..self.req.clone()
        };
        let mut sink = ChunkSink {
            call: &call_req,
            period,
            periods: bufs,
            cancel: self.cancel.clone(),
            whole: (self.req.start_ms, self.req.end_ms),
            on_progress: progress,
            invalid: None,
            refused: Vec::new(),
        };
        let request = FetchRequest {
            market: self.market.id.as_str().into(),
            symbol: self.req.symbol.as_str().into(),
            interval: self.req.interval_name.as_str().into(),
            start_ms: start,
            end_ms: end,
            source,
        };
        let outcome = provider.fetch(
            &request,
            KlineSink_TO::from_ptr(RMut::new(&mut sink), TD_Opaque),
        );
        if let Some(message) = sink.invalid.take() {
            return Err(DsmError::InvalidData {
                provider: self.provider_id.to_string(),
                message,
            });
        }
        match outcome {
            RResult::ROk(mut report) => {
                report.missing.extend(sink.refused);
                Ok(report)
            }
            RResult::RErr(error) => Err(self.provider_error(error)),
        }
    }

    /// Sort, deduplicate and keep the closed candles of one period; whether it is to be
    /// cached (complete, not empty, not from the cache already).
    fn settle(&self, period: Period, p: i64, buf: &mut PeriodBuf) -> bool {
        let iv = self.req.interval;
        let next = period.next(p);
        buf.rows.sort_by_key(|k| k.open_time);
        buf.rows.dedup_by_key(|k| k.open_time);
        buf.rows.retain(|k| iv.next(k.open_time) <= self.now);
        let source = buf.source.unwrap_or(Source::Rest);
        let complete = buf.covered.covers(p, next) && iv.next(iv.floor(next - 1)) <= self.now;
        self.cache.is_some() && source != Source::Cache && complete && !buf.rows.is_empty()
    }

    /// Take the result of caching a settled period (`stored`: None when it was not to be
    /// cached), trim, report gaps, and hand the period over.
    #[allow(clippy::too_many_arguments)]
    fn finish_period(
        &self,
        period: Period,
        p: i64,
        mut buf: PeriodBuf,
        reasons: &Reasons,
        unpublished: bool,
        stored: Option<std::result::Result<(), crate::cache::CacheError>>,
        summary: &mut FetchSummary,
        emit: &mut Emit<'_>,
    ) -> Result<()> {
        let iv = self.req.interval;
        let next = period.next(p);
        let source = buf.source.unwrap_or(Source::Rest);
        let mut cached = false;
        match stored {
            Some(Ok(())) => {
                cached = true;
                summary.cached_periods += 1;
            }
            Some(Err(e)) => {
                tracing::warn!("{e}");
                summary.notes.push(e.to_string());
            }
            None => {}
        }
        let (lo, hi) = (p.max(self.req.start_ms), next.min(self.req.end_ms));
        buf.rows.retain(|k| k.open_time >= lo && k.open_time < hi);
        let gaps = expected_gaps(iv, lo, hi, self.now, &buf, reasons, self.mode, unpublished);
        summary.add_gaps(gaps);
        if buf.rows.is_empty() {
            return Ok(());
        }
        summary.sources.push((p, source));
        emit(PeriodBatch {
            period_start: p,
            source,
            rows: buf.rows,
            cached,
        })
    }

    fn check_cancelled(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(self.provider_error(ProviderError::new(
                ErrorKind::CANCELLED,
                "the fetch was cancelled",
            )));
        }
        Ok(())
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
fn from_cache(period: Period, p: i64, cached: CachedPeriod) -> (PeriodBuf, Reasons) {
    let mut covered = ranges::RangeSet::default();
    let mut reasons = Reasons::default();
    let mut at = p;
    let seen = format_time(cached.holes_seen_ms);
    for &(s, e) in &cached.holes {
        covered.add(at, s);
        reasons.add(
            s,
            e,
            format!("the exchange has no candle here (it had none when asked at {seen}; cached)"),
        );
        at = e;
    }
    covered.add(at, period.next(p));
    let buf = PeriodBuf {
        rows: cached.rows,
        covered,
        source: Some(Source::Cache),
    };
    (buf, reasons)
}
