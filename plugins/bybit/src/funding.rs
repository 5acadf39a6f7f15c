//! Funding rate history of Bybit's linear and inverse contracts:
//! GET /v5/market/funding/history?category=&symbol=&endTime=&limit=200, newest first,
//! settled rates only. Bybit refuses `startTime` alone, and `endTime` alone returns the 200
//! rows up to it, so the fetch pages backwards with `endTime` = oldest received - 1 until
//! a page reaches the start (or the history ends).
//!
//! Rows are objects of strings `{"symbol","fundingRate","fundingRateTimestamp"}`. Mapping to
//! [`FundingRate`]: funding_time = fundingRateTimestamp, rate = fundingRate, mark_price NaN
//! and interval_ms 0 (Bybit sends neither; its intervals change per symbol).

use std::sync::Arc;

use dsm_plugin_kit::fields::{decimal_field, int_field};
use dsm_plugin_kit::funding::{walk_back, FundingPage};
use dsm_plugin_kit::parse::context;
use dsm_plugin_kit::HttpClient;
use dsm_sdk::{FundingRate, ProviderError};
use serde_json::Value;

use crate::api::get_list;
use crate::errors::Asked;
use crate::markets::Market;

pub const PATH: &str = "/v5/market/funding/history";
/// Bybit's largest `limit` here.
pub const PAGE: u32 = 200;

/// One funding fetch.
pub struct Job {
    pub market: Market,
    /// As the user typed it.
    pub typed: String,
    pub symbol: String,
    pub base_url: String,
    pub http: Arc<HttpClient>,
}

impl Job {
    fn place(&self) -> String {
        format!("Bybit {} {} funding", self.market.id(), self.symbol)
    }

    /// The newest rows settled before `cursor`.
    async fn page(&self, cursor: i64) -> Result<FundingPage, ProviderError> {
        let url = format!(
            "{}{PATH}?category={}&symbol={}&endTime={}&limit={PAGE}",
            self.base_url,
            self.market.id(),
            self.symbol,
            cursor - 1
        );
        let asked = Asked {
            market: self.market,
            typed: &self.typed,
            symbol: &self.symbol,
            interval: "funding",
        };
        let place = format!("{}: GET {url}", self.place());
        let list = get_list(&self.http, &url, &asked, &place).await?;
        let rows = list
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| parse_row(r).map_err(|e| context(e, &format!("{place}: row {i}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FundingPage {
            rows,
            requests: list.requests,
        })
    }

    /// Every funding rate Bybit has in `[start, end)`, ascending, and the requests made.
    pub async fn fetch(
        &self,
        start: i64,
        end: i64,
    ) -> Result<(Vec<FundingRate>, u64), ProviderError> {
        walk_back(start, end, PAGE, &self.place(), |cursor| self.page(cursor)).await
    }
}

/// One row.
pub fn parse_row(row: &Value) -> Result<FundingRate, ProviderError> {
    Ok(FundingRate {
        funding_time: int_field(row, "fundingRateTimestamp")?,
        rate: decimal_field(row, "fundingRate")?,
        mark_price: f64::NAN,
        interval_ms: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_and_bad_fields_are_named() {
        let row = serde_json::json!({"symbol": "BTCUSDT", "fundingRate": "-0.00005",
            "fundingRateTimestamp": "1672041600000"});
        let r = parse_row(&row).unwrap();
        assert_eq!((r.funding_time, r.rate), (1_672_041_600_000, -0.00005));
        assert!(r.mark_price.is_nan() && r.interval_ms == 0);
        let e = parse_row(&serde_json::json!({"fundingRate": "x", "fundingRateTimestamp": "1"}))
            .unwrap_err();
        assert!(e.message.contains("field fundingRate"), "{e}");
    }
}

/// Funding rows fuzzed: any object of the row's field names (and a lone cell), no panic;
/// parsed rows hold a finite rate. `PROPTEST_CASES` sets the count.
#[cfg(test)]
mod fuzz {
    use super::*;
    use dsm_plugin_kit::fuzz::json_object;
    use proptest::prelude::*;

    const FIELDS: &[&str] = &["fundingRateTimestamp", "fundingRate", "symbol"];

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn fuzz_bybit_funding_rows(row in json_object(FIELDS)) {
            if let Ok(r) = parse_row(&row) {
                prop_assert!(r.rate.is_finite());
            }
        }
    }
}
