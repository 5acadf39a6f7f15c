//! Checks of a fetch request before any network use: the market, whether it serves the
//! kind from the source asked (per the manifest), the interval, symbol and range.

use dsm_plugin_kit::{request, Interval};
use dsm_sdk::{DataKind, DataRequest, ErrorKind, ProviderError, SourceKind};

use crate::markets::Market;

/// A request the plugin can serve (REST or Vision).
pub struct Checked {
    pub market: Market,
    /// The candle interval; `None` for kinds without one (funding).
    pub interval: Option<Interval>,
}

pub use dsm_plugin_kit::kinds::as_data;

pub fn check(req: &DataRequest) -> Result<Checked, ProviderError> {
    let market = Market::from_name(&req.market)
        .ok_or_else(|| request::unknown_market("Binance", &req.market, &["spot", "um", "cm"]))?;
    check_source(req.source)?;
    let offer = market
        .info()
        .offer(req.kind)
        .ok_or_else(|| unsupported(req.kind, market))?;
    if req.source == SourceKind::ARCHIVE && !offer.archive {
        return Err(ProviderError::new(
            ErrorKind::UNSUPPORTED_SOURCE,
            format!(
                "Binance {} has no {} in the Vision archive; use the rest source",
                market.id(),
                req.kind
            ),
        ));
    }
    if req.source == SourceKind::LIVE && !offer.rest {
        return Err(ProviderError::new(
            ErrorKind::UNSUPPORTED_SOURCE,
            format!(
                "Binance {} serves {} from the Vision archive only; use the archive source",
                market.id(),
                req.kind
            ),
        ));
    }
    let place = format!("Binance {} {}", market.id(), req.kind);
    let interval = match req.kind.has_interval() {
        true => Some(request::interval_in(
            &place,
            &req.interval,
            &offer.intervals,
        )?),
        false if req.interval.is_empty() => None,
        false => {
            return Err(ProviderError::new(
                ErrorKind::INVALID_INTERVAL,
                format!(
                    "{place} has no interval (asked for {:?}): leave it empty",
                    &*req.interval
                ),
            ))
        }
    };
    request::symbol_chars("Binance", &req.symbol, market.symbol_example())?;
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

/// A kind the market does not serve: where it is available instead.
fn unsupported(kind: DataKind, market: Market) -> ProviderError {
    let known = DataKind::ALL.contains(&kind);
    let elsewhere: Vec<&str> = Market::ALL
        .into_iter()
        .filter(|m| m.info().offer(kind).is_some())
        .map(|m| m.id())
        .collect();
    let message = match (known, elsewhere.is_empty()) {
        (false, _) => format!(
            "the binance plugin does not know data kind {}; kinds: {}",
            kind.0,
            DataKind::names().join(", ")
        ),
        (true, true) => format!("Binance serves no {kind} data"),
        (true, false) => format!(
            "Binance {} has no {kind} data; it is available on Binance {}",
            market.id(),
            elsewhere.join(", ")
        ),
    };
    ProviderError::new(ErrorKind::UNSUPPORTED_SOURCE, message)
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
    use dsm_sdk::FetchRequest;

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

    fn of(kind: DataKind, market: &str, interval: &str) -> DataRequest {
        DataRequest {
            kind,
            ..as_data(&req(market, "BTCUSDT", interval, SourceKind::LIVE))
        }
    }

    fn kind(r: &FetchRequest) -> ErrorKind {
        check(&as_data(r))
            .err()
            .map(|e| e.kind)
            .unwrap_or(ErrorKind(0))
    }

    #[test]
    fn accepts_and_rejects() {
        let live = SourceKind::LIVE;
        assert!(check(&as_data(&req("spot", "BTCUSDT", "1s", live))).is_ok());
        assert!(check(&as_data(&req("usdm", "BTCUSDT", "1M", live))).is_ok());
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
        assert!(check(&as_data(&req(
            "cm",
            "BTCUSD_PERP",
            "1d",
            SourceKind::ARCHIVE
        )))
        .is_ok());
        assert_eq!(
            kind(&req("spot", "BTCUSDT", "1m", SourceKind(9))),
            ErrorKind::UNSUPPORTED_SOURCE
        );
        let mut empty = req("spot", "BTCUSDT", "1m", live);
        empty.end_ms = 0;
        assert_eq!(kind(&empty), ErrorKind::INVALID_REQUEST);
    }

    #[test]
    fn kinds_follow_the_manifest() {
        let c = check(&of(DataKind::FUNDING, "um", "")).unwrap();
        assert!(c.interval.is_none());
        let e = check(&of(DataKind::FUNDING, "um", "8h")).err().unwrap();
        assert_eq!(e.kind, ErrorKind::INVALID_INTERVAL);
        assert!(check(&of(DataKind::MARK, "cm", "1h")).is_ok());
        let e = check(&of(DataKind::PREMIUM, "um", "1s")).err().unwrap();
        assert_eq!(e.kind, ErrorKind::INVALID_INTERVAL);
        let e = check(&of(DataKind::INDEX, "spot", "1h")).err().unwrap();
        assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
        assert_eq!(
            &*e.message,
            "Binance spot has no index data; it is available on Binance um, cm"
        );
        let e = check(&of(DataKind(99), "um", "")).err().unwrap();
        assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
        assert!(e.message.contains("does not know data kind 99"), "{e}");
    }
}
