//! Bybit's instruments (wire-formats-datasets.md section 5.4): GET
//! /v5/market/instruments-info?category=spot|linear|inverse&limit=1000, paged by
//! `cursor` = the previous page's `result.nextPageCursor` until it is empty (spot is not
//! paged: one answer). Trading symbols only (Bybit's default); times are ms strings,
//! `deliveryTime` "0" for a perpetual without a delisting date. No archive listing.

use dsm_plugin_kit::instruments::{extend, opt_ms, opt_text};
use dsm_plugin_kit::HttpClient;
use dsm_sdk::{listing_module::Instrument, ErrorKind, ProviderError};
use serde_json::Value;

use crate::api::get_result;
use crate::errors::Asked;
use crate::markets::Market;

/// Pages of one listing: linear has some 600 symbols (a page of 1000); a cursor still
/// coming after this many is a server that never stops.
pub const MAX_PAGES: usize = 50;

/// The instruments of `market` and the requests made.
pub async fn list(
    http: &HttpClient,
    base_url: &str,
    market: Market,
) -> Result<(Vec<Instrument>, u64), ProviderError> {
    let asked = Asked {
        market,
        typed: "",
        symbol: "",
        interval: "",
    };
    let (mut out, mut requests) = (Vec::new(), 0);
    let mut cursor = String::new();
    for _ in 0..MAX_PAGES {
        let mut url = format!(
            "{base_url}/v5/market/instruments-info?category={}&limit=1000",
            market.id()
        );
        if !cursor.is_empty() {
            url += &format!("&cursor={}", encode(&cursor));
        }
        let place = format!("Bybit {}: GET {url}", market.id());
        let (result, attempts) = get_result(http, &url, &asked, &place).await?;
        requests += attempts;
        let Some(rows) = result.get("list").and_then(Value::as_array) else {
            return Err(ProviderError::new(
                ErrorKind::PARSE,
                format!("{place}: the answer has no result.list"),
            ));
        };
        extend(&mut out, rows.iter().map(instrument).collect(), &place)?;
        let next = result
            .get("nextPageCursor")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if next.is_empty() || market == Market::Spot {
            return Ok((out, requests));
        }
        if next == cursor {
            return Err(ProviderError::new(
                ErrorKind::INTEGRITY,
                format!("{place}: nextPageCursor repeats the cursor asked: refused"),
            ));
        }
        cursor = next.to_string();
    }
    Err(ProviderError::new(
        ErrorKind::INTEGRITY,
        format!(
            "Bybit {} instruments did not end after {MAX_PAGES} pages: refused",
            market.id()
        ),
    ))
}

fn instrument(row: &Value) -> Instrument {
    Instrument {
        symbol: opt_text(row, "symbol").into_option().unwrap_or_default(),
        status: opt_text(row, "status"),
        base: opt_text(row, "baseCoin"),
        quote: opt_text(row, "quoteCoin"),
        contract_type: opt_text(row, "contractType"),
        listed_ms: opt_ms(row, "launchTime"),
        delivery_ms: opt_ms(row, "deliveryTime"),
    }
}

/// Cursors are opaque (`xx%3D%3D` style): percent-encode all but unreserved characters.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dsm_sdk::abi_stable::std_types::ROption;

    #[test]
    fn documented_linear_row() {
        // The shape of Bybit's instrument.mdx example (fields trimmed).
        let row = serde_json::json!({"symbol":"BTCUSDT","contractType":"LinearPerpetual",
            "status":"Trading","baseCoin":"BTC","quoteCoin":"USDT","launchTime":"1585526400000",
            "deliveryTime":"0","deliveryFeeRate":"","priceScale":"2","fundingInterval":480,
            "settleCoin":"USDT"});
        let i = instrument(&row);
        assert_eq!(i.symbol.as_str(), "BTCUSDT");
        assert_eq!(i.contract_type, ROption::RSome("LinearPerpetual".into()));
        assert_eq!(i.listed_ms, ROption::RSome(1_585_526_400_000));
        assert_eq!(i.delivery_ms, ROption::RNone, "0 is no delivery");
        assert_eq!(encode("a=b/c"), "a%3Db%2Fc");
    }
}
