//! OKX's instruments (wire-formats-datasets.md section 5.3): GET
//! /api/v5/public/instruments?instType=SPOT|SWAP, one page (no paging), 20 requests per 2 s.
//! Live instruments only: OKX drops delisted ones, and has no archive listing.
//! Fields are strings: `listTime`/`expTime` in ms ("" for none), `state` live | suspend |
//! preopen | test; swaps name their pair in `uly` and their margining in `ctType`.

use std::sync::LazyLock;
use std::time::Duration;

use dsm_plugin_kit::instruments::{extend, opt_ms, opt_text};
use dsm_plugin_kit::{HttpClient, RateLimiter};
use dsm_sdk::{
    abi_stable::std_types::{ROption, RString},
    listing_module::Instrument,
    ProviderError,
};
use serde_json::Value;

use crate::api::get_data;
use crate::errors::Asked;
use crate::markets::Market;

static RATE: LazyLock<RateLimiter> = LazyLock::new(|| RateLimiter::new(20, Duration::from_secs(2)));

/// OKX's instType of a market.
fn inst_type(market: Market) -> &'static str {
    match market {
        Market::Spot => "SPOT",
        Market::Swap => "SWAP",
    }
}

/// The instruments of `market` and the requests made.
pub async fn list(
    http: &HttpClient,
    base_url: &str,
    market: Market,
) -> Result<(Vec<Instrument>, u64), ProviderError> {
    let url = format!(
        "{base_url}/api/v5/public/instruments?instType={}",
        inst_type(market)
    );
    let asked = Asked {
        market,
        symbol: "",
        inst_id: "",
        interval: "",
        bar: "",
    };
    let place = format!("OKX {}: GET {url}", market.id());
    let rows = get_data(http, &url, &RATE, &asked, &place).await?;
    let mut out = Vec::new();
    extend(&mut out, rows.rows.iter().map(instrument).collect(), &place)?;
    Ok((out, rows.requests))
}

fn instrument(row: &Value) -> Instrument {
    let text = |name| opt_text(row, name);
    // A swap's pair is its underlying, `BTC-USD`; spot has baseCcy/quoteCcy.
    let pair = text("uly")
        .into_option()
        .map(|u| u.to_string())
        .unwrap_or_default();
    let mut halves = pair.splitn(2, '-').map(RString::from);
    let (uly_base, uly_quote) = (halves.next(), halves.next());
    let or = |a: ROption<RString>, b: Option<RString>| match a {
        ROption::RSome(v) => ROption::RSome(v),
        ROption::RNone => b.filter(|s| !s.is_empty()).into(),
    };
    let contract = text("ctType")
        .into_option()
        .map(|t| RString::from(format!("{t} swap")));
    Instrument {
        symbol: text("instId").into_option().unwrap_or_default(),
        status: text("state"),
        base: or(text("baseCcy"), uly_base),
        quote: or(text("quoteCcy"), uly_quote),
        contract_type: contract.into(),
        listed_ms: opt_ms(row, "listTime"),
        delivery_ms: opt_ms(row, "expTime"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_swap_instruments() {
        let path = "/work/shared/real-wire/samples/datasets/okx_swap_instruments_nautilus.json";
        let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let rows: Vec<Instrument> = doc["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(instrument)
            .collect();
        let btc = rows.iter().find(|r| r.symbol == "BTC-USD-SWAP").unwrap();
        assert_eq!(btc.status, ROption::RSome("live".into()));
        assert_eq!(btc.base, ROption::RSome("BTC".into()));
        assert_eq!(btc.quote, ROption::RSome("USD".into()));
        assert_eq!(btc.contract_type, ROption::RSome("inverse swap".into()));
        assert_eq!(btc.listed_ms, ROption::RSome(1_535_424_203_000));
        assert_eq!(btc.delivery_ms, ROption::RNone);
        let usdt = rows.iter().find(|r| r.symbol == "BTC-USDT-SWAP").unwrap();
        assert_eq!(usdt.listed_ms, ROption::RSome(1_573_557_408_000));
        assert_eq!(usdt.quote, ROption::RSome("USDT".into()));
    }

    #[test]
    fn spot_rows_use_their_currencies() {
        let row = serde_json::json!({"instId":"BTC-USDT","instType":"SPOT","baseCcy":"BTC",
            "quoteCcy":"USDT","uly":"","ctType":"","state":"live","listTime":"1548133413000",
            "expTime":""});
        let i = instrument(&row);
        assert_eq!(
            (i.base, i.quote),
            (ROption::RSome("BTC".into()), ROption::RSome("USDT".into()))
        );
        assert_eq!(i.contract_type, ROption::RNone);
    }
}
