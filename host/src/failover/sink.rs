//! The sink a plugin pushes into during the failover: validates every candle and files it,
//! with what the source covered, under its period.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use dsm_sdk::{Kline, KlineBatch, KlineSink, SinkControl, SourceKind};

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
    /// The first validation failure; the call is stopped when one occurs.
    pub invalid: Option<String>,
}

impl ChunkSink<'_> {
    fn accept(&mut self, batch: KlineBatch) -> Result<(), String> {
        let source = if batch.source == SourceKind::ARCHIVE {
            Source::Archive
        } else {
            Source::Rest
        };
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
            let buf = self
                .periods
                .entry(self.period.start_of(k.open_time))
                .or_default();
            buf.rows.push(*k);
            buf.source = Some(source);
        }
        // Split the coverage over the periods it touches.
        let (start, end) = (
            batch.covered_start_ms.max(self.call.start_ms),
            batch.covered_end_ms.min(self.call.end_ms),
        );
        let mut p = self.period.start_of(start);
        while p < end {
            let next = self.period.next(p);
            let buf = self.periods.entry(p).or_default();
            buf.covered.add(start.max(p), end.min(next));
            buf.source.get_or_insert(source);
            p = next;
        }
        Ok(())
    }
}

impl KlineSink for ChunkSink<'_> {
    fn push(&mut self, batch: KlineBatch) -> SinkControl {
        if self.cancel.load(Ordering::Relaxed) {
            return SinkControl::STOP;
        }
        // Named in the error: which source sent the bad batch, and for which range.
        let what = format!(
            "{} batch for {} .. {}",
            if batch.source == SourceKind::ARCHIVE {
                "archive"
            } else {
                "REST"
            },
            format_time(batch.covered_start_ms),
            format_time(batch.covered_end_ms)
        );
        match self.accept(batch) {
            Ok(()) => SinkControl::CONTINUE,
            Err(e) => {
                self.invalid = Some(format!("{what}: {e}"));
                SinkControl::STOP
            }
        }
    }

    fn progress(&mut self, done_ms: i64, _call_total_ms: i64) {
        let (start, end) = self.whole;
        let done = (self.call.start_ms - start + done_ms.max(0)).clamp(0, end - start);
        (self.on_progress)(done, end - start);
    }
}
