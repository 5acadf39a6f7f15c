//! The sink a plugin pushes into during the failover: validates every row (by its kind's
//! rules) and files it, with what the source covered, under its period. A bad REST batch
//! stops the call; a bad archive batch is refused alone (its range left to REST, or a gap
//! with the reason).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dsm_sdk::{
    DataSink, FundingBatch, KlineBatch, KlineSink, MetricBatch, MissingRange, SinkControl,
    SourceKind, TradeBatch,
};

use super::ranges::RangeSet;
use crate::cache::Period;
use crate::kinds::{Batch, Kind};
use crate::report::Source;
use crate::timeparse::format_time;

/// What one period has received so far.
#[derive(Debug)]
pub struct PeriodBuf<R> {
    pub rows: Vec<R>,
    pub covered: RangeSet,
    pub source: Option<Source>,
}

impl<R> Default for PeriodBuf<R> {
    fn default() -> Self {
        PeriodBuf {
            rows: Vec::new(),
            covered: RangeSet::default(),
            source: None,
        }
    }
}

/// Files batches of one plugin call under their periods.
pub struct ChunkSink<'a, K: Kind> {
    pub kind: &'a K,
    /// The call's range `[start, end)`, for validation.
    pub call: (i64, i64),
    pub period: Period,
    pub periods: &'a mut BTreeMap<i64, PeriodBuf<K::Row>>,
    pub cancel: Arc<AtomicBool>,
    /// Set when the chunk is no longer wanted (an earlier one failed): stop as for a cancel.
    pub stop: &'a AtomicBool,
    /// The whole request `[start, end)`: plugins report progress within their call, the
    /// caller wants it within the request.
    pub whole: (i64, i64),
    pub on_progress: &'a mut dyn FnMut(i64, i64),
    /// The first validation failure of a REST batch; the call is stopped when one occurs.
    pub invalid: Option<String>,
    /// Archive batches that failed validation: their ranges stay uncovered (REST may fill
    /// them) and none of their rows is kept.
    pub refused: Vec<MissingRange>,
}

/// Marks the reason of a refused archive batch (the failover notes it used REST instead).
pub const UNUSABLE_ARCHIVE: &str = "the archive's file is unusable";

impl<K: Kind> ChunkSink<'_, K> {
    /// Every row of the batch is checked before any is filed, so a refused batch leaves
    /// nothing behind.
    fn check(&self, batch: &Batch<K::Row>) -> Result<(), String> {
        // The kind's own loop (candles: one tight pass), then the order of the keys.
        self.kind.check_all(&batch.rows, self.call.0, self.call.1)?;
        let mut prev = i64::MIN;
        for r in &batch.rows {
            if K::key(r) <= prev {
                return Err(format!(
                    "{}s out of order or repeated at {}",
                    self.kind.noun(),
                    format_time(K::time(r))
                ));
            }
            prev = K::key(r);
        }
        Ok(())
    }

    /// The batch's coverage, clipped to the call's range.
    fn covered(&self, batch: &Batch<K::Row>) -> (i64, i64) {
        (
            batch.covered_start_ms.max(self.call.0),
            batch.covered_end_ms.min(self.call.1),
        )
    }

    fn file(&mut self, batch: Batch<K::Row>) {
        let source = if batch.source == SourceKind::ARCHIVE {
            Source::Archive
        } else {
            Source::Rest
        };
        let (start, end) = self.covered(&batch);
        // Rows come in runs of one period: one map lookup per run, not per row.
        let mut rest = batch.rows.into_iter().peekable();
        while let Some(first) = rest.peek() {
            let p = self.period.start_of(K::time(first));
            let next = self.period.next(p);
            let buf = self.periods.entry(p).or_default();
            buf.rows.extend(std::iter::from_fn(|| {
                rest.next_if(|r| (p..next).contains(&K::time(r)))
            }));
            buf.source = Some(source);
        }
        // Split the coverage over the periods it touches.
        let mut p = self.period.start_of(start);
        while p < end {
            let next = self.period.next(p);
            let buf = self.periods.entry(p).or_default();
            buf.covered.add(start.max(p), end.min(next));
            buf.source.get_or_insert(source);
            p = next;
        }
    }

    /// A batch of the right shape for the kind, or the call stops with why.
    fn take(&mut self, batch: Result<Batch<K::Row>, String>) -> SinkControl {
        if self.cancel.load(Ordering::Relaxed) || self.stop.load(Ordering::Relaxed) {
            return SinkControl::STOP;
        }
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                self.invalid = Some(e);
                return SinkControl::STOP;
            }
        };
        let Err(e) = self.check(&batch) else {
            self.file(batch);
            return SinkControl::CONTINUE;
        };
        let range = format!(
            "{} .. {}",
            format_time(batch.covered_start_ms),
            format_time(batch.covered_end_ms)
        );
        if batch.source == SourceKind::ARCHIVE {
            // A file whose checksum matched but whose rows are wrong: not the end of the
            // fetch, only of that file.
            let (start_ms, end_ms) = self.covered(&batch);
            let reason = format!("{UNUSABLE_ARCHIVE} for {range}: {e}");
            // Reported once: as a gap, or as a note when REST fills it.
            tracing::debug!("{reason}");
            self.refused.push(MissingRange {
                start_ms,
                end_ms,
                reason: reason.into(),
            });
            return SinkControl::CONTINUE;
        }
        // Named in the error: the page's range.
        self.invalid = Some(format!("REST batch for {range}: {e}"));
        SinkControl::STOP
    }

    fn report_progress(&mut self, done_ms: i64) {
        let (start, end) = self.whole;
        let done = (self.call.0 - start + done_ms.max(0)).clamp(0, end - start);
        (self.on_progress)(done, end - start);
    }
}

/// Klines come through `Provider::fetch`.
impl<K: Kind> KlineSink for ChunkSink<'_, K> {
    fn push(&mut self, batch: KlineBatch) -> SinkControl {
        let batch = self.kind.take_klines(batch);
        self.take(batch)
    }

    fn progress(&mut self, done_ms: i64, _call_total_ms: i64) {
        self.report_progress(done_ms);
    }
}

/// Every other kind through `Provider::fetch_data`.
impl<K: Kind> DataSink for ChunkSink<'_, K> {
    fn push_klines(&mut self, batch: KlineBatch) -> SinkControl {
        let batch = self.kind.take_klines(batch);
        self.take(batch)
    }

    fn push_funding(&mut self, batch: FundingBatch) -> SinkControl {
        let batch = self.kind.take_funding(batch);
        self.take(batch)
    }

    fn push_trades(&mut self, batch: TradeBatch) -> SinkControl {
        let batch = self.kind.take_trades(batch);
        self.take(batch)
    }

    fn push_metrics(&mut self, batch: MetricBatch) -> SinkControl {
        let batch = self.kind.take_metrics(batch);
        self.take(batch)
    }

    fn progress(&mut self, done_ms: i64, _call_total_ms: i64) {
        self.report_progress(done_ms);
    }
}
