//! The in-order half of a chunk: what the network gave ([`super::fetch`]) settled period
//! by period on the calling thread, cached when complete (on a helper: [`super::writes`]),
//! trimmed and emitted on the calling thread.

use std::sync::atomic::AtomicBool;

use super::fetch::Outcome;
use super::gaps::{expected_gaps, GapContext, Reasons};
use super::sink::PeriodBuf;
use super::writes::{Settled, Stored, Written};
use super::{Emit, Failover, Progress};
use crate::cache::{Period, SeriesKey};
use crate::error::Result;
use crate::kinds::Kind;
use crate::report::{FetchSummary, PeriodData, ServedPeriod, Source, SourceMode};

impl<K: Kind> Failover<'_, K> {
    /// Fetch a chunk on this thread and finish it (its writes not overlapped: a recheck).
    pub(super) fn fetch_chunk(
        &self,
        key: &SeriesKey,
        period: Period,
        starts: &[i64],
        summary: &mut FetchSummary,
        emit: &mut Emit<'_, K::Row>,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let outcome = self.fetch(period, starts, &AtomicBool::new(false), progress);
        let chunk = self.settle_chunk(period, starts, outcome, summary)?;
        let stored = self.write_chunk(key, &chunk);
        self.emit_chunk(period, (chunk, stored), summary, emit)
    }

    /// Settle a fetched chunk period by period; its requests and notes count even when the
    /// fetch failed (a recheck goes on from the cache).
    pub(super) fn settle_chunk(
        &self,
        period: Period,
        starts: &[i64],
        (mut fetched, result): Outcome<K::Row>,
        summary: &mut FetchSummary,
    ) -> Result<Settled<K::Row>> {
        summary.requests += fetched.requests;
        summary.notes.append(&mut fetched.notes);
        result?;
        let mut periods = Vec::with_capacity(starts.len());
        for &p in starts {
            let mut buf = fetched.bufs.remove(&p).unwrap_or_default();
            let cacheable = self.settle(period, p, &mut buf);
            periods.push((p, buf, cacheable));
        }
        Ok(Settled {
            periods,
            reasons: fetched.reasons,
        })
    }

    /// Write a settled chunk's complete periods to the cache, together (their fsyncs
    /// overlap); one result for each.
    pub(super) fn write_chunk(&self, key: &SeriesKey, chunk: &Settled<K::Row>) -> Stored {
        let Some(cache) = self.cache else {
            return Vec::new();
        };
        let todo: Vec<(i64, &[K::Row])> = chunk
            .periods
            .iter()
            .filter(|(_, _, cacheable)| *cacheable)
            .map(|(p, buf, _)| (*p, buf.rows.as_slice()))
            .collect();
        cache.write_many_of(self.kind, key, &todo, self.now)
    }

    /// Trim and emit a settled chunk whose writes are done.
    pub(super) fn emit_chunk(
        &self,
        period: Period,
        (chunk, stored): Written<K::Row>,
        summary: &mut FetchSummary,
        emit: &mut Emit<'_, K::Row>,
    ) -> Result<()> {
        let mut stored = stored.into_iter();
        for (p, buf, cacheable) in chunk.periods {
            let unpublished = self.mode == SourceMode::Archive && p >= period.start_of(self.now);
            let written = if cacheable { stored.next() } else { None };
            self.finish_period(
                period,
                p,
                buf,
                &chunk.reasons,
                unpublished,
                written,
                summary,
                emit,
            )?;
        }
        Ok(())
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
        let times = buf.rows.iter().map(K::time);
        self.add_gaps((lo, hi), &buf, times, reasons, unpublished, summary);
        if buf.rows.is_empty() {
            return Ok(());
        }
        summary.sources.push((p, source));
        emit(ServedPeriod {
            period_start: p,
            source,
            cached,
            data: PeriodData::Rows(buf.rows),
        })
    }

    /// The gaps of `[lo, hi)` of a period whose rows are at `times`.
    pub(super) fn add_gaps(
        &self,
        (lo, hi): (i64, i64),
        buf: &PeriodBuf<K::Row>,
        times: impl Iterator<Item = i64>,
        reasons: &Reasons,
        unpublished: bool,
        summary: &mut FetchSummary,
    ) {
        let ctx = GapContext {
            now: self.now,
            reasons,
            mode: self.mode,
            unpublished,
            noun: self.kind.noun(),
        };
        let gaps = expected_gaps(self.kind.grid(), lo, hi, buf, times, &ctx);
        summary.add_gaps(gaps);
    }
}
