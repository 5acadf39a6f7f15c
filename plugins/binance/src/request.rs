//! Checks of a fetch request before any network use.

use dsm_plugin_kit::{request, Interval};
use dsm_sdk::{ErrorKind, FetchRequest, ProviderError, SourceKind};

use crate::markets::Market;

/// A request the plugin can serve (REST or Vision).
pub struct Checked {
    pub market: Market,
    pub interval: Interval,
}

pub fn check(req: &FetchRequest) -> Result<Checked, ProviderError> {
    let market = Market::from_name(&req.market)
        .ok_or_else(|| request::unknown_market("Binance", &req.market, &["spot", "um", "cm"]))?;
    let place = format!("Binance {}", market.id());
    let interval = request::interval_in(&place, &req.interval, market.intervals())?;
    request::symbol_chars("Binance", &req.symbol, market.symbol_example())?;
    check_source(req.source)?;
    if req.start_ms >= req.end_ms {
        return Err(ProviderError::new(
            ErrorKind::INVALID_REQUEST,
            format!(
                "empty range: start {} is not before end {}",
                req.start_ms, req.end_ms
            ),
        ));
    }
    Ok(Checked { market, interval })
}

fn check_source(source: SourceKind) -> Result<(), ProviderError> {
    match source {
        SourceKind::LIVE | SourceKind::ARCHIVE => Ok(()),
        other => Err(ProviderError::new(
            ErrorKind::UNSUPPORTED_SOURCE,
            format!("the binance plugin does not know source {}", other.0),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(market: &str, symbol: &str, interval: &str, source: SourceKind) -> FetchRequest {
        FetchRequest {
            market: market.into(),
            symbol: symbol.into(),
            interval: interval.into(),
            start_ms: 0,
            end_ms: 60_000,
            source,
        }
    }

    fn kind(r: &FetchRequest) -> ErrorKind {
        check(r).err().map(|e| e.kind).unwrap_or(ErrorKind(0))
    }

    #[test]
    fn accepts_and_rejects() {
        let live = SourceKind::LIVE;
        assert!(check(&req("spot", "BTCUSDT", "1s", live)).is_ok());
        assert!(check(&req("usdm", "BTCUSDT", "1M", live)).is_ok());
        assert_eq!(
            kind(&req("um", "BTCUSDT", "1s", live)),
            ErrorKind::INVALID_INTERVAL
        );
        assert_eq!(
            kind(&req("spot", "BTCUSDT", "2m", live)),
            ErrorKind::INVALID_INTERVAL
        );
        assert_eq!(
            kind(&req("options", "BTCUSDT", "1m", live)),
            ErrorKind::UNSUPPORTED_MARKET
        );
        assert_eq!(
            kind(&req("spot", "BTC/USDT", "1m", live)),
            ErrorKind::INVALID_SYMBOL
        );
        assert_eq!(
            kind(&req("spot", "btcusdt", "1m", live)),
            ErrorKind::INVALID_SYMBOL
        );
        assert!(check(&req("cm", "BTCUSD_PERP", "1d", SourceKind::ARCHIVE)).is_ok());
        assert_eq!(
            kind(&req("spot", "BTCUSDT", "1m", SourceKind(9))),
            ErrorKind::UNSUPPORTED_SOURCE
        );
        let mut empty = req("spot", "BTCUSDT", "1m", live);
        empty.end_ms = 0;
        assert_eq!(kind(&empty), ErrorKind::INVALID_REQUEST);
    }
}
