//! Checking and normalizing what a user asks for, before any plugin or network is touched.

use std::time::{SystemTime, UNIX_EPOCH};

use dsm_sdk::{DataKind, MarketInfo};

use crate::error::{DsmError, Result};
use crate::interval::Interval;
use crate::timeparse::{format_time, parse_time};

/// A validated request for one symbol and interval over `[start_ms, end_ms)`.
#[derive(Debug, Clone, PartialEq)]
pub struct KlineRequest {
    /// The symbol, normalized (uppercase).
    pub symbol: String,
    /// The interval's dsm name as the manifest spells it (`1m`, `1M`).
    pub interval_name: String,
    /// The interval.
    pub interval: Interval,
    /// Start, inclusive (ms UTC).
    pub start_ms: i64,
    /// Already clipped to now.
    pub end_ms: i64,
}

impl KlineRequest {
    /// The symbol and range, as the failover takes them for any kind.
    pub fn series(&self) -> SeriesRequest {
        SeriesRequest {
            symbol: self.symbol.clone(),
            start_ms: self.start_ms,
            end_ms: self.end_ms,
        }
    }
}

/// A validated request for one symbol over `[start_ms, end_ms)`, of any kind (the kind
/// carries the interval, if it has one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesRequest {
    /// The symbol, normalized (uppercase).
    pub symbol: String,
    /// Start, inclusive (ms UTC).
    pub start_ms: i64,
    /// Already clipped to now.
    pub end_ms: i64,
}

/// A time given to the library: integer milliseconds UTC, a string as the CLI accepts, or
/// a `SystemTime`.
pub trait IntoMillis {
    /// The time in milliseconds UTC, or why it is not a valid time.
    fn into_millis(self) -> Result<i64>;
}

impl IntoMillis for i64 {
    fn into_millis(self) -> Result<i64> {
        Ok(self)
    }
}

impl IntoMillis for &str {
    fn into_millis(self) -> Result<i64> {
        parse_time(self)
    }
}

impl IntoMillis for &String {
    fn into_millis(self) -> Result<i64> {
        parse_time(self)
    }
}

impl IntoMillis for SystemTime {
    fn into_millis(self) -> Result<i64> {
        let d = self
            .duration_since(UNIX_EPOCH)
            .map_err(|_| DsmError::InvalidInput("times before 1970 are not supported".into()))?;
        Ok(d.as_millis() as i64)
    }
}

pub use dsm_sdk::time::now_ms;

/// Normalize a symbol: uppercase, `^[A-Z0-9_-]{1,30}$` (no path or URL injection).
pub fn normalize_symbol(symbol: &str) -> Result<String> {
    let s = symbol.trim().to_ascii_uppercase();
    if dsm_sdk::symbol::is_valid_symbol(&s) {
        Ok(s)
    } else {
        Err(DsmError::InvalidInput(format!(
            "symbol {symbol:?} is not valid: use 1 to 30 letters, digits, '_' or '-' (e.g. BTCUSDT)"
        )))
    }
}

/// The manifest's name for `interval` on `market`, or an error listing the market's intervals.
pub fn normalize_interval(market: &MarketInfo, interval: &str) -> Result<(String, Interval)> {
    interval_in(&market.intervals, DataKind::KLINES, &market.id, interval)
}

/// The name for `interval` among `intervals` (what a market offers of `kind`), or an error
/// listing them.
pub fn interval_in(
    intervals: &[String],
    kind: DataKind,
    market: &str,
    interval: &str,
) -> Result<(String, Interval)> {
    let unsupported = || {
        let what = match kind {
            DataKind::KLINES => String::new(),
            k => format!(" for {k}"),
        };
        DsmError::InvalidInput(format!(
            "interval {interval:?} is not available{what} on market {market}; available: {}",
            intervals.join(" ")
        ))
    };
    let parsed = Interval::parse(interval).map_err(|_| unsupported())?;
    let name = parsed.to_string();
    if intervals.contains(&name) {
        Ok((name, parsed))
    } else {
        Err(unsupported())
    }
}

/// Check a symbol and range; `now_ms` clips the end (nothing after now exists yet).
pub fn normalize_range(
    symbol: &str,
    start_ms: i64,
    end_ms: i64,
    now_ms: i64,
) -> Result<SeriesRequest> {
    let symbol = normalize_symbol(symbol)?;
    if start_ms >= end_ms {
        return Err(DsmError::InvalidInput(format!(
            "the start {} must be before the end {} (the range is [start, end))",
            format_time(start_ms),
            format_time(end_ms)
        )));
    }
    if start_ms >= now_ms {
        return Err(DsmError::InvalidInput(format!(
            "the start {} is in the future; there is no history there yet",
            format_time(start_ms)
        )));
    }
    Ok(SeriesRequest {
        symbol,
        start_ms,
        end_ms: end_ms.min(now_ms),
    })
}

/// Check a whole request; `now_ms` clips the end (candles after now do not exist yet).
pub fn normalize(
    market: &MarketInfo,
    symbol: &str,
    interval: &str,
    start_ms: i64,
    end_ms: i64,
    now_ms: i64,
) -> Result<KlineRequest> {
    let symbol = normalize_symbol(symbol)?;
    let (interval_name, interval) = normalize_interval(market, interval)?;
    let range = normalize_range(&symbol, start_ms, end_ms, now_ms)?;
    Ok(KlineRequest {
        symbol,
        interval_name,
        interval,
        start_ms: range.start_ms,
        end_ms: range.end_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spot() -> MarketInfo {
        MarketInfo {
            id: "spot".into(),
            aliases: vec![],
            description: String::new(),
            symbol_example: "BTCUSDT".into(),
            intervals: ["1s", "1m", "1h", "1d", "1M"].map(String::from).to_vec(),
            archive: true,
            max_page: 1000,
            kinds: vec![],
        }
    }

    #[test]
    fn symbols_are_uppercased_and_checked() {
        assert_eq!(normalize_symbol(" btcusdt ").unwrap(), "BTCUSDT");
        assert_eq!(normalize_symbol("BTCUSD_PERP").unwrap(), "BTCUSD_PERP");
        for bad in ["", "../etc", "BTC/USDT", "BTC?x=1", "A.B", &"X".repeat(31)] {
            assert!(normalize_symbol(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn intervals_come_from_the_manifest() {
        assert_eq!(normalize_interval(&spot(), "1mo").unwrap().0, "1M");
        assert_eq!(normalize_interval(&spot(), "60m").unwrap().0, "1h");
        let err = normalize_interval(&spot(), "3m").unwrap_err().to_string();
        assert!(err.contains("available: 1s 1m 1h 1d 1M"), "{err}");
    }

    #[test]
    fn ranges_must_be_ordered_and_are_clipped_to_now() {
        let r = normalize(&spot(), "btcusdt", "1m", 0, 10_000, 5_000).unwrap();
        assert_eq!(r.end_ms, 5_000);
        assert!(normalize(&spot(), "BTCUSDT", "1m", 10, 10, 50).is_err());
        assert!(normalize(&spot(), "BTCUSDT", "1m", 100, 200, 50).is_err());
    }
}
