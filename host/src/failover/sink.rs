//! The sink a plugin pushes into during the failover: validates every candle and files it,
//! with what the source covered, under its period. A bad REST batch stops the call; a bad
//! archive batch is refused alone (its range left to REST, or a gap with the reason).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dsm_sdk::{Kline, KlineBatch, KlineSink, MissingRange, SinkControl, SourceKind};

use super::ranges::RangeSet;
use crate::cache::Period;
use crate::report::Source;
use crate::request::KlineRequest;
use crate::timeparse::format_time;
use crate::validate::check_kline;

/// What one period has received so far.
#[derive(Debug, Default)]
pub struct PeriodBuf {
    pub rows: Vec<Kline>,
    pub covered: RangeSet,
    pub source: Option<Source>,
}

/// Files batches of one plugin call under their periods.
pub struct ChunkSink<'a> {
    /// The call's range, for validation.
    pub call: &'a KlineRequest,
    pub period: Period,
    pub periods: &'a mut BTreeMap<i64, PeriodBuf>,
    pub cancel: Arc<AtomicBool>,
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

impl ChunkSink<'_> {
    /// Every candle of the batch is checked before any is filed, so a refused batch leaves
    /// nothing behind.
    fn check(&self, batch: &KlineBatch) -> Result<(), String> {
        let mut prev = i64::MIN;
        for k in batch.klines.iter() {
            check_kline(k, self.call.interval, self.call)?;
            if k.open_time <= prev {
                return Err(format!(
                    "candles out of order or repeated at {}",
                    format_time(k.open_time)
                ));
            }
            prev = k.open_time;
        }
        Ok(())
    }

    /// The batch's coverage, clipped to the call's range.
    fn covered(&self, batch: &KlineBatch) -> (i64, i64) {
        (
            batch.covered_start_ms.max(self.call.start_ms),
            batch.covered_end_ms.min(self.call.end_ms),
        )
    }

    fn file(&mut self, batch: KlineBatch) {
        let source = if batch.source == SourceKind::ARCHIVE {
            Source::Archive
        } else {
            Source::Rest
        };
        let (start, end) = self.covered(&batch);
        for k in batch.klines.iter() {
            let buf = self
                .periods
                .entry(self.period.start_of(k.open_time))
                .or_default();
            buf.rows.push(*k);
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
}

impl KlineSink for ChunkSink<'_> {
    fn push(&mut self, batch: KlineBatch) -> SinkControl {
        if self.cancel.load(Ordering::Relaxed) {
            return SinkControl::STOP;
        }
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

    fn progress(&mut self, done_ms: i64, _call_total_ms: i64) {
        let (start, end) = self.whole;
        let done = (self.call.start_ms - start + done_ms.max(0)).clamp(0, end - start);
        (self.on_progress)(done, end - start);
    }
}
