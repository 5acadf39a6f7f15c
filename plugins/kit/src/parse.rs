//! Parsing helpers for exchange payloads, with `PARSE` errors that say what and where.
//!
//! Exchanges send candles as JSON arrays whose cells are numbers or decimal strings;
//! the accessors take both where an exchange might, and name the column on failure.

use dsm_sdk::{ErrorKind, Kline, ProviderError};
use serde_json::Value;

fn parse_error(message: String) -> ProviderError {
    ProviderError::new(ErrorKind::PARSE, message)
}

/// A decimal string as f64; NaN and infinities are rejected.
pub fn decimal(text: &str, what: &str) -> Result<f64, ProviderError> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(parse_error(format!(
            "{what}: {text:?} is not a decimal number"
        ))),
    }
}

/// An integer in text (a time or a count); `what` names it in the error.
pub fn integer(text: &str, what: &str) -> Result<i64, ProviderError> {
    text.trim()
        .parse()
        .map_err(|_| parse_error(format!("{what}: {text:?} is not an integer")))
}

/// A non-negative integer in text (a count).
pub fn unsigned(text: &str, what: &str) -> Result<u64, ProviderError> {
    text.trim()
        .parse()
        .map_err(|_| parse_error(format!("{what}: {text:?} is not a non-negative integer")))
}

/// Epoch timestamps at or above this are microseconds (1e15 us is 2001-09-09; in ms it
/// would be the year 33658).
pub const MICROS_FROM: i64 = 1_000_000_000_000_000;

/// An epoch timestamp in milliseconds or microseconds, as milliseconds: the unit is told by
/// magnitude (>= [`MICROS_FROM`] is microseconds), per value, never by date. Microseconds
/// are floored, so a close time of `next open - 1 us` becomes `next open - 1 ms`.
pub fn epoch_to_ms(t: i64) -> i64 {
    if t >= MICROS_FROM {
        t.div_euclid(1000)
    } else {
        t
    }
}

/// Cell `index` of a row; an error names the column when the row is too short.
pub fn cell<'a>(row: &'a [Value], index: usize, name: &str) -> Result<&'a Value, ProviderError> {
    row.get(index).ok_or_else(|| {
        parse_error(format!(
            "column {index} ({name}) is missing: the row has {} columns",
            row.len()
        ))
    })
}

/// A decimal cell: a JSON string holding a number, or a JSON number.
pub fn decimal_at(row: &[Value], index: usize, name: &str) -> Result<f64, ProviderError> {
    let what = || format!("column {index} ({name})");
    match cell(row, index, name)? {
        // The name is formatted only on error: this runs for every cell of every page.
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => decimal(s, &what()),
        },
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| parse_error(format!("{}: {n} is out of range", what()))),
        other => Err(unexpected(&what(), "a decimal", other)),
    }
}

/// An integer cell (a time or a count): a JSON integer, or a string of digits.
pub fn int_at(row: &[Value], index: usize, name: &str) -> Result<i64, ProviderError> {
    let what = || format!("column {index} ({name})");
    match cell(row, index, name)? {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| parse_error(format!("{}: {n} is not an integer", what()))),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| parse_error(format!("{}: {s:?} is not an integer", what()))),
        other => Err(unexpected(&what(), "an integer", other)),
    }
}

/// A non-negative integer cell (a count).
pub fn uint_at(row: &[Value], index: usize, name: &str) -> Result<u64, ProviderError> {
    let v = int_at(row, index, name)?;
    u64::try_from(v).map_err(|_| parse_error(format!("column {index} ({name}): {v} is negative")))
}

fn unexpected(what: &str, expected: &str, got: &Value) -> ProviderError {
    let mut shown = got.to_string();
    // Cut at a character boundary: the cell may hold any text (found by fuzzing).
    if let Some((cut, _)) = shown.char_indices().nth(40) {
        shown.truncate(cut);
    }
    parse_error(format!("{what}: expected {expected}, got {shown}"))
}

/// A JSON body that must be an array of arrays (rows of cells).
pub fn rows(body: &[u8], what: &str) -> Result<Vec<Vec<Value>>, ProviderError> {
    serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned();
        parse_error(format!(
            "{what}: not a JSON array of rows ({e}); body starts {text:?}"
        ))
    })
}

/// Prefix a parse error with where it happened (e.g. `Binance spot BTCUSDT 1m row 3`).
pub fn context(e: ProviderError, place: &str) -> ProviderError {
    ProviderError::new(e.kind, format!("{place}: {}", e.message))
}

/// What [`ascending`] changed in a page or file.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reordered {
    /// The rows were not in ascending open-time order (they are now).
    pub sorted: bool,
    /// Rows dropped because an identical row (every field equal) came before.
    pub duplicates: usize,
}

/// The policy for rows an exchange sends out of order or twice, one for every plugin:
/// sort by open time (a candle is identified by its open time, so order carries no
/// information), drop exact duplicates (nothing is lost), and refuse two DIFFERENT candles
/// with one open time: which one is right cannot be known, so the page or file is not used
/// (`INTEGRITY`, naming `place` and the time). The host's sink then gets every batch sorted
/// and unique, as it requires.
pub fn ascending(klines: &mut Vec<Kline>, place: &str) -> Result<Reordered, ProviderError> {
    let mut out = Reordered::default();
    if klines.windows(2).all(|w| w[0].open_time < w[1].open_time) {
        return Ok(out);
    }
    out.sorted = klines.windows(2).any(|w| w[0].open_time > w[1].open_time);
    klines.sort_by_key(|k| k.open_time); // stable: duplicates keep their order
    let before = klines.len();
    let mut conflict = None;
    klines.dedup_by(|later, kept| {
        if later.open_time != kept.open_time {
            return false;
        }
        if later != kept && conflict.is_none() {
            conflict = Some(kept.open_time);
        }
        true
    });
    if let Some(t) = conflict {
        return Err(ProviderError::new(
            ErrorKind::INTEGRITY,
            format!(
                "{place}: two different candles open at {t} (ms UTC); the data is \
                 inconsistent and is not used"
            ),
        ));
    }
    out.duplicates = before - klines.len();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decimals_from_strings_and_numbers() {
        let row = vec![
            json!("0.01634790"),
            json!(2.5),
            json!("x"),
            json!(null),
            json!("NaN"),
        ];
        assert_eq!(decimal_at(&row, 0, "open").unwrap(), 0.0163479);
        assert_eq!(decimal_at(&row, 1, "high").unwrap(), 2.5);
        let e = decimal_at(&row, 2, "low").unwrap_err();
        assert_eq!(e.kind, ErrorKind::PARSE);
        assert_eq!(&*e.message, "column 2 (low): \"x\" is not a decimal number");
        assert!(decimal_at(&row, 3, "close")
            .unwrap_err()
            .message
            .contains("got null"));
        assert!(decimal_at(&row, 4, "volume").is_err());
        let wide = vec![json!(["ééééééééééééééééééééééééééééééééééééééééé"])];
        assert!(decimal_at(&wide, 0, "x")
            .unwrap_err()
            .message
            .contains("got [\"éé"));
        assert!(decimal_at(&row, 9, "x")
            .unwrap_err()
            .message
            .contains("has 5 columns"));
    }

    #[test]
    fn integers() {
        let row = vec![json!(1499040000000i64), json!("308"), json!(1.5), json!(-1)];
        assert_eq!(int_at(&row, 0, "open_time").unwrap(), 1499040000000);
        assert_eq!(uint_at(&row, 1, "trades").unwrap(), 308);
        assert!(int_at(&row, 2, "t")
            .unwrap_err()
            .message
            .contains("not an integer"));
        assert!(uint_at(&row, 3, "t")
            .unwrap_err()
            .message
            .contains("negative"));
    }

    #[test]
    fn text_integers_and_time_units() {
        assert_eq!(integer(" 42", "n").unwrap(), 42);
        assert_eq!(
            &*integer("4.5", "open time").unwrap_err().message,
            "open time: \"4.5\" is not an integer"
        );
        assert_eq!(unsigned("7", "trades").unwrap(), 7);
        assert!(unsigned("-7", "trades").is_err());
        // The real DOGEUSDT-1s-2025-01-01 row: open and close in microseconds.
        assert_eq!(epoch_to_ms(1_735_689_600_000_000), 1_735_689_600_000);
        assert_eq!(epoch_to_ms(1_735_689_600_999_999), 1_735_689_600_999);
        assert_eq!(epoch_to_ms(1_735_689_600_000), 1_735_689_600_000);
        assert_eq!(epoch_to_ms(1_499_644_799_999), 1_499_644_799_999);
    }

    #[test]
    fn ascending_sorts_drops_exact_duplicates_and_refuses_conflicts() {
        let k = |t: i64, v: f64| Kline {
            open_time: t,
            volume: v,
            ..Kline::default()
        };
        let mut rows = vec![k(1, 1.0), k(2, 1.0), k(3, 1.0)];
        assert_eq!(ascending(&mut rows, "p").unwrap(), Reordered::default());
        let mut rows = vec![k(2, 1.0), k(1, 1.0), k(2, 1.0), k(3, 1.0)];
        let r = ascending(&mut rows, "p").unwrap();
        assert_eq!(
            r,
            Reordered {
                sorted: true,
                duplicates: 1
            }
        );
        assert_eq!(rows, vec![k(1, 1.0), k(2, 1.0), k(3, 1.0)]);
        let mut rows = vec![k(1, 1.0), k(2, 1.0), k(2, 5.0)];
        let e = ascending(&mut rows, "GET u").unwrap_err();
        assert_eq!(e.kind, ErrorKind::INTEGRITY);
        assert!(
            e.message
                .starts_with("GET u: two different candles open at 2"),
            "{e}"
        );
    }

    #[test]
    fn rows_rejects_non_arrays() {
        assert_eq!(rows(b"[]", "x").unwrap().len(), 0);
        let e = rows(b"{\"code\":1}", "GET u").unwrap_err();
        assert!(e.message.starts_with("GET u: not a JSON array"));
    }
}
