//! One chunk of uncached periods: the archive for what is published, REST for what is
//! still uncovered, then each period settled, cached when complete, trimmed and emitted.

use std::collections::BTreeMap;

use dsm_sdk::{
    abi_stable::{sabi_trait::TD_Opaque, sabi_types::RMut, std_types::RResult},
    DataKind, DataRequest, DataSink_TO, ErrorKind, FetchReport, FetchRequest, KlineSink_TO,
    SourceKind,
};

use super::gaps::{expected_gaps, GapContext, Reasons};
use super::ranges;
use super::sink::{ChunkSink, PeriodBuf, UNUSABLE_ARCHIVE};
use super::{Emit, Failover, Progress};
use crate::cache::{Period, SeriesKey};
use crate::error::{DsmError, Result};
use crate::kinds::Kind;
use crate::report::{FetchSummary, PeriodBatch, Source, SourceMode};

impl<K: Kind> Failover<'_, K> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fetch_chunk(
        &self,
        key: &SeriesKey,
        period: Period,
        starts: &[i64],
        summary: &mut FetchSummary,
        emit: &mut Emit<'_, K::Row>,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let chunk = (
            starts[0],
            period.next(*starts.last().expect("a chunk has periods")),
        );
        let mut bufs: BTreeMap<i64, PeriodBuf<K::Row>> = BTreeMap::new();
        let mut reasons = Reasons::default();
        if self.mode.uses_archive() && self.offer.archive {
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
        if self.mode.uses_rest() && self.offer.rest {
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
                let todo: Vec<(i64, &[K::Row])> = settled
                    .iter()
                    .filter(|(_, _, cacheable)| *cacheable)
                    .map(|(p, buf, _)| (*p, buf.rows.as_slice()))
                    .collect();
                cache
                    .write_many_of(self.kind, key, &todo, self.now)
                    .into_iter()
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
        bufs: &mut BTreeMap<i64, PeriodBuf<K::Row>>,
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
        bufs: &BTreeMap<i64, PeriodBuf<K::Row>>,
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

    /// One plugin call for `[start, end)` from `source`, filed into `bufs`: klines through
    /// `Provider::fetch` (every plugin has it), other kinds through the data provider.
    fn call(
        &self,
        source: SourceKind,
        start: i64,
        end: i64,
        period: Period,
        bufs: &mut BTreeMap<i64, PeriodBuf<K::Row>>,
        progress: &mut Progress<'_>,
    ) -> Result<FetchReport> {
        self.check_cancelled()?;
        let mut sink = ChunkSink {
            kind: self.kind,
            call: (start, end),
            period,
            periods: bufs,
            cancel: self.cancel.clone(),
            whole: (self.req.start_ms, self.req.end_ms),
            on_progress: progress,
            invalid: None,
            refused: Vec::new(),
        };
        let (market, symbol) = (self.market.into(), self.req.symbol.as_str().into());
        let interval = self.kind.interval_name().into();
        let outcome = if self.kind.id() == DataKind::KLINES {
            let request = FetchRequest {
                market,
                symbol,
                interval,
                start_ms: start,
                end_ms: end,
                source,
            };
            let sink = KlineSink_TO::from_ptr(RMut::new(&mut sink), TD_Opaque);
            (self.provider)()?.fetch(&request, sink)
        } else {
            let request = DataRequest {
                kind: self.kind.id(),
                market,
                symbol,
                interval,
                start_ms: start,
                end_ms: end,
                source,
            };
            let sink = DataSink_TO::from_ptr(RMut::new(&mut sink), TD_Opaque);
            (self.data_provider)()?.fetch_data(&request, sink)
        };
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

    /// Sort, deduplicate and keep the final rows of one period; whether it is to be
    /// cached (complete, not empty, not from the cache already).
    pub(super) fn settle(&self, period: Period, p: i64, buf: &mut PeriodBuf<K::Row>) -> bool {
        let next = period.next(p);
        buf.rows.sort_by_key(K::key);
        buf.rows.dedup_by_key(|r| K::key(r));
        buf.rows.retain(|r| self.kind.is_final(r, self.now));
        let source = buf.source.unwrap_or(Source::Rest);
        let complete = buf.covered.covers(p, next) && self.kind.closed_by(next, self.now);
        self.cache.is_some() && source != Source::Cache && complete && !buf.rows.is_empty()
    }

    /// Take the result of caching a settled period (`stored`: None when it was not to be
    /// cached), trim, report gaps, and hand the period over.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn finish_period(
        &self,
        period: Period,
        p: i64,
        mut buf: PeriodBuf<K::Row>,
        reasons: &Reasons,
        unpublished: bool,
        stored: Option<std::result::Result<(), crate::cache::CacheError>>,
        summary: &mut FetchSummary,
        emit: &mut Emit<'_, K::Row>,
    ) -> Result<()> {
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
        buf.rows.retain(|r| (lo..hi).contains(&K::time(r)));
        let ctx = GapContext {
            now: self.now,
            reasons,
            mode: self.mode,
            unpublished,
            noun: self.kind.noun(),
        };
        let times = buf.rows.iter().map(K::time);
        let gaps = expected_gaps(self.kind.grid(), lo, hi, &buf, times, &ctx);
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
}
