//! Vision kline CSV rows to [`Kline`]s.
//!
//! 12 columns, in the same positions as the REST rows (see `rows.rs`: on COIN-M columns 5,
//! 7, 9 and 10 mean contracts / base asset, and keep their position in `Kline`). A header
//! row (futures files from ~2022 on) is recognised by content: a first field that is not a
//! number. Times in microseconds (spot from 2025 on) are told by magnitude, per value, and
//! converted to milliseconds. A one-line file (1d) and a missing trailing newline are fine.
//! Mark, index and premium index files (`ohlc_only`): the volume cells are not read (0).

use std::io::BufRead;

use dsm_plugin_kit::csv::{for_each_line, is_header, leading_fields};
use dsm_plugin_kit::number;
use dsm_plugin_kit::parse::{context, decimal, epoch_to_ms, integer, unsigned};
use dsm_sdk::{Kline, ProviderError};

/// Column 11 ("ignore") is not read; a row needs the first 11.
const COLUMNS: usize = 11;

/// One CSV row as a candle; `ohlc_only`: the volume cells are not read (set to 0).
pub fn parse_row(line: &str, ohlc_only: bool) -> Result<Kline, ProviderError> {
    match plain_row(line.as_bytes(), ohlc_only) {
        Some(k) => Ok(k),
        None => careful_row(line, ohlc_only),
    }
}

/// The row in one pass over its bytes when every cell read has the plain form Binance
/// writes (see `dsm_plugin_kit::number`: the same values `str::parse` gives); None for
/// anything else (a header, spaces, an exponent, too few cells), which [`careful_row`]
/// parses or explains.
fn plain_row(line: &[u8], ohlc_only: bool) -> Option<Kline> {
    let mut cells = Cells { line, at: 0 };
    let open_time = epoch_to_ms(cells.integer()?);
    let open = cells.decimal()?;
    let high = cells.decimal()?;
    let low = cells.decimal()?;
    let close = cells.decimal()?;
    let volume = cells.volume(ohlc_only)?;
    let close_time = epoch_to_ms(cells.integer()?);
    let quote_volume = cells.volume(ohlc_only)?;
    let trades = cells.unsigned()?;
    let taker_buy_base_volume = cells.volume(ohlc_only)?;
    let taker_buy_quote_volume = cells.volume(ohlc_only)?;
    // Column 10 was the last read: what follows it (column 11, "ignore") is not.
    Some(Kline {
        open_time,
        open,
        high,
        low,
        close,
        volume,
        close_time,
        quote_volume,
        trades,
        taker_buy_base_volume,
        taker_buy_quote_volume,
    })
}

/// The cells of a row read left to right, each ending at a comma or the end of the line.
struct Cells<'a> {
    line: &'a [u8],
    at: usize,
}

impl Cells<'_> {
    /// Move past a cell of `len` bytes and its comma; a cell that ends the line is the last.
    fn advance<T>(&mut self, (value, len): (T, usize)) -> Option<T> {
        self.at += len + 1;
        Some(value)
    }

    /// The line from the next cell on; None when the last cell ended the line.
    fn rest(&self) -> Option<&[u8]> {
        self.line.get(self.at..)
    }

    fn decimal(&mut self) -> Option<f64> {
        let cell = number::decimal_field(self.rest()?)?;
        self.advance(cell)
    }

    fn integer(&mut self) -> Option<i64> {
        let cell = number::integer_field(self.rest()?)?;
        self.advance(cell)
    }

    fn unsigned(&mut self) -> Option<u64> {
        let cell = number::unsigned_field(self.rest()?)?;
        self.advance(cell)
    }

    /// A volume cell: read, or for `ohlc_only` files passed over unread (0).
    fn volume(&mut self, ohlc_only: bool) -> Option<f64> {
        if !ohlc_only {
            return self.decimal();
        }
        let rest = self.rest()?;
        let len = rest.iter().position(|&b| b == b',').unwrap_or(rest.len());
        self.advance((0.0, len))
    }
}

/// [`parse_row`] cell by cell with `str::parse`, naming the column of a bad cell.
fn careful_row(line: &str, ohlc_only: bool) -> Result<Kline, ProviderError> {
    let f = leading_fields::<COLUMNS>(line)?;
    // Column names are formatted only on error: this runs for every row of every file.
    // The fast paths give what `str::parse` gives; anything they do not take goes there.
    let dec = |i: usize, name: &str| match number::decimal(f[i].as_bytes()) {
        Some(v) => Ok(v),
        None => decimal(f[i], &format!("column {i} ({name})")),
    };
    let time = |i: usize, name: &str| match number::integer(f[i].as_bytes()) {
        Some(v) => Ok(epoch_to_ms(v)),
        None => integer(f[i], &format!("column {i} ({name})")).map(epoch_to_ms),
    };
    let count = |name: &str| match number::unsigned(f[8].as_bytes()) {
        Some(v) => Ok(v),
        None => unsigned(f[8], name),
    };
    if ohlc_only {
        return Ok(Kline {
            open_time: time(0, "open time")?,
            open: dec(1, "open")?,
            high: dec(2, "high")?,
            low: dec(3, "low")?,
            close: dec(4, "close")?,
            close_time: time(6, "close time")?,
            trades: count("column 8 (number of basic data)")?,
            ..Kline::default()
        });
    }
    Ok(Kline {
        open_time: time(0, "open time")?,
        open: dec(1, "open")?,
        high: dec(2, "high")?,
        low: dec(3, "low")?,
        close: dec(4, "close")?,
        volume: dec(5, "volume")?,
        close_time: time(6, "close time")?,
        quote_volume: dec(7, "quote volume")?,
        trades: count("column 8 (number of trades)")?,
        taker_buy_base_volume: dec(9, "taker buy base volume")?,
        taker_buy_quote_volume: dec(10, "taker buy quote volume")?,
    })
}

/// Every row of a file, in file order. `file` names it in errors (`<file> line <n>: ...`);
/// the first bad row fails the whole file.
pub fn parse_file(
    reader: &mut dyn BufRead,
    file: &str,
    capacity: usize,
    ohlc_only: bool,
) -> Result<Vec<Kline>, ProviderError> {
    let mut out = Vec::with_capacity(capacity);
    let mut first = true;
    for_each_line(reader, file, |n, line| {
        if std::mem::take(&mut first) && is_header(line) {
            return Ok(());
        }
        let k = parse_row(line, ohlc_only).map_err(|e| context(e, &format!("{file} line {n}")))?;
        out.push(k);
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsm_sdk::ErrorKind;
    use std::io::Cursor;

    /// The real first row of DOGEUSDT-1s-2025-01-01.csv (wire-formats.md).
    const DOGE_US: &str = "1735689600000000,0.31600000,0.31600000,0.31600000,0.31600000,\
                           27.00000000,1735689600999999,8.53200000,1,0.00000000,0.00000000,0";
    const HEADER: &str = "open_time,open,high,low,close,volume,close_time,quote_volume,count,\
                          taker_buy_volume,taker_buy_quote_volume,ignore";

    fn parse(text: &str) -> Result<Vec<Kline>, ProviderError> {
        parse_file(&mut Cursor::new(text.as_bytes()), "F.csv", 0, false)
    }

    #[test]
    fn microseconds_become_milliseconds() {
        let k = parse(DOGE_US).unwrap();
        assert_eq!(
            k,
            [Kline {
                open_time: 1_735_689_600_000,
                open: 0.316,
                high: 0.316,
                low: 0.316,
                close: 0.316,
                volume: 27.0,
                close_time: 1_735_689_600_999,
                quote_volume: 8.532,
                trades: 1,
                taker_buy_base_volume: 0.0,
                taker_buy_quote_volume: 0.0,
            }]
        );
    }

    #[test]
    fn header_row_is_skipped_by_content() {
        let body = format!(
            "{HEADER}\n1698364800000,34150.0,34200.1,34100.0,34180.5,125430,1698368399999,\
             367.12345678,4521,60210,176.2345,0\n"
        );
        let k = parse(&body).unwrap();
        assert_eq!(k.len(), 1);
        // COIN-M: contracts and base asset volumes stay in their columns (as rows.rs).
        assert_eq!(k[0].volume, 125430.0);
        assert_eq!(k[0].quote_volume, 367.12345678);
        assert_eq!(k[0].taker_buy_base_volume, 60210.0);
        assert_eq!(k[0].taker_buy_quote_volume, 176.2345);
        // A header later in the file is a malformed row.
        let e = parse(&format!("{DOGE_US}\n{HEADER}")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::PARSE);
        assert!(
            e.message.starts_with("F.csv line 2: column 0 (open time)"),
            "{e}"
        );
    }

    #[test]
    fn malformed_rows_name_file_line_and_column() {
        let e = parse(&format!("{DOGE_US}\r\n{DOGE_US}\r\n1,2,3\r\n")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::PARSE);
        assert_eq!(
            &*e.message,
            "F.csv line 3: 3 fields where at least 11 are expected"
        );
        let bad = DOGE_US.replace("27.00000000", "2x7");
        let e = parse(&bad).unwrap_err();
        assert_eq!(
            &*e.message,
            "F.csv line 1: column 5 (volume): \"2x7\" is not a decimal number"
        );
        assert!(parse("").unwrap().is_empty());
        assert!(parse(HEADER).unwrap().is_empty());
    }

    /// The one-pass path and the careful one agree on every row the first takes.
    #[test]
    fn plain_rows_parse_as_the_careful_path_does() {
        let rows = [
            DOGE_US.to_string(),
            "1672531200000,16541.77000000,16545.70000000,16508.39000000,16529.67000000,\
             175.48228000,1672531259999,2900641.32581640,4623,83.50348000,1380134.17498430,0"
                .to_string(),
            // 11 cells only, and one more than 12.
            "1672531200000,1.5,2,1,1.5,0,1672531259999,0,0,0,0".to_string(),
            format!("{DOGE_US},extra"),
            "1591256460000,-0.00042931,0.0001,-0.0005,-0.0004,x,1591256519999,x,12,x,x,x"
                .to_string(),
        ];
        for row in &rows {
            for ohlc_only in [false, true] {
                let Some(fast) = plain_row(row.as_bytes(), ohlc_only) else {
                    assert!(
                        row.contains('x') && !ohlc_only,
                        "{row} takes the plain path"
                    );
                    continue;
                };
                assert_eq!(Ok(fast), careful_row(row, ohlc_only), "{row}");
            }
        }
        // Not plain: left to the careful path, which names what is wrong.
        for row in [
            "1,2,3",
            "1672531200000,1.5,2,1,1.5,0,1672531259999,0,0,0",
            "1672531200000, 1.5,2,1,1.5,0,1672531259999,0,0,0,0",
            "1672531200000,1e3,2,1,1.5,0,1672531259999,0,0,0,0",
            "1672531200000,1.5,2,1,1.5,0,1672531259999,0,-4,0,0",
            "1672531200000,1.5,2,1,1.5,0,1672531259999,0,4,0,",
            HEADER,
        ] {
            assert_eq!(plain_row(row.as_bytes(), false), None, "{row}");
        }
    }

    #[test]
    fn ohlc_only_rows_ignore_the_volume_cells() {
        // A mark price row: placeholders where klines have volumes, column 8 the count.
        let row = "1591256460000,9653.29201333,9654.56401333,9653.07367333,9653.07367333,\
                   0 ,1591256519999,0,60,0,0,0";
        let k = parse_file(&mut Cursor::new(row), "F.csv", 0, true).unwrap();
        assert_eq!(
            k,
            [Kline {
                open_time: 1_591_256_460_000,
                open: 9653.29201333,
                high: 9654.56401333,
                low: 9653.07367333,
                close: 9653.07367333,
                close_time: 1_591_256_519_999,
                trades: 60,
                ..Kline::default()
            }]
        );
        // Premium OHLC are signed fractions.
        let row = "1591256460000,-0.00042931,0.0001,-0.0005,-0.0004,x,1591256519999,x,12,x,x,x";
        let k = parse_file(&mut Cursor::new(row), "F.csv", 0, true).unwrap();
        assert_eq!(
            (k[0].open, k[0].trades, k[0].volume),
            (-0.00042931, 12, 0.0)
        );
    }
}
