//! Writing klines as CSV (header row, integer ms times) or JSON Lines.

use std::io::{self, Write};

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

/// Write `rows` in `format`; CSV starts with the header row.
pub fn write(out: &mut dyn Write, format: Format, rows: &[Kline]) -> io::Result<()> {
    write_header(out, format)?;
    write_rows(out, format, rows)?;
    out.flush()
}

/// The CSV header row (nothing for JSON Lines).
pub fn write_header(out: &mut dyn Write, format: Format) -> io::Result<()> {
    match format {
        Format::Csv => writeln!(out, "{}", COLUMNS.join(",")),
        Format::Jsonl => Ok(()),
    }
}

/// Rows without a header, for streaming batch after batch.
pub fn write_rows(out: &mut dyn Write, format: Format, rows: &[Kline]) -> io::Result<()> {
    for k in rows {
        match format {
            Format::Csv => write_csv_row(out, k)?,
            Format::Jsonl => write_json_row(out, k)?,
        }
    }
    Ok(())
}

fn write_csv_row(out: &mut dyn Write, k: &Kline) -> io::Result<()> {
    writeln!(
        out,
        "{},{},{},{},{},{},{},{},{},{},{}",
        k.open_time,
        k.open,
        k.high,
        k.low,
        k.close,
        k.volume,
        k.close_time,
        k.quote_volume,
        k.trades,
        k.taker_buy_base_volume,
        k.taker_buy_quote_volume
    )
}

fn write_json_row(out: &mut dyn Write, k: &Kline) -> io::Result<()> {
    writeln!(
        out,
        "{{\"open_time\":{},\"open\":{},\"high\":{},\"low\":{},\"close\":{},\"volume\":{},\
         \"close_time\":{},\"quote_volume\":{},\"trades\":{},\"taker_buy_base_volume\":{},\
         \"taker_buy_quote_volume\":{}}}",
        k.open_time,
        k.open,
        k.high,
        k.low,
        k.close,
        k.volume,
        k.close_time,
        k.quote_volume,
        k.trades,
        k.taker_buy_base_volume,
        k.taker_buy_quote_volume
    )
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
