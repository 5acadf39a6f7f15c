//! Trades and aggregated trades: ordered and unique by id (many share a millisecond), no
//! grid (gaps are only ranges no source covered), a day per file and per plugin call so a
//! busy symbol's rows stay bounded by a day.

use std::sync::{Arc, OnceLock};

use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, TimestampMillisecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use dsm_sdk::{DataKind, Trade, TradeBatch};

use super::{check_schema, Batch, Kind};
use crate::cache::Period;
use crate::columnar::TIMEZONE;
use crate::interval::Interval;
use crate::timeparse::format_time;

/// A day per file and per call.
pub const PERIOD: Period = Period::Day;

/// The most rows a day's file is expected to hold: several times the busiest days of
/// BTCUSDT spot raw trades Binance has published (tens of millions).
pub const MAX_ROWS_PER_DAY: u64 = 100_000_000;

/// Bytes a row takes in a cache file, at most: an aggregated trade is seven 8-byte columns
/// and two bits, a trade five and two bits (the test measures it).
pub const MAX_BYTES_PER_ROW: u64 = 64;

/// The largest day file read (~6.4 GB): far over the 256 MiB of other kinds, which holds
/// only about 4.6 million trades (a busy day). Memory is bounded per record batch, not by
/// this, on disk; object storage hands a file over whole.
pub const MAX_FILE_BYTES: u64 = MAX_ROWS_PER_DAY * MAX_BYTES_PER_ROW;

/// Trades (`TRADES`) or aggregated trades (`AGG_TRADES`) of one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trades {
    kind: DataKind,
}

impl Trades {
    /// `kind` is `TRADES` or `AGG_TRADES`.
    pub fn new(kind: DataKind) -> Trades {
        debug_assert!(matches!(kind, DataKind::TRADES | DataKind::AGG_TRADES));
        Trades { kind }
    }

    fn aggregated(&self) -> bool {
        self.kind == DataKind::AGG_TRADES
    }
}

impl Kind for Trades {
    type Row = Trade;

    fn id(&self) -> DataKind {
        self.kind
    }

    fn interval_name(&self) -> &str {
        ""
    }

    fn period(&self) -> Period {
        PERIOD
    }

    fn time(row: &Trade) -> i64 {
        row.time
    }

    fn key(row: &Trade) -> i64 {
        row.id
    }

    fn periods_per_call(&self) -> Option<usize> {
        Some(1)
    }

    fn grid(&self) -> Option<Interval> {
        None
    }

    fn is_final(&self, row: &Trade, now: i64) -> bool {
        row.time < now
    }

    fn closed_by(&self, end: i64, now: i64) -> bool {
        end <= now
    }

    fn check(&self, t: &Trade, start: i64, end: i64) -> Result<(), String> {
        let at = || format!("trade {} at {}", t.id, format_time(t.time));
        if t.time < start || t.time >= end {
            return Err(format!("{} lies outside the requested range", at()));
        }
        if t.id < 0 {
            return Err(format!("{} has a negative id", at()));
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(positive(t.price) && positive(t.qty)) {
            return Err(format!(
                "{} has price {} and quantity {}",
                at(),
                t.price,
                t.qty
            ));
        }
        if !(t.quote_qty.is_nan() || (t.quote_qty.is_finite() && t.quote_qty >= 0.0)) {
            return Err(format!("{} has quote quantity {}", at(), t.quote_qty));
        }
        let ids_ok = match self.aggregated() {
            true => 0 <= t.first_id && t.first_id <= t.last_id,
            false => t.first_id == -1 && t.last_id == -1,
        };
        if !ids_ok {
            return Err(format!(
                "{} has first/last trade ids {}/{}",
                at(),
                t.first_id,
                t.last_id
            ));
        }
        if t.buyer_maker > 1 || t.best_match > 2 {
            return Err(format!(
                "{} has flags {}/{}",
                at(),
                t.buyer_maker,
                t.best_match
            ));
        }
        Ok(())
    }

    fn noun(&self) -> &'static str {
        "trade"
    }

    fn schema(&self) -> SchemaRef {
        static TRADES: OnceLock<SchemaRef> = OnceLock::new();
        static AGG: OnceLock<SchemaRef> = OnceLock::new();
        let cell = if self.aggregated() { &AGG } else { &TRADES };
        let agg = self.aggregated();
        cell.get_or_init(|| {
            let ts = DataType::Timestamp(TimeUnit::Millisecond, Some(TIMEZONE.into()));
            let mut fields = vec![
                Field::new("id", DataType::Int64, false),
                Field::new("time", ts, false),
                Field::new("price", DataType::Float64, false),
                Field::new("qty", DataType::Float64, false),
                Field::new("quote_qty", DataType::Float64, true),
            ];
            if agg {
                fields.push(Field::new("first_trade_id", DataType::Int64, false));
                fields.push(Field::new("last_trade_id", DataType::Int64, false));
            }
            fields.push(Field::new("is_buyer_maker", DataType::Boolean, false));
            fields.push(Field::new("is_best_match", DataType::Boolean, true));
            Arc::new(Schema::new(fields))
        })
        .clone()
    }

    fn to_batch(&self, schema: SchemaRef, rows: &[Trade]) -> RecordBatch {
        let ints = |f: fn(&Trade) -> i64| -> ArrayRef {
            Arc::new(Int64Array::from_iter_values(rows.iter().map(f)))
        };
        let floats = |f: fn(&Trade) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(rows.iter().map(f)))
        };
        let time = TimestampMillisecondArray::from_iter_values(rows.iter().map(|t| t.time))
            .with_timezone(TIMEZONE);
        let quote: Float64Array = rows
            .iter()
            .map(|t| (!t.quote_qty.is_nan()).then_some(t.quote_qty))
            .collect();
        let mut columns: Vec<ArrayRef> = vec![
            ints(|t| t.id),
            Arc::new(time),
            floats(|t| t.price),
            floats(|t| t.qty),
            Arc::new(quote),
        ];
        if self.aggregated() {
            columns.push(ints(|t| t.first_id));
            columns.push(ints(|t| t.last_id));
        }
        let maker: BooleanArray = rows.iter().map(|t| Some(t.buyer_maker == 1)).collect();
        let best: BooleanArray = rows
            .iter()
            .map(|t| (t.best_match < 2).then_some(t.best_match == 1))
            .collect();
        columns.push(Arc::new(maker));
        columns.push(Arc::new(best));
        RecordBatch::try_new(schema, columns).expect("trade columns match the trade schema")
    }

    fn rows_of(&self, batch: &RecordBatch) -> Result<Vec<Trade>, String> {
        check_schema(&self.schema(), &batch.schema())?;
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| format!("no column {name:?}"))
        };
        fn cast<'a, T: 'static>(a: &'a ArrayRef, name: &str) -> Result<&'a T, String> {
            a.as_any()
                .downcast_ref::<T>()
                .ok_or_else(|| format!("column {name:?} has an unexpected type"))
        }
        let id = col("id")?;
        let id = cast::<Int64Array>(id, "id")?;
        let time = col("time")?;
        let time = cast::<TimestampMillisecondArray>(time, "time")?;
        let (price, qty, quote) = (col("price")?, col("qty")?, col("quote_qty")?);
        let price = cast::<Float64Array>(price, "price")?;
        let qty = cast::<Float64Array>(qty, "qty")?;
        let quote = cast::<Float64Array>(quote, "quote_qty")?;
        let (maker, best) = (col("is_buyer_maker")?, col("is_best_match")?);
        let maker = cast::<BooleanArray>(maker, "is_buyer_maker")?;
        let best = cast::<BooleanArray>(best, "is_best_match")?;
        let ids = match self.aggregated() {
            true => {
                let (f, l) = (col("first_trade_id")?, col("last_trade_id")?);
                let f = cast::<Int64Array>(f, "first_trade_id")?.clone();
                let l = cast::<Int64Array>(l, "last_trade_id")?.clone();
                Some((f, l))
            }
            false => None,
        };
        Ok((0..batch.num_rows())
            .map(|i| Trade {
                id: id.value(i),
                time: time.value(i),
                price: price.value(i),
                qty: qty.value(i),
                quote_qty: if quote.is_null(i) {
                    f64::NAN
                } else {
                    quote.value(i)
                },
                first_id: ids.as_ref().map_or(-1, |(f, _)| f.value(i)),
                last_id: ids.as_ref().map_or(-1, |(_, l)| l.value(i)),
                buyer_maker: u8::from(maker.value(i)),
                best_match: if best.is_null(i) {
                    2
                } else {
                    u8::from(best.value(i))
                },
            })
            .collect())
    }

    fn take_trades(&self, batch: TradeBatch) -> Result<Batch<Trade>, String> {
        let covered = (batch.covered_start_ms, batch.covered_end_ms);
        Ok(Batch::new(batch.rows, batch.source, covered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agg(id: i64, time: i64) -> Trade {
        Trade {
            id,
            time,
            price: 0.00000908,
            qty: 3591711.0,
            quote_qty: f64::NAN,
            first_id: id * 2,
            last_id: id * 2 + 1,
            buyer_maker: 0,
            best_match: 1,
        }
    }

    #[test]
    fn round_trips_both_kinds() {
        let kind = Trades::new(DataKind::AGG_TRADES);
        let rows = vec![agg(1, 5), agg(2, 5)];
        let back = kind.rows_of(&kind.to_batch(kind.schema(), &rows)).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!((back[1].first_id, back[1].last_id), (4, 5));
        assert!(back[0].quote_qty.is_nan());
        let plain = Trades::new(DataKind::TRADES);
        let t = Trade {
            first_id: -1,
            last_id: -1,
            quote_qty: 12.5,
            best_match: 2,
            ..agg(7, 9)
        };
        let back = plain
            .rows_of(&plain.to_batch(plain.schema(), &[t]))
            .unwrap();
        assert_eq!(back, [t]);
    }

    #[test]
    fn refuses_what_is_not_a_trade() {
        let kind = Trades::new(DataKind::AGG_TRADES);
        assert_eq!(kind.check(&agg(1, 5), 0, 10), Ok(()));
        let bad = [
            (
                Trade {
                    price: 0.0,
                    ..agg(1, 5)
                },
                "price",
            ),
            (
                Trade {
                    first_id: -1,
                    last_id: -1,
                    ..agg(1, 5)
                },
                "first/last",
            ),
            (
                Trade {
                    buyer_maker: 3,
                    ..agg(1, 5)
                },
                "flags",
            ),
            (agg(1, 50), "outside"),
        ];
        for (t, why) in bad {
            let e = kind.check(&t, 0, 10).unwrap_err();
            assert!(e.contains(why), "{e}");
        }
        let plain = Trades::new(DataKind::TRADES);
        assert!(
            plain.check(&agg(1, 5), 0, 10).is_err(),
            "plain trades have no ids range"
        );
    }
}
