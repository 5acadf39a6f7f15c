//! Parsing helpers for exchange payloads, with `PARSE` errors that say what and where.
//!
//! Exchanges send candles as JSON arrays whose cells are numbers or decimal strings;
//! the accessors take both where an exchange might, and name the column on failure.

use dsm_sdk::{ErrorKind, ProviderError};
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
        Value::String(s) => decimal(s, &what()),
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
    shown.truncate(40);
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
    fn rows_rejects_non_arrays() {
        assert_eq!(rows(b"[]", "x").unwrap().len(), 0);
        let e = rows(b"{\"code\":1}", "GET u").unwrap_err();
        assert!(e.message.starts_with("GET u: not a JSON array"));
    }
}
