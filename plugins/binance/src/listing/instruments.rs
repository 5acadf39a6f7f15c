//! exchangeInfo: the instruments of spot (`/api/v3/exchangeInfo`), USD-M
//! (`/fapi/v1/exchangeInfo`) and COIN-M (`/dapi/v1/exchangeInfo`), wire-formats-datasets.md
//! section 5.1. Quirks: COIN-M names its status `contractStatus`; a perpetual's
//! `deliveryDate` is a far-future sentinel (2100-12-25, not one exact value) until a
//! delisting is announced, then the delisting time; spot has no dates at all and, without a
//! `permissions` parameter, lists only symbols with SPOT, MARGIN or LEVERAGED permission
//! (the archive listing covers the rest).

use dsm_sdk::{
    abi_stable::std_types::{ROption, RString},
    listing_module::Instrument,
    ErrorKind, ProviderError,
};
use serde::Deserialize;

use crate::markets::Market;

/// A delivery date at or after 2100-01-01 is the perpetual's "none" sentinel.
const NO_DELIVERY_FROM: i64 = 4_102_444_800_000;
/// At most this many instruments in one answer (spot has some 3000).
pub const MAX_INSTRUMENTS: usize = 100_000;

/// The endpoint's path and request weight on `market`.
pub fn endpoint(market: Market) -> (&'static str, u32) {
    match market {
        Market::Spot => ("/api/v3/exchangeInfo", 20),
        Market::Um => ("/fapi/v1/exchangeInfo", 1),
        Market::Cm => ("/dapi/v1/exchangeInfo", 1),
    }
}

#[derive(Deserialize)]
struct Answer {
    symbols: Vec<Symbol>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Symbol {
    symbol: String,
    status: Option<String>,
    contract_status: Option<String>,
    base_asset: Option<String>,
    quote_asset: Option<String>,
    contract_type: Option<String>,
    onboard_date: Option<i64>,
    delivery_date: Option<i64>,
}

/// The instruments of one exchangeInfo answer; `place` names the request in errors.
pub fn parse(body: &[u8], place: &str) -> Result<Vec<Instrument>, ProviderError> {
    let answer: Answer = serde_json::from_slice(body).map_err(|e| {
        ProviderError::new(
            ErrorKind::PARSE,
            format!("{place}: not an exchangeInfo answer ({e})"),
        )
    })?;
    if answer.symbols.len() > MAX_INSTRUMENTS {
        return Err(ProviderError::new(
            ErrorKind::INTEGRITY,
            format!(
                "{place}: {} instruments, more than the {MAX_INSTRUMENTS} any market has",
                answer.symbols.len()
            ),
        ));
    }
    let text = |s: Option<String>| -> ROption<RString> {
        s.filter(|s| !s.is_empty()).map(RString::from).into()
    };
    let time = |t: Option<i64>| -> ROption<i64> { t.filter(|t| *t > 0).into() };
    Ok(answer
        .symbols
        .into_iter()
        .filter(|s| dsm_sdk::symbol::is_valid_symbol(&s.symbol))
        .map(|s| Instrument {
            symbol: s.symbol.into(),
            status: text(s.status.or(s.contract_status)),
            base: text(s.base_asset),
            quote: text(s.quote_asset),
            contract_type: text(s.contract_type),
            listed_ms: time(s.onboard_date),
            delivery_ms: time(s.delivery_date.filter(|d| *d < NO_DELIVERY_FROM)),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn real(name: &str) -> Vec<u8> {
        let path = format!("/work/shared/real-wire/samples/datasets/{name}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn some(s: &str) -> ROption<RString> {
        ROption::RSome(s.into())
    }

    #[test]
    fn real_um_answer_perpetual_sentinels_are_no_delivery() {
        let rows = parse(&real("binance_um_exchangeInfo_3sym_nautilus.json"), "t").unwrap();
        assert_eq!(rows.len(), 3);
        let btc = &rows[0];
        assert_eq!(btc.symbol.as_str(), "BTCUSDT");
        assert_eq!(btc.contract_type, some("PERPETUAL"));
        assert_eq!(btc.listed_ms, ROption::RSome(1_569_398_400_000));
        // 4133404802000 and ETHUSDT's 4133404800000: both the sentinel.
        assert_eq!(btc.delivery_ms, ROption::RNone);
        assert_eq!(rows[1].delivery_ms, ROption::RNone);
        let q = &rows[2];
        assert_eq!(q.symbol.as_str(), "BTCUSDT_220325");
        assert_eq!(q.contract_type, some("CURRENT_QUARTER"));
        assert_eq!(q.delivery_ms, ROption::RSome(1_648_195_200_000));
        assert_eq!(
            (q.base.clone(), q.quote.clone()),
            (some("BTC"), some("USDT"))
        );
        assert_eq!(q.status, some("TRADING"));
    }

    #[test]
    fn real_spot_answer_has_no_dates_or_contract() {
        let rows = parse(&real("binance_spot_exchangeInfo_2sym_nautilus.json"), "t").unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.symbol.as_str()).collect();
        assert_eq!(names, ["BTCUSDT", "ETHUSDT"]);
        assert_eq!(rows[0].status, some("TRADING"));
        assert_eq!(rows[0].contract_type, ROption::RNone);
        assert_eq!(rows[0].listed_ms, ROption::RNone);
    }

    #[test]
    fn coin_m_status_is_contract_status_and_a_delisting_date_is_kept() {
        let body = br#"{"symbols":[{"symbol":"BTCUSD_PERP","pair":"BTCUSD","contractType":"PERPETUAL","deliveryDate":1767225600000,"onboardDate":1597042800000,"contractStatus":"TRADING","contractSize":100,"baseAsset":"BTC","quoteAsset":"USD"},{"symbol":"bad symbol!","contractStatus":"TRADING"}]}"#;
        let rows = parse(body, "t").unwrap();
        assert_eq!(rows.len(), 1, "an invalid symbol is dropped");
        assert_eq!(rows[0].status, some("TRADING"));
        assert_eq!(rows[0].delivery_ms, ROption::RSome(1_767_225_600_000));
    }

    #[test]
    fn garbage_is_a_parse_error_naming_the_request() {
        let e = parse(b"<html>", "GET /api/v3/exchangeInfo").unwrap_err();
        assert_eq!(e.kind, ErrorKind::PARSE);
        assert!(e.message.contains("GET /api/v3/exchangeInfo"), "{e}");
    }
}
