//! Checks of a [`DataRequest`] against the plugin's manifest: which kinds a market serves,
//! the error naming where a kind is available when it lacks one, and the request as a
//! klines [`FetchRequest`] and back.

use dsm_sdk::manifest::KindOffer;
use dsm_sdk::{
    DataKind, DataRequest, ErrorKind, FetchRequest, MarketInfo, PluginInfo, ProviderError,
};

/// What `market` offers of `kind`, else `UNSUPPORTED_SOURCE` naming the markets of this
/// exchange that have it (or saying none has) and what `market` serves.
pub fn offer(
    exchange: &str,
    info: &PluginInfo,
    market: &MarketInfo,
    kind: DataKind,
) -> Result<KindOffer, ProviderError> {
    if let Some(offer) = market.offer(kind) {
        return Ok(offer);
    }
    let m = &market.id;
    let serves: Vec<&str> = market.offers().iter().map(|o| o.kind.name()).collect();
    let here = format!("{exchange} {m} serves {}", serves.join(", "));
    if DataKind::parse(kind.name()) != Some(kind) {
        return Err(unsupported(format!(
            "{exchange} does not know data kind {}; {here}",
            kind.0
        )));
    }
    let elsewhere: Vec<&str> = info
        .markets
        .iter()
        .filter(|other| other.offer(kind).is_some())
        .map(|other| other.id.as_str())
        .collect();
    let message = if elsewhere.is_empty() {
        format!("{exchange} serves {kind} on no market ({here})")
    } else {
        format!(
            "{exchange} {m} has no {kind} data; it is available on {exchange} {} ({here})",
            elsewhere.join(", ")
        )
    };
    Err(unsupported(message))
}

fn unsupported(message: String) -> ProviderError {
    ProviderError::new(ErrorKind::UNSUPPORTED_SOURCE, message)
}

/// The same request as a klines fetch (for `DataKind::KLINES`, and for the common checks).
pub fn as_fetch(req: &DataRequest) -> FetchRequest {
    FetchRequest {
        market: req.market.clone(),
        symbol: req.symbol.clone(),
        interval: req.interval.clone(),
        start_ms: req.start_ms,
        end_ms: req.end_ms,
        source: req.source,
    }
}

/// A klines fetch as a [`DataRequest`] (for plugins that serve klines through the same
/// path as the other kinds).
pub fn as_data(req: &FetchRequest) -> DataRequest {
    DataRequest {
        kind: DataKind::KLINES,
        market: req.market.clone(),
        symbol: req.symbol.clone(),
        interval: req.interval.clone(),
        start_ms: req.start_ms,
        end_ms: req.end_ms,
        source: req.source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> PluginInfo {
        serde_json::from_str(
            r#"{"id":"x","name":"X","endpoints":["rest"],"markets":[
            {"id":"spot","aliases":[],"description":"d","symbol_example":"BTCUSDT",
             "intervals":["1m"],"archive":false,"max_page":100,"kinds":[{"kind":"klines"}]},
            {"id":"swap","aliases":[],"description":"d","symbol_example":"BTC-SWAP",
             "intervals":["1m"],"archive":false,"max_page":100,
             "kinds":[{"kind":"klines"},{"kind":"funding"}]}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn lacking_kinds_name_where_they_are() {
        let info = info();
        let (spot, swap) = (&info.markets[0], &info.markets[1]);
        assert_eq!(
            offer("X", &info, swap, DataKind::FUNDING).unwrap().kind,
            DataKind::FUNDING
        );
        let e = offer("X", &info, spot, DataKind::FUNDING).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UNSUPPORTED_SOURCE);
        assert_eq!(
            &*e.message,
            "X spot has no funding data; it is available on X swap (X spot serves klines)"
        );
        let e = offer("X", &info, swap, DataKind::PREMIUM).unwrap_err();
        assert_eq!(
            &*e.message,
            "X serves premium on no market (X swap serves klines, funding)"
        );
        let e = offer("X", &info, swap, DataKind(77)).unwrap_err();
        assert!(e.message.starts_with("X does not know data kind 77"), "{e}");
    }
}
