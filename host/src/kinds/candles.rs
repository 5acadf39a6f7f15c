//! Candle-shaped kinds: klines, and mark, index and premium-index candles (the same rows,
//! only OHLC meaningful for the last three; premium OHLC are signed fractions).

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use dsm_sdk::{DataKind, Kline, KlineBatch};

use super::{Batch, Kind};
use crate::cache::Period;
use crate::columnar::{self, KlineColumns};
use crate::interval::Interval;
use crate::validate::{check_kline, check_kline_iter, check_klines};

/// Candles of one kind at one interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Candles {
    kind: DataKind,
    interval: Interval,
    name: String,
}

impl Candles {
    /// Candles of `kind` (a candle-shaped kind) at `interval`.
    pub fn new(kind: DataKind, interval: Interval) -> Candles {
        debug_assert!(kind.has_interval());
        Candles {
            kind,
            interval,
            name: interval.to_string(),
        }
    }

    /// Exchange klines at `interval`.
    pub fn klines(interval: Interval) -> Candles {
        Candles::new(DataKind::KLINES, interval)
    }

    /// The interval.
    pub fn interval(&self) -> Interval {
        self.interval
    }
}

impl Kind for Candles {
    type Row = Kline;

    fn id(&self) -> DataKind {
        self.kind
    }

    fn interval_name(&self) -> &str {
        &self.name
    }

    fn period(&self) -> Period {
        Period::for_interval(self.interval)
    }

    fn time(row: &Kline) -> i64 {
        row.open_time
    }

    fn grid(&self) -> Option<Interval> {
        Some(self.interval)
    }

    /// A day of 1s candles (86,400 rows) per call; longer intervals in the usual chunks.
    fn periods_per_call(&self) -> Option<usize> {
        match self.interval {
            Interval::Fixed(ms) if ms < crate::interval::MINUTE => Some(1),
            _ => None,
        }
    }

    /// One candle per interval: known exactly, so candle chunks may be fetched ahead.
    fn rows_per_period(&self) -> Option<u64> {
        let period_ms = match self.period() {
            Period::Day => dsm_sdk::time::DAY_MS,
            Period::Month => 31 * dsm_sdk::time::DAY_MS,
        };
        Some(match self.interval {
            Interval::Fixed(ms) => (period_ms / ms.max(1)).max(1) as u64,
            Interval::Months(_) => 1,
        })
    }

    fn is_final(&self, row: &Kline, now: i64) -> bool {
        self.interval.next(row.open_time) <= now
    }

    fn closed_by(&self, end: i64, now: i64) -> bool {
        let iv = self.interval;
        iv.next(iv.floor(end - 1)) <= now
    }

    fn check(&self, row: &Kline, start: i64, end: i64) -> Result<(), String> {
        let signed = self.kind == DataKind::PREMIUM;
        check_kline(row, self.interval, (start, end), signed)
    }

    fn check_all(&self, rows: &[Kline], start: i64, end: i64) -> Result<(), String> {
        let signed = self.kind == DataKind::PREMIUM;
        check_klines(rows, self.interval, (start, end), signed)
    }

    fn noun(&self) -> &'static str {
        "candle"
    }

    fn schema(&self) -> SchemaRef {
        columnar::schema()
    }

    fn to_batch(&self, schema: SchemaRef, rows: &[Kline]) -> RecordBatch {
        columnar::to_record_batch_with(schema, rows)
    }

    fn rows_of(&self, batch: &RecordBatch) -> Result<Vec<Kline>, String> {
        columnar::from_record_batch(batch)
    }

    fn has_columns(&self) -> bool {
        true
    }

    fn times_of<'b>(&self, batch: &'b RecordBatch) -> Result<&'b [i64], String> {
        Ok(KlineColumns::of(batch)?.open_times())
    }

    fn check_batch(&self, batch: &RecordBatch, start: i64, end: i64) -> Result<(), String> {
        let signed = self.kind == DataKind::PREMIUM;
        let columns = KlineColumns::of(batch)?;
        // A good first row and every other one following on from it (a complete file):
        // what the row loop would find, in a pass over the columns; anything else, the
        // row loop decides and says why.
        if let (Interval::Fixed(ms), Some(first)) = (self.interval, columns.first()) {
            let range = (start, end);
            if check_kline(&first, self.interval, range, signed).is_ok()
                && columns.follow_on(ms, range, signed)
            {
                return Ok(());
            }
        }
        check_kline_iter(columns.rows(), self.interval, (start, end), signed)
    }

    fn extend_rows(&self, batch: &RecordBatch, out: &mut Vec<Kline>) -> Result<(), String> {
        columnar::extend_rows(batch, out)
    }

    fn take_klines(&self, batch: KlineBatch) -> Result<Batch<Kline>, String> {
        let covered = (batch.covered_start_ms, batch.covered_end_ms);
        Ok(Batch::new(batch.klines, batch.source, covered))
    }
}
