//! Funding rate history of OKX swaps: GET /api/v5/public/funding-rate-history, newest
//! first, paged backwards with `after` (older than, exclusive) and bounded by `before`
//! (newer than, exclusive); 10 requests / 2 s per IP and instrument.
//!
//! Rows are objects of strings: `{"formulaType","fundingRate","fundingTime","instId",
//! "instType","method","realizedRate"}`. Mapping to [`FundingRate`]:
//!
//! | FundingRate  | OKX                                                              |
//! |--------------|------------------------------------------------------------------|
//! | funding_time | fundingTime                                                      |
//! | rate         | realizedRate (the rate paid); fundingRate only when it is empty  |
//! | mark_price   | NaN: OKX sends none                                              |
//! | interval_ms  | 0: OKX states none (its intervals vary: 8, 6, 4, 2, 1 h)         |
//!
//! OKX serves the last three months only: what a request asks for before that is reported
//! missing with the reason, and is no error.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use dsm_plugin_kit::fields::{decimal_field, int_field, text};
use dsm_plugin_kit::funding::{walk_back, FundingPage};
use dsm_plugin_kit::parse::context;
use dsm_plugin_kit::{HttpClient, RateLimiter};
use dsm_sdk::time::DAY_MS;
use dsm_sdk::{FundingRate, MissingRange, ProviderError};
use serde_json::Value;

use crate::api::get_data;
use crate::errors::Asked;
use crate::markets::Market;

pub const PATH: &str = "/api/v5/public/funding-rate-history";
/// Rows per request: 400 in newer docs, 100 in older ones; 100 works with both.
pub const PAGE: u32 = 100;
/// How far back OKX is sure to serve: "three months", less a margin for short months and
/// for our clock against OKX's.
pub const SERVED_MS: i64 = 88 * DAY_MS;
pub const DEPTH_REASON: &str = "OKX's funding-rate-history serves the last three months \
    only; older funding rates are not available from OKX's REST API";

static RATE: LazyLock<RateLimiter> = LazyLock::new(|| RateLimiter::new(10, Duration::from_secs(2)));

/// One funding fetch.
pub struct Job {
    pub market: Market,
    /// As the user typed it.
    pub symbol: String,
    pub inst_id: String,
    pub base_url: String,
    pub http: Arc<HttpClient>,
}

/// What a fetch found: rows of `[cut, end)` and the range before `cut` OKX no longer serves.
pub struct Found {
    pub rows: Vec<FundingRate>,
    pub requests: u64,
    pub covered: (i64, i64),
    pub missing: Option<MissingRange>,
}

impl Job {
    fn place(&self) -> String {
        format!("OKX {} {} funding", self.market.id(), self.inst_id)
    }

    async fn page(&self, lo: i64, cursor: i64) -> Result<FundingPage, ProviderError> {
        let before = if lo > 0 {
            format!("&before={}", lo - 1)
        } else {
            String::new()
        };
        let url = format!(
            "{}{PATH}?instId={}&after={cursor}{before}&limit={PAGE}",
            self.base_url, self.inst_id
        );
        let asked = Asked {
            market: self.market,
            symbol: &self.symbol,
            inst_id: &self.inst_id,
            interval: "funding",
            bar: "",
        };
        let place = format!("{}: GET {url}", self.place());
        let data = get_data(&self.http, &url, &RATE, &asked, &place).await?;
        let rows = data
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| parse_row(r).map_err(|e| context(e, &format!("{place}: row {i}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(FundingPage {
            rows,
            requests: data.requests,
        })
    }

    /// Every funding rate OKX has in `[start, end)`, as of `now`.
    pub async fn fetch(&self, start: i64, end: i64, now: i64) -> Result<Found, ProviderError> {
        let place = self.place();
        let (rows, requests) =
            walk_back(start, end, PAGE, &place, |cursor| self.page(start, cursor)).await?;
        let cut = depth_cut(start, end, rows.first().map(|r| r.funding_time), now);
        let missing = (cut > start).then(|| MissingRange {
            start_ms: start,
            end_ms: cut,
            reason: DEPTH_REASON.into(),
        });
        Ok(Found {
            rows,
            requests,
            covered: (cut, end),
            missing,
        })
    }
}

/// Where the served history of `[start, end)` begins: `start` when it lies within the three
/// months; else at the oldest row OKX returned (nothing older is served), at the latest
/// the three-month horizon, and `end` when nothing was returned of a range wholly older.
pub fn depth_cut(start: i64, end: i64, oldest: Option<i64>, now: i64) -> i64 {
    let horizon = now - SERVED_MS;
    if start >= horizon {
        return start;
    }
    oldest.unwrap_or(end).min(horizon).clamp(start, end)
}

/// One row. realizedRate is what was paid; fundingRate is the rate OKX predicted before
/// settlement, used only where realizedRate is empty (OKX leaves it so for some rows).
pub fn parse_row(row: &Value) -> Result<FundingRate, ProviderError> {
    let realized = text(row, "realizedRate")?;
    let rate = if realized.trim().is_empty() {
        decimal_field(row, "fundingRate")?
    } else {
        decimal_field(row, "realizedRate")?
    };
    Ok(FundingRate {
        funding_time: int_field(row, "fundingTime")?,
        rate,
        mark_price: f64::NAN,
        interval_ms: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented example row.
    const EXAMPLE: &str = r#"{"formulaType":"noRate","fundingRate":"0.0000746604960499","fundingTime":"1703059200000","instId":"BTC-USD-SWAP","instType":"SWAP","method":"next_period","realizedRate":"0.0000746572360545"}"#;

    #[test]
    fn parses_the_documented_row_taking_the_realized_rate() {
        let row: Value = serde_json::from_str(EXAMPLE).unwrap();
        let r = parse_row(&row).unwrap();
        assert_eq!(r.funding_time, 1_703_059_200_000);
        assert_eq!(r.rate, 0.0000746572360545);
        assert!(r.mark_price.is_nan());
        assert_eq!(r.interval_ms, 0);
        let empty = EXAMPLE.replace("\"0.0000746572360545\"", "\"\"");
        let r = parse_row(&serde_json::from_str(&empty).unwrap()).unwrap();
        assert_eq!(
            r.rate, 0.0000746604960499,
            "fundingRate when realizedRate is empty"
        );
        let bad = EXAMPLE.replace("\"1703059200000\"", "\"soon\"");
        let e = parse_row(&serde_json::from_str(&bad).unwrap()).unwrap_err();
        assert!(e.message.contains("fundingTime"), "{e}");
        let e = parse_row(&serde_json::json!({"fundingTime": "1"})).unwrap_err();
        assert!(e.message.contains("realizedRate is missing"), "{e}");
    }

    #[test]
    fn the_depth_cut() {
        let now = 1_000 * DAY_MS;
        let horizon = now - SERVED_MS;
        // Inside the three months: all of it is served.
        assert_eq!(
            depth_cut(horizon, now, Some(horizon + DAY_MS), now),
            horizon
        );
        // Before: served from the oldest row returned, at the latest from the horizon.
        let start = now - 200 * DAY_MS;
        assert_eq!(
            depth_cut(start, now, Some(now - 90 * DAY_MS), now),
            now - 90 * DAY_MS
        );
        assert_eq!(depth_cut(start, now, Some(now - DAY_MS), now), horizon);
        assert_eq!(depth_cut(start, now, None, now), horizon);
        // Wholly older and nothing returned: all missing.
        assert_eq!(depth_cut(start, start + DAY_MS, None, now), start + DAY_MS);
    }
}

/// Funding rows fuzzed: any object of the row's field names (and a lone cell), no panic;
/// parsed rows hold a finite rate. `PROPTEST_CASES` sets the count.
#[cfg(test)]
mod fuzz {
    use super::*;
    use dsm_plugin_kit::fuzz::json_object;
    use proptest::prelude::*;

    const FIELDS: &[&str] = &["fundingTime", "fundingRate", "realizedRate", "instId"];

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn fuzz_okx_funding_rows(row in json_object(FIELDS)) {
            if let Ok(r) = parse_row(&row) {
                prop_assert!(r.rate.is_finite());
            }
        }
    }
}
