//! Futures positioning (Binance Vision `metrics`): a row every 5 minutes, a day per file;
//! gaps are the 5-minute marks without a row.

use std::sync::{Arc, OnceLock};

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use dsm_sdk::{time::MINUTE_MS, DataKind, Metric, MetricBatch};

use super::{check_schema, Batch, Kind};
use crate::cache::Period;
use crate::columnar::TIMEZONE;
use crate::interval::Interval;
use crate::timeparse::format_time;

/// The value columns, in order after `time`.
pub const VALUES: [&str; 6] = [
    "open_interest",
    "open_interest_value",
    "top_trader_account_ratio",
    "top_trader_position_ratio",
    "account_ratio",
    "taker_buy_sell_ratio",
];

const STEP: Interval = Interval::Fixed(5 * MINUTE_MS);

fn values(m: &Metric) -> [f64; 6] {
    [
        m.open_interest,
        m.open_interest_value,
        m.top_trader_account_ratio,
        m.top_trader_position_ratio,
        m.account_ratio,
        m.taker_buy_sell_ratio,
    ]
}

/// A day per file, as the archive's daily files.
pub const PERIOD: Period = Period::Day;

/// Open interest and long/short ratios of one futures symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Metrics;

impl Kind for Metrics {
    type Row = Metric;

    fn id(&self) -> DataKind {
        DataKind::METRICS
    }

    fn interval_name(&self) -> &str {
        ""
    }

    fn period(&self) -> Period {
        PERIOD
    }

    fn time(row: &Metric) -> i64 {
        row.time
    }

    fn grid(&self) -> Option<Interval> {
        Some(STEP)
    }

    fn is_final(&self, row: &Metric, now: i64) -> bool {
        row.time <= now
    }

    fn closed_by(&self, end: i64, now: i64) -> bool {
        end <= now
    }

    fn check(&self, m: &Metric, start: i64, end: i64) -> Result<(), String> {
        let at = || format_time(m.time);
        if m.time < start || m.time >= end {
            return Err(format!(
                "metrics at {} lie outside the requested range",
                at()
            ));
        }
        if !STEP.is_aligned(m.time) {
            return Err(format!("metrics at {} are not on a 5-minute mark", at()));
        }
        if values(m)
            .iter()
            .any(|v| !(v.is_nan() || (v.is_finite() && *v >= 0.0)))
        {
            return Err(format!(
                "metrics at {} hold a negative or infinite value",
                at()
            ));
        }
        Ok(())
    }

    fn noun(&self) -> &'static str {
        "metrics row"
    }

    fn schema(&self) -> SchemaRef {
        static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
        SCHEMA
            .get_or_init(|| {
                let ts = DataType::Timestamp(TimeUnit::Millisecond, Some(TIMEZONE.into()));
                let mut fields = vec![Field::new("time", ts, false)];
                fields.extend(
                    VALUES
                        .iter()
                        .map(|n| Field::new(*n, DataType::Float64, true)),
                );
                Arc::new(Schema::new(fields))
            })
            .clone()
    }

    fn to_batch(&self, schema: SchemaRef, rows: &[Metric]) -> RecordBatch {
        let time = TimestampMillisecondArray::from_iter_values(rows.iter().map(|m| m.time))
            .with_timezone(TIMEZONE);
        let mut columns: Vec<ArrayRef> = vec![Arc::new(time)];
        for i in 0..VALUES.len() {
            let col: Float64Array = rows
                .iter()
                .map(|m| Some(values(m)[i]).filter(|v| !v.is_nan()))
                .collect();
            columns.push(Arc::new(col));
        }
        RecordBatch::try_new(schema, columns).expect("metric columns match the metric schema")
    }

    fn rows_of(&self, batch: &RecordBatch) -> Result<Vec<Metric>, String> {
        check_schema(&self.schema(), &batch.schema())?;
        let time = batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .ok_or("time has an unexpected type")?;
        let cols: Vec<&Float64Array> = (1..=VALUES.len())
            .map(|i| {
                batch
                    .column(i)
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .ok_or_else(|| format!("column {:?} has an unexpected type", VALUES[i - 1]))
            })
            .collect::<Result<_, _>>()?;
        let v = |c: usize, i: usize| match cols[c].is_null(i) {
            true => f64::NAN,
            false => cols[c].value(i),
        };
        Ok((0..batch.num_rows())
            .map(|i| Metric {
                time: time.value(i),
                open_interest: v(0, i),
                open_interest_value: v(1, i),
                top_trader_account_ratio: v(2, i),
                top_trader_position_ratio: v(3, i),
                account_ratio: v(4, i),
                taker_buy_sell_ratio: v(5, i),
            })
            .collect())
    }

    fn take_metrics(&self, batch: MetricBatch) -> Result<Batch<Metric>, String> {
        let covered = (batch.covered_start_ms, batch.covered_end_ms);
        Ok(Batch::new(batch.rows, batch.source, covered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_empty_values_and_checks_the_grid() {
        let m = Metric {
            time: 5 * MINUTE_MS,
            open_interest: 1893129.089,
            open_interest_value: 4706583953.32646,
            top_trader_account_ratio: 1.91519612,
            top_trader_position_ratio: f64::NAN,
            account_ratio: 1.46745437,
            taker_buy_sell_ratio: 1.087358,
        };
        let back = Metrics
            .rows_of(&Metrics.to_batch(Metrics.schema(), &[m]))
            .unwrap();
        assert_eq!(back[0].open_interest, m.open_interest);
        assert!(back[0].top_trader_position_ratio.is_nan());
        assert_eq!(Metrics.check(&m, 0, 60 * MINUTE_MS), Ok(()));
        let off = Metric {
            time: 6 * MINUTE_MS,
            ..m
        };
        assert!(Metrics
            .check(&off, 0, 60 * MINUTE_MS)
            .unwrap_err()
            .contains("5-minute"));
        let neg = Metric {
            account_ratio: -1.0,
            ..m
        };
        assert!(Metrics.check(&neg, 0, 60 * MINUTE_MS).is_err());
    }
}
