//! Writing record batches of any kind as CSV (header row, integer ms times) or JSON Lines.

use std::io::{self, Write};

use arrow_array::{
    Array, BooleanArray, Float64Array, Int64Array, RecordBatch, TimestampMillisecondArray,
    UInt64Array,
};
use arrow_schema::Schema;
use dsm_sdk::Kline;

/// The Kline field names, in column order.
pub const COLUMNS: [&str; 11] = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base_volume",
    "taker_buy_quote_volume",
];

/// A text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// CSV with a header row.
    Csv,
    /// JSON Lines: one object per candle.
    Jsonl,
}

impl Format {
    /// `csv`, `jsonl` (also `ndjson`).
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// Write candles in `format`; CSV starts with the header row.
pub fn write(out: &mut dyn Write, format: Format, rows: &[Kline]) -> io::Result<()> {
    let batch = crate::columnar::to_record_batch(rows);
    write_header(out, format, &batch.schema())?;
    write_batch(out, format, &batch)?;
    out.flush()
}

/// The CSV header row: the schema's column names (nothing for JSON Lines).
pub fn write_header(out: &mut dyn Write, format: Format, schema: &Schema) -> io::Result<()> {
    match format {
        Format::Csv => {
            let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            writeln!(out, "{}", names.join(","))
        }
        Format::Jsonl => Ok(()),
    }
}

/// One column, downcast once per batch.
enum Col<'a> {
    Bool(&'a BooleanArray),
    Time(&'a TimestampMillisecondArray),
    Float(&'a Float64Array),
    UInt(&'a UInt64Array),
    Int(&'a Int64Array),
}

impl Col<'_> {
    fn of(array: &dyn Array) -> io::Result<Col<'_>> {
        let any = array.as_any();
        let col = any
            .downcast_ref::<TimestampMillisecondArray>()
            .map(Col::Time)
            .or_else(|| any.downcast_ref::<Float64Array>().map(Col::Float))
            .or_else(|| any.downcast_ref::<UInt64Array>().map(Col::UInt))
            .or_else(|| any.downcast_ref::<Int64Array>().map(Col::Int))
            .or_else(|| any.downcast_ref::<BooleanArray>().map(Col::Bool));
        col.ok_or_else(|| io::Error::other(format!("no text form for {}", array.data_type())))
    }

    /// The value as text (times as integer ms, floats as Rust prints them), None for null.
    fn write(&self, out: &mut dyn Write, i: usize) -> io::Result<bool> {
        let null = match self {
            Col::Bool(a) => a.is_null(i),
            Col::Time(a) => a.is_null(i),
            Col::Float(a) => a.is_null(i),
            Col::UInt(a) => a.is_null(i),
            Col::Int(a) => a.is_null(i),
        };
        if null {
            return Ok(false);
        }
        match self {
            Col::Bool(a) => write!(out, "{}", a.value(i))?,
            Col::Time(a) => write!(out, "{}", a.value(i))?,
            Col::Float(a) => write!(out, "{}", a.value(i))?,
            Col::UInt(a) => write!(out, "{}", a.value(i))?,
            Col::Int(a) => write!(out, "{}", a.value(i))?,
        }
        Ok(true)
    }
}

/// Rows of a record batch without a header, for streaming batch after batch: CSV (empty
/// for null) or JSON Lines (null), one line per row.
pub fn write_batch(out: &mut dyn Write, format: Format, batch: &RecordBatch) -> io::Result<()> {
    let schema = batch.schema();
    let cols = batch
        .columns()
        .iter()
        .map(|c| Col::of(c.as_ref()))
        .collect::<io::Result<Vec<_>>>()?;
    let keys: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("\"{}\":", f.name()))
        .collect();
    for i in 0..batch.num_rows() {
        if format == Format::Jsonl {
            out.write_all(b"{")?;
        }
        for (j, col) in cols.iter().enumerate() {
            if j > 0 {
                out.write_all(b",")?;
            }
            if format == Format::Jsonl {
                out.write_all(keys[j].as_bytes())?;
            }
            if !col.write(out, i)? && format == Format::Jsonl {
                out.write_all(b"null")?;
            }
        }
        match format {
            Format::Csv => out.write_all(b"\n")?,
            Format::Jsonl => out.write_all(b"}\n")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k() -> Kline {
        Kline {
            open_time: 1_499_040_000_000,
            open: 0.0163479,
            high: 0.8,
            low: 0.015758,
            close: 0.015771,
            volume: 148_976.114_278_15,
            close_time: 1_499_644_799_999,
            quote_volume: 2434.19055334,
            trades: 308,
            taker_buy_base_volume: 1756.87402397,
            taker_buy_quote_volume: 28.46694368,
        }
    }

    #[test]
    fn csv_has_header_and_exact_values() {
        let mut buf = Vec::new();
        write(&mut buf, Format::Csv, &[k()]).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
        assert_eq!(
            lines.next().unwrap(),
            "1499040000000,0.0163479,0.8,0.015758,0.015771,148976.11427815,1499644799999,2434.19055334,308,1756.87402397,28.46694368"
        );
    }

    #[test]
    fn nulls_are_empty_in_csv_and_null_in_json() {
        use crate::kinds::{Funding, Kind};
        let rows = [dsm_sdk::FundingRate {
            funding_time: 1_570_608_000_000,
            rate: -0.0375,
            mark_price: f64::NAN,
            interval_ms: 0,
        }];
        let batch = Funding.to_batch(Funding.schema(), &rows);
        let mut csv = Vec::new();
        write_header(&mut csv, Format::Csv, &batch.schema()).unwrap();
        write_batch(&mut csv, Format::Csv, &batch).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "funding_time,funding_rate,mark_price,funding_interval_hours\n1570608000000,-0.0375,,\n"
        );
        let mut json = Vec::new();
        write_batch(&mut json, Format::Jsonl, &batch).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["funding_rate"], -0.0375);
        assert!(v["mark_price"].is_null());
    }

    #[test]
    fn jsonl_rows_parse_back() {
        let mut buf = Vec::new();
        write(&mut buf, Format::Jsonl, &[k(), k()]).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.lines().count(), 2);
        let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(v["trades"], 308);
        assert_eq!(v["open"], 0.0163479);
        assert_eq!(v["close_time"], 1_499_644_799_999i64);
    }
}
