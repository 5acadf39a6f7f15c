//! Funding rates of perpetual futures: rows at settlement times, no grid (intervals change
//! per symbol over time and stamps jitter by milliseconds), a month per cache file (the
//! archive publishes monthly files).

use std::sync::{Arc, OnceLock};

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use dsm_sdk::{time::HOUR_MS, time::MINUTE_MS, DataKind, FundingBatch, FundingRate};

use super::{check_schema, Batch, Kind};
use crate::cache::Period;
use crate::columnar::TIMEZONE;
use crate::interval::Interval;
use crate::timeparse::format_time;

/// The column names, in order.
pub const COLUMNS: [&str; 4] = [
    "funding_time",
    "funding_rate",
    "mark_price",
    "funding_interval_hours",
];

/// A month per file: the archive publishes monthly files.
pub const PERIOD: Period = Period::Month;

/// Funding rate history of one perpetual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Funding;

impl Kind for Funding {
    type Row = FundingRate;

    fn id(&self) -> DataKind {
        DataKind::FUNDING
    }

    fn interval_name(&self) -> &str {
        ""
    }

    fn period(&self) -> Period {
        PERIOD
    }

    fn time(row: &FundingRate) -> i64 {
        row.funding_time
    }

    fn grid(&self) -> Option<Interval> {
        None
    }

    fn is_final(&self, row: &FundingRate, now: i64) -> bool {
        row.funding_time <= now
    }

    fn closed_by(&self, end: i64, now: i64) -> bool {
        end <= now
    }

    fn check(&self, r: &FundingRate, start: i64, end: i64) -> Result<(), String> {
        let at = || format_time(r.funding_time);
        if r.funding_time < start || r.funding_time >= end {
            return Err(format!(
                "funding rate at {} lies outside the requested range",
                at()
            ));
        }
        // A rate is a fraction per interval: even the most extreme are a few percent.
        if !r.rate.is_finite() || r.rate.abs() >= 1.0 {
            return Err(format!(
                "funding rate at {} is {} (not a rate)",
                at(),
                r.rate
            ));
        }
        let mark_ok = r.mark_price.is_nan() || (r.mark_price.is_finite() && r.mark_price > 0.0);
        if !mark_ok {
            return Err(format!(
                "funding rate at {} has mark price {}",
                at(),
                r.mark_price
            ));
        }
        if r.interval_ms < 0 || r.interval_ms % MINUTE_MS != 0 {
            return Err(format!(
                "funding rate at {} states an interval of {} ms",
                at(),
                r.interval_ms
            ));
        }
        Ok(())
    }

    fn noun(&self) -> &'static str {
        "funding rate"
    }

    fn schema(&self) -> SchemaRef {
        static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
        SCHEMA
            .get_or_init(|| {
                let ts = DataType::Timestamp(TimeUnit::Millisecond, Some(TIMEZONE.into()));
                Arc::new(Schema::new(vec![
                    Field::new(COLUMNS[0], ts, false),
                    Field::new(COLUMNS[1], DataType::Float64, false),
                    Field::new(COLUMNS[2], DataType::Float64, true),
                    Field::new(COLUMNS[3], DataType::Float64, true),
                ]))
            })
            .clone()
    }

    fn to_batch(&self, schema: SchemaRef, rows: &[FundingRate]) -> RecordBatch {
        let times =
            TimestampMillisecondArray::from_iter_values(rows.iter().map(|r| r.funding_time))
                .with_timezone(TIMEZONE);
        let rates = Float64Array::from_iter_values(rows.iter().map(|r| r.rate));
        let marks: Float64Array = rows
            .iter()
            .map(|r| (!r.mark_price.is_nan()).then_some(r.mark_price))
            .collect();
        let hours: Float64Array = rows
            .iter()
            .map(|r| (r.interval_ms > 0).then(|| r.interval_ms as f64 / HOUR_MS as f64))
            .collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(times),
            Arc::new(rates),
            Arc::new(marks),
            Arc::new(hours),
        ];
        RecordBatch::try_new(schema, columns).expect("funding columns match the funding schema")
    }

    fn rows_of(&self, batch: &RecordBatch) -> Result<Vec<FundingRate>, String> {
        check_schema(&self.schema(), &batch.schema())?;
        let col = |i: usize| batch.column(i);
        let times = col(0)
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .ok_or("funding_time has an unexpected type")?;
        let f = |i: usize| {
            col(i)
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| format!("column {:?} has an unexpected type", COLUMNS[i]))
        };
        let (rates, marks, hours) = (f(1)?, f(2)?, f(3)?);
        if times.null_count() + rates.null_count() > 0 {
            return Err("funding_time or funding_rate has nulls".into());
        }
        Ok((0..batch.num_rows())
            .map(|i| FundingRate {
                funding_time: times.value(i),
                rate: rates.value(i),
                mark_price: if marks.is_null(i) {
                    f64::NAN
                } else {
                    marks.value(i)
                },
                interval_ms: if hours.is_null(i) {
                    0
                } else {
                    (hours.value(i) * HOUR_MS as f64).round() as i64
                },
            })
            .collect())
    }

    fn take_funding(&self, batch: FundingBatch) -> Result<Batch<FundingRate>, String> {
        let covered = (batch.covered_start_ms, batch.covered_end_ms);
        Ok(Batch::new(batch.rows, batch.source, covered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(t: i64) -> FundingRate {
        FundingRate {
            funding_time: t,
            rate: -0.0001,
            mark_price: f64::NAN,
            interval_ms: 8 * HOUR_MS,
        }
    }

    #[test]
    fn round_trips_with_absent_mark_prices_and_intervals() {
        let rows = vec![
            rate(1),
            FundingRate {
                mark_price: 34287.5,
                interval_ms: 0,
                ..rate(8 * HOUR_MS + 3)
            },
        ];
        let batch = Funding.to_batch(Funding.schema(), &rows);
        let back = Funding.rows_of(&batch).unwrap();
        assert_eq!(back.len(), 2);
        assert!(back[0].mark_price.is_nan());
        assert_eq!(back[0].interval_ms, 8 * HOUR_MS);
        assert_eq!(back[1], rows[1]);
    }

    #[test]
    fn rejects_what_is_not_a_funding_rate() {
        let range = (0, 100 * HOUR_MS);
        assert_eq!(Funding.check(&rate(5), range.0, range.1), Ok(()));
        let bad = [
            (
                FundingRate {
                    rate: f64::NAN,
                    ..rate(5)
                },
                "not a rate",
            ),
            (
                FundingRate {
                    rate: 3.0,
                    ..rate(5)
                },
                "not a rate",
            ),
            (
                FundingRate {
                    mark_price: -1.0,
                    ..rate(5)
                },
                "mark price",
            ),
            (
                FundingRate {
                    interval_ms: 5,
                    ..rate(5)
                },
                "interval",
            ),
            (rate(200 * HOUR_MS), "outside"),
        ];
        for (r, why) in bad {
            let e = Funding.check(&r, range.0, range.1).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
    }
}
