//! Instrument rows of JSON listings (OKX, Bybit) as the SDK's [`Instrument`]: optional text
//! and millisecond fields where exchanges write "" or "0" for none, and the bound on how
//! many one answer may hold.

use dsm_sdk::{
    abi_stable::std_types::{ROption, RString},
    listing_module::Instrument,
    ErrorKind, ProviderError,
};
use serde_json::Value;

/// At most this many instruments in one listing (the largest markets have a few thousand).
pub const MAX_INSTRUMENTS: usize = 100_000;

/// Field `name` as text; `None` when absent, null or "".
pub fn opt_text(row: &Value, name: &str) -> ROption<RString> {
    match row.get(name) {
        Some(Value::String(s)) if !s.is_empty() => ROption::RSome(s.as_str().into()),
        Some(Value::Number(n)) => ROption::RSome(n.to_string().into()),
        _ => ROption::RNone,
    }
}

/// Field `name` as a time in ms (a JSON integer or a string of digits); `None` when absent,
/// "", 0 or not a number.
pub fn opt_ms(row: &Value, name: &str) -> ROption<i64> {
    let ms = match row.get(name) {
        Some(Value::String(s)) => s.parse::<i64>().ok(),
        Some(Value::Number(n)) => n.as_i64(),
        _ => None,
    };
    ms.filter(|t| *t > 0).into()
}

/// Adds `more` to `all`, refusing a listing that grows past [`MAX_INSTRUMENTS`].
pub fn extend(
    all: &mut Vec<Instrument>,
    more: Vec<Instrument>,
    place: &str,
) -> Result<(), ProviderError> {
    if all.len() + more.len() > MAX_INSTRUMENTS {
        return Err(ProviderError::new(
            ErrorKind::INTEGRITY,
            format!("{place}: more than {MAX_INSTRUMENTS} instruments: refused"),
        ));
    }
    all.extend(
        more.into_iter()
            .filter(|i| dsm_sdk::symbol::is_valid_symbol(&i.symbol)),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_zero_are_none() {
        let row = serde_json::json!({"a": "", "b": "x", "t": "0", "u": "1535424203000", "n": 5});
        assert_eq!(opt_text(&row, "a"), ROption::RNone);
        assert_eq!(opt_text(&row, "b"), ROption::RSome("x".into()));
        assert_eq!(opt_text(&row, "missing"), ROption::RNone);
        assert_eq!(opt_ms(&row, "t"), ROption::RNone);
        assert_eq!(opt_ms(&row, "u"), ROption::RSome(1_535_424_203_000));
        assert_eq!(opt_ms(&row, "n"), ROption::RSome(5));
        assert_eq!(opt_ms(&row, "b"), ROption::RNone);
    }

    #[test]
    fn a_listing_is_bounded_and_bad_symbols_dropped() {
        let inst = |s: &str| Instrument {
            symbol: s.into(),
            ..Instrument::default()
        };
        let mut all = Vec::new();
        extend(&mut all, vec![inst("BTC-USDT"), inst("bad symbol")], "t").unwrap();
        assert_eq!(all.len(), 1);
        let many = (0..MAX_INSTRUMENTS).map(|_| inst("A")).collect();
        assert!(extend(&mut all, many, "t").is_err());
    }
}
