//! Checks of a fetch request every plugin makes before any network use, with messages that
//! name the exchange and list what is available.

use dsm_sdk::symbol::is_valid_symbol;
use dsm_sdk::{ErrorKind, FetchRequest, ProviderError, SourceKind};

use crate::interval::Interval;

/// `UNSUPPORTED_MARKET` listing the exchange's markets.
pub fn unknown_market(exchange: &str, name: &str, markets: &[&str]) -> ProviderError {
    ProviderError::new(
        ErrorKind::UNSUPPORTED_MARKET,
        format!(
            "{exchange} has no market {name:?}; markets: {}",
            markets.join(", ")
        ),
    )
}

/// The interval `name` if `intervals` (dsm names, as the manifest spells them) has it,
/// else `INVALID_INTERVAL`. The host sends manifest names only, so another spelling of a
/// listed interval (`1mo` for `1M`) is refused here too.
pub fn interval_in<S: AsRef<str>>(
    place: &str,
    name: &str,
    intervals: &[S],
) -> Result<Interval, ProviderError> {
    Interval::parse(name)
        .ok()
        .filter(|_| intervals.iter().any(|i| i.as_ref() == name))
        .ok_or_else(|| {
            let names: Vec<&str> = intervals.iter().map(AsRef::as_ref).collect();
            ProviderError::new(
                ErrorKind::INVALID_INTERVAL,
                format!(
                    "{place} has no interval {name:?}; intervals: {}",
                    names.join(" ")
                ),
            )
        })
}

/// The host validates symbols too; checked again because the symbol goes into a URL:
/// the SDK's rule, 1-30 characters `A-Z 0-9 _ -`.
pub fn symbol_chars(place: &str, symbol: &str, example: &str) -> Result<(), ProviderError> {
    if is_valid_symbol(symbol) {
        return Ok(());
    }
    Err(ProviderError::new(
        ErrorKind::INVALID_SYMBOL,
        format!(
            "{symbol:?} is not a {place} symbol: use 1-30 characters A-Z 0-9 _ -, e.g. {example}"
        ),
    ))
}

/// For plugins with no archive: only the live source.
pub fn live_only(exchange: &str, source: SourceKind) -> Result<(), ProviderError> {
    match source {
        SourceKind::LIVE => Ok(()),
        SourceKind::ARCHIVE => Err(ProviderError::new(
            ErrorKind::UNSUPPORTED_SOURCE,
            format!("{exchange} publishes no bulk archives for dsm to use; use the rest source"),
        )),
        other => Err(ProviderError::new(
            ErrorKind::UNSUPPORTED_SOURCE,
            format!("the {exchange} plugin does not know source {}", other.0),
        )),
    }
}

/// `start < end`, else `INVALID_REQUEST`.
pub fn non_empty_range(req: &FetchRequest) -> Result<(), ProviderError> {
    if req.start_ms < req.end_ms {
        return Ok(());
    }
    Err(ProviderError::new(
        ErrorKind::INVALID_REQUEST,
        format!(
            "empty range: start {} is not before end {}",
            req.start_ms, req.end_ms
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_name_what_is_wrong() {
        assert!(interval_in("OKX spot", "1h", &["1m", "1h"]).is_ok());
        let e = interval_in("OKX spot", "8h", &["1m", "1h"]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::INVALID_INTERVAL);
        assert_eq!(
            &*e.message,
            "OKX spot has no interval \"8h\"; intervals: 1m 1h"
        );
        // Only the manifest's spelling: `1mo` is `1M` to the host, which sends `1M`.
        let listed = ["1m".to_string(), "1M".to_string()];
        assert_eq!(
            interval_in("Binance um", "1M", &listed),
            Ok(Interval::Months(1))
        );
        let e = interval_in("Binance um", "1mo", &listed).unwrap_err();
        assert_eq!(e.kind, ErrorKind::INVALID_INTERVAL);
        assert!(e.message.ends_with("intervals: 1m 1M"), "{e}");
        assert!(symbol_chars("OKX", "BTC-USDT", "BTC-USDT").is_ok());
        let e = symbol_chars("OKX", "btc/usdt", "BTC-USDT").unwrap_err();
        assert_eq!(e.kind, ErrorKind::INVALID_SYMBOL);
        let e = live_only("OKX", SourceKind::ARCHIVE).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
        let e = unknown_market("Bybit", "options", &["spot", "linear"]);
        assert_eq!(
            &*e.message,
            "Bybit has no market \"options\"; markets: spot, linear"
        );
    }
}
