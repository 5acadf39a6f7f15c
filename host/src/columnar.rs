//! Klines as Arrow columns: the one schema shared by the cache files and the Parquet / Arrow
//! outputs, so that pyarrow and polars read every dsm file the same way.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow_array::{
    Array, ArrayRef, Float64Array, RecordBatch, TimestampMillisecondArray, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use dsm_sdk::Kline;

use crate::output::COLUMNS;

/// Timestamps carry the zone so that readers show UTC instead of naive times.
pub const TIMEZONE: &str = "UTC";

fn column_type(name: &str) -> DataType {
    match name {
        "open_time" | "close_time" => {
            DataType::Timestamp(TimeUnit::Millisecond, Some(TIMEZONE.into()))
        }
        "trades" => DataType::UInt64,
        _ => DataType::Float64,
    }
}

/// The kline schema, without metadata: `open_time` and `close_time` timestamp[ms, UTC],
/// `trades` uint64, the rest float64, all non-nullable, in `output::COLUMNS` order.
pub fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let fields: Vec<Field> = COLUMNS
                .iter()
                .map(|name| Field::new(*name, column_type(name), false))
                .collect();
            Arc::new(Schema::new(fields))
        })
        .clone()
}

/// The kline schema with key/value metadata (e.g. provider, market, symbol, interval).
pub fn schema_with_metadata(metadata: HashMap<String, String>) -> SchemaRef {
    Arc::new(schema().as_ref().clone().with_metadata(metadata))
}

/// Kline columns filled batch by batch in one pass over the rows (each row is read once,
/// not once per column), then handed to Arrow without a copy.
#[derive(Default)]
pub struct Columns {
    open_time: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
    close_time: Vec<i64>,
    quote_volume: Vec<f64>,
    trades: Vec<u64>,
    taker_buy_base_volume: Vec<f64>,
    taker_buy_quote_volume: Vec<f64>,
}

impl Columns {
    /// Empty columns with room for `rows` candles.
    pub fn with_capacity(rows: usize) -> Columns {
        use crate::memory::huge_vec;
        Columns {
            open_time: huge_vec(rows),
            open: huge_vec(rows),
            high: huge_vec(rows),
            low: huge_vec(rows),
            close: huge_vec(rows),
            volume: huge_vec(rows),
            close_time: huge_vec(rows),
            quote_volume: huge_vec(rows),
            trades: huge_vec(rows),
            taker_buy_base_volume: huge_vec(rows),
            taker_buy_quote_volume: huge_vec(rows),
        }
    }

    /// Append `rows`: column by column, each a loop of known length without a capacity
    /// check per value (the rows of a period stay in the CPU cache between columns).
    pub fn extend(&mut self, rows: &[Kline]) {
        fn add<T>(col: &mut Vec<T>, rows: &[Kline], value: impl Fn(&Kline) -> T) {
            col.extend(rows.iter().map(value));
        }
        add(&mut self.open_time, rows, |k| k.open_time);
        add(&mut self.open, rows, |k| k.open);
        add(&mut self.high, rows, |k| k.high);
        add(&mut self.low, rows, |k| k.low);
        add(&mut self.close, rows, |k| k.close);
        add(&mut self.volume, rows, |k| k.volume);
        add(&mut self.close_time, rows, |k| k.close_time);
        add(&mut self.quote_volume, rows, |k| k.quote_volume);
        add(&mut self.trades, rows, |k| k.trades);
        add(&mut self.taker_buy_base_volume, rows, |k| {
            k.taker_buy_base_volume
        });
        add(&mut self.taker_buy_quote_volume, rows, |k| {
            k.taker_buy_quote_volume
        });
    }

    /// Append the candles of a record batch of the kline schema (column by column, each a
    /// copy of a slice); the schema is checked first.
    pub fn extend_batch(&mut self, batch: &RecordBatch) -> Result<(), String> {
        let c = KlineColumns::of(batch)?;
        self.open_time.extend_from_slice(c.open_time);
        self.open.extend_from_slice(c.open);
        self.high.extend_from_slice(c.high);
        self.low.extend_from_slice(c.low);
        self.close.extend_from_slice(c.close);
        self.volume.extend_from_slice(c.volume);
        self.close_time.extend_from_slice(c.close_time);
        self.quote_volume.extend_from_slice(c.quote_volume);
        self.trades.extend_from_slice(c.trades);
        self.taker_buy_base_volume
            .extend_from_slice(c.taker_buy_base_volume);
        self.taker_buy_quote_volume
            .extend_from_slice(c.taker_buy_quote_volume);
        Ok(())
    }

    /// The candles so far.
    pub fn len(&self) -> usize {
        self.open_time.len()
    }

    /// No candles.
    pub fn is_empty(&self) -> bool {
        self.open_time.is_empty()
    }

    /// One record batch with `schema`: `schema()` plus metadata, or with other column names
    /// (the types and their order are what counts).
    pub fn finish(self, schema: SchemaRef) -> RecordBatch {
        let times = |v: Vec<i64>| -> ArrayRef {
            Arc::new(TimestampMillisecondArray::from(v).with_timezone(TIMEZONE))
        };
        let floats = |v: Vec<f64>| -> ArrayRef { Arc::new(Float64Array::from(v)) };
        let columns = vec![
            times(self.open_time),
            floats(self.open),
            floats(self.high),
            floats(self.low),
            floats(self.close),
            floats(self.volume),
            times(self.close_time),
            floats(self.quote_volume),
            Arc::new(UInt64Array::from(self.trades)),
            floats(self.taker_buy_base_volume),
            floats(self.taker_buy_quote_volume),
        ];
        // The columns are built to match the schema's types, so this cannot fail.
        RecordBatch::try_new(schema, columns).expect("kline columns match the kline schema")
    }
}

/// Klines as one record batch with `schema()`.
pub fn to_record_batch(rows: &[Kline]) -> RecordBatch {
    to_record_batch_with(schema(), rows)
}

/// Klines as one record batch with `schema`: `schema()` plus metadata, or with other column
/// names (the types and their order are what counts).
pub fn to_record_batch_with(schema: SchemaRef, rows: &[Kline]) -> RecordBatch {
    let mut columns = Columns::with_capacity(rows.len());
    columns.extend(rows);
    columns.finish(schema)
}

/// Whether `schema` has the kline columns with the right names, types and nullability
/// (metadata is not compared).
pub fn check_schema(schema: &Schema) -> Result<(), String> {
    let expected = self::schema();
    if schema.fields().len() != expected.fields().len() {
        return Err(format!(
            "expected {} columns, found {}",
            expected.fields().len(),
            schema.fields().len()
        ));
    }
    for (want, got) in expected.fields().iter().zip(schema.fields().iter()) {
        if want.name() != got.name() || want.data_type() != got.data_type() || got.is_nullable() {
            return Err(format!(
                "column {:?} {} (nullable: {}) where {:?} {} (non-nullable) was expected",
                got.name(),
                got.data_type(),
                got.is_nullable(),
                want.name(),
                want.data_type()
            ));
        }
    }
    Ok(())
}

fn column<T: 'static>(batch: &RecordBatch, i: usize) -> Result<&T, String> {
    let col = batch.column(i);
    if col.null_count() > 0 {
        return Err(format!("column {:?} has nulls", COLUMNS[i]));
    }
    col.as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| format!("column {:?} has an unexpected type", COLUMNS[i]))
}

/// The kline columns of a record batch as slices, each cut to the row count (so that
/// indexing them needs no bounds checks): the rows read where they lie, never copied first.
pub struct KlineColumns<'a> {
    open_time: &'a [i64],
    open: &'a [f64],
    high: &'a [f64],
    low: &'a [f64],
    close: &'a [f64],
    volume: &'a [f64],
    close_time: &'a [i64],
    quote_volume: &'a [f64],
    trades: &'a [u64],
    taker_buy_base_volume: &'a [f64],
    taker_buy_quote_volume: &'a [f64],
}

impl<'a> KlineColumns<'a> {
    /// The columns of `batch`; its schema is checked first.
    pub fn of(batch: &'a RecordBatch) -> Result<KlineColumns<'a>, String> {
        check_schema(&batch.schema())?;
        let n = batch.num_rows();
        let t = |i| column::<TimestampMillisecondArray>(batch, i).map(|a| &a.values()[..n]);
        let f = |i| column::<Float64Array>(batch, i).map(|a| &a.values()[..n]);
        Ok(KlineColumns {
            open_time: t(0)?,
            open: f(1)?,
            high: f(2)?,
            low: f(3)?,
            close: f(4)?,
            volume: f(5)?,
            close_time: t(6)?,
            quote_volume: f(7)?,
            trades: &column::<UInt64Array>(batch, 8)?.values()[..n],
            taker_buy_base_volume: f(9)?,
            taker_buy_quote_volume: f(10)?,
        })
    }

    /// The open times.
    pub fn open_times(&self) -> &'a [i64] {
        self.open_time
    }

    /// Whether every row after the first passes `validate::check_kline_iter`'s fast
    /// test as the one after a good row, `ms` after it (a candle file without holes):
    /// `ms` after the row before, closing `ms - 1` after it, inside `range`, its prices
    /// and volumes sane. Column by column, without stopping early, so that it runs as
    /// vector compares; `false` says only "not shown here" (the row loop then decides).
    pub fn follow_on(&self, ms: i64, range: (i64, i64), signed: bool) -> bool {
        let n = self.open_time.len();
        if n < 2 {
            return true;
        }
        // Zipped slices (no bounds checks) and plain integer or compare ops with no early
        // exit, so that the passes compile to vector code.
        let t = &self.open_time[..n];
        let steps = t[1..]
            .iter()
            .zip(&t[..n - 1])
            .zip(&self.close_time[1..n])
            .fold(0i64, |bad, ((&a, &b), &c)| {
                bad | (a.wrapping_sub(b) ^ ms) | (c.wrapping_sub(a) ^ (ms - 1))
            });
        // Every step is `ms`: the times ascend from t[1] to its last, so the range needs
        // checking at the two ends only (in i128: a wrap past i64::MAX is out of range).
        let last = i128::from(t[1]) + (n as i128 - 2) * i128::from(ms);
        let inside = ms > 0 && t[1] >= range.0 && last < i128::from(range.1);
        // `low <= open, close <= high` with `low >= floor` and `high <= MAX` says all four
        // are finite and at least `floor` (NaN fails every compare).
        let floor = if signed { f64::MIN } else { 0.0 };
        let prices = self.open[1..n]
            .iter()
            .zip(&self.high[1..n])
            .zip(&self.low[1..n])
            .zip(&self.close[1..n])
            .fold(true, |ok, (((&o, &h), &l), &c)| {
                ok & (l <= o) & (l <= c) & (h >= o) & (h >= c) & (l >= floor) & (h <= f64::MAX)
            });
        let volumes = [
            self.volume,
            self.quote_volume,
            self.taker_buy_base_volume,
            self.taker_buy_quote_volume,
        ]
        .iter()
        .all(|v| {
            v[1..n]
                .iter()
                .fold(true, |ok, &x| ok & (0.0..=f64::MAX).contains(&x))
        });
        steps == 0 && inside && prices && volumes
    }

    /// The first row.
    pub fn first(&self) -> Option<Kline> {
        (!self.open_time.is_empty()).then(|| self.row(0))
    }

    /// The rows, one at a time, built from the columns where they lie.
    pub fn rows(&self) -> impl Iterator<Item = Kline> + '_ {
        (0..self.open_time.len()).map(|i| self.row(i))
    }

    #[inline]
    fn row(&self, i: usize) -> Kline {
        Kline {
            open_time: self.open_time[i],
            open: self.open[i],
            high: self.high[i],
            low: self.low[i],
            close: self.close[i],
            volume: self.volume[i],
            close_time: self.close_time[i],
            quote_volume: self.quote_volume[i],
            trades: self.trades[i],
            taker_buy_base_volume: self.taker_buy_base_volume[i],
            taker_buy_quote_volume: self.taker_buy_quote_volume[i],
        }
    }
}

/// Klines from a record batch; the schema is checked first.
pub fn from_record_batch(batch: &RecordBatch) -> Result<Vec<Kline>, String> {
    let mut rows = Vec::with_capacity(batch.num_rows());
    extend_rows(batch, &mut rows)?;
    Ok(rows)
}

/// Append the klines of a record batch to `rows` (one copy, straight from the columns);
/// the schema is checked first.
pub fn extend_rows(batch: &RecordBatch, rows: &mut Vec<Kline>) -> Result<(), String> {
    let columns = KlineColumns::of(batch)?;
    rows.extend(columns.rows());
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `n` distinct candles of `step_ms` from `start`.
    pub(crate) fn sample(start: i64, step_ms: i64, n: usize) -> Vec<Kline> {
        (0..n)
            .map(|i| {
                let x = i as f64;
                Kline {
                    open_time: start + i as i64 * step_ms,
                    open: 100.0 + x,
                    high: 101.5 + x,
                    low: 99.25 + x,
                    close: 100.5 + x,
                    volume: 3.0 + x / 7.0,
                    close_time: start + (i as i64 + 1) * step_ms - 1,
                    quote_volume: 300.0 + x,
                    trades: i as u64 * 3,
                    taker_buy_base_volume: 1.0 + x / 9.0,
                    taker_buy_quote_volume: 100.0 + x / 3.0,
                }
            })
            .collect()
    }

    #[test]
    fn round_trips_through_a_record_batch() {
        let rows = sample(1_700_000_000_000, 60_000, 50);
        let batch = to_record_batch(&rows);
        assert_eq!(batch.num_rows(), 50);
        assert_eq!(from_record_batch(&batch).unwrap(), rows);
        assert!(from_record_batch(&to_record_batch(&[])).unwrap().is_empty());
    }

    #[test]
    fn columns_filled_in_parts_make_the_same_batch() {
        let rows = sample(1_700_000_000_000, 60_000, 50);
        let mut columns = Columns::with_capacity(10);
        columns.extend(&rows[..7]);
        columns.extend(&[]);
        columns.extend(&rows[7..]);
        assert_eq!(columns.len(), 50);
        assert_eq!(from_record_batch(&columns.finish(schema())).unwrap(), rows);
    }

    #[test]
    fn columns_extended_from_batches_and_slices_make_the_same_rows() {
        let rows = sample(1_700_000_000_000, 60_000, 50);
        let batch = to_record_batch(&rows);
        let mut columns = Columns::with_capacity(0);
        columns.extend_batch(&batch.slice(0, 20)).unwrap();
        columns.extend_batch(&batch.slice(20, 30)).unwrap();
        assert_eq!(from_record_batch(&columns.finish(schema())).unwrap(), rows);
        let mut out = rows[..3].to_vec();
        extend_rows(&batch.slice(3, 47), &mut out).unwrap();
        assert_eq!(out, rows);
    }

    #[test]
    fn rejects_a_different_schema() {
        let other = Schema::new(vec![Field::new("open_time", DataType::Int64, false)]);
        assert!(check_schema(&other).is_err());
        let mut fields: Vec<Field> = schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields[0] = Field::new(
            "open_time",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            false,
        );
        assert!(check_schema(&Schema::new(fields)).is_err());
    }
}
