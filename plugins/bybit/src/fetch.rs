//! A fetch from Bybit's `/v5/market/kline`: windows of exactly `1000 x interval`, fetched
//! concurrently and delivered in order.
//!
//! With `start` and `end` Bybit returns the NEWEST `limit` candles of the window, newest
//! first, so a window that holds at most `limit` candles comes back whole in one request; a
//! fuller one (never planned) is paged backwards by moving `end`. Rows, all strings:
//! `[startTime, open, high, low, close, volume, turnover]`. Mapping to [`Kline`]:
//!
//! | Kline field            | spot / linear           | inverse                        |
//! |------------------------|-------------------------|--------------------------------|
//! | volume                 | volume: base coin       | volume: contracts (USD)        |
//! | quote_volume           | turnover: quote coin    | turnover: BASE coin            |
//! | close_time             | next open - 1 (Bybit sends none)                         |
//! | trades, taker volumes  | 0: Bybit klines do not carry them                        |
//!
//! The still-forming candle comes back like the others; the host leaves it out.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use dsm_plugin_kit::pager::{self, Page};
use dsm_plugin_kit::parse::{ascending, context, decimal_at, int_at};
use dsm_plugin_kit::{Fetched, HttpClient, Interval, Policy, RateLimiter, Window};
use dsm_sdk::{ErrorKind, Kline, ProviderError};
use serde_json::Value;

use crate::errors::{from_response, ret_code, throttled, Asked};
use crate::markets::Market;

/// Bybit's largest `limit`.
pub const PAGE: u32 = 1000;
pub const KLINE_PATH: &str = "/v5/market/kline";

/// 600 requests per 5 s per IP, for the whole process (every provider instance shares it).
static IP_RATE: LazyLock<RateLimiter> =
    LazyLock::new(|| RateLimiter::new(600, Duration::from_secs(5)));
/// After a 10006 that names no reset time.
const THROTTLE_WAIT_MS: u64 = 1_000;

/// Everything a window fetch needs; shared by the concurrent window tasks.
pub struct Job {
    pub market: Market,
    /// As the user typed it.
    pub typed: String,
    pub symbol: String,
    pub interval_name: String,
    pub interval: Interval,
    pub bybit_interval: &'static str,
    pub base_url: String,
    pub http: Arc<HttpClient>,
}

impl Job {
    fn url(&self, lo: i64, cursor: i64) -> String {
        // start and end are both inclusive.
        format!(
            "{}{KLINE_PATH}?category={}&symbol={}&interval={}&start={lo}&end={}&limit={PAGE}",
            self.base_url,
            self.market.id(),
            self.symbol,
            self.bybit_interval,
            cursor - 1
        )
    }

    /// The newest page of candles opening in `[lo, cursor)`.
    async fn page(&self, lo: i64, cursor: i64) -> Result<Page, ProviderError> {
        let url = self.url(lo, cursor);
        let policy = Policy {
            rate: Some(&IP_RATE),
            throttled: Some(&throttled),
            throttle_wait_ms: Some(THROTTLE_WAIT_MS),
            ..Policy::default()
        };
        let resp = self.http.get_with(&url, &policy).await?;
        let asked = Asked {
            market: self.market,
            typed: &self.typed,
            symbol: &self.symbol,
            interval: &self.interval_name,
        };
        let doc: Value = match serde_json::from_slice(&resp.body) {
            Ok(doc) if resp.is_success() => doc,
            _ => return Err(from_response(&asked, &resp)),
        };
        if ret_code(&doc).map(|(c, _)| c) != Some(0) {
            return Err(from_response(&asked, &resp));
        }
        let place = format!(
            "Bybit {} {} {}: GET {url}",
            self.market.id(),
            self.symbol,
            self.interval_name
        );
        let rows = doc
            .pointer("/result/list")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                ProviderError::new(
                    ErrorKind::PARSE,
                    format!("{place}: the answer has retCode 0 but no result.list"),
                )
            })?;
        let klines = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                parse_row(row, self.interval).map_err(|e| context(e, &format!("{place}: row {i}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let received = klines.len();
        // Out of order or repeated rows: sorted, exact repeats dropped, conflicts refused.
        let mut klines = klines;
        ascending(&mut klines, &place)?;
        Ok(Page {
            received,
            klines,
            requests: u64::from(resp.attempts),
        })
    }
}

/// One row as a candle.
pub fn parse_row(row: &Value, interval: Interval) -> Result<Kline, ProviderError> {
    let row = row
        .as_array()
        .ok_or_else(|| ProviderError::new(ErrorKind::PARSE, format!("not an array: {row}")))?;
    let open_time = int_at(row, 0, "startTime")?;
    Ok(Kline {
        open_time,
        open: decimal_at(row, 1, "open")?,
        high: decimal_at(row, 2, "high")?,
        low: decimal_at(row, 3, "low")?,
        close: decimal_at(row, 4, "close")?,
        volume: decimal_at(row, 5, "volume")?,
        close_time: interval.next(open_time) - 1,
        quote_volume: decimal_at(row, 6, "turnover")?,
        trades: 0,
        taker_buy_base_volume: 0.0,
        taker_buy_quote_volume: 0.0,
    })
}

/// Window `w` completely (one request for a planned window).
pub async fn fetch_window(job: Arc<Job>, w: Window) -> Result<Fetched, ProviderError> {
    let step = job.interval.min_step_ms();
    pager::window(w, PAGE, step, |cursor| job.page(w.start_ms, cursor)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_row() {
        // From the docs: inverse BTCUSD.
        let row: Value = serde_json::from_str(
            r#"["1670608800000","17071","17073","17027","17055.5","268611","15.74462667"]"#,
        )
        .unwrap();
        let k = parse_row(&row, Interval::parse("1h").unwrap()).unwrap();
        assert_eq!(
            k,
            Kline {
                open_time: 1670608800000,
                open: 17071.0,
                high: 17073.0,
                low: 17027.0,
                close: 17055.5,
                volume: 268611.0,
                close_time: 1670608800000 + 3_599_999,
                quote_volume: 15.74462667,
                trades: 0,
                taker_buy_base_volume: 0.0,
                taker_buy_quote_volume: 0.0,
            }
        );
        let bad: Value = serde_json::from_str(r#"["1","1","1","1","1","1"]"#).unwrap();
        let e = parse_row(&bad, Interval::parse("1h").unwrap()).unwrap_err();
        assert!(e.message.contains("column 6 (turnover) is missing"), "{e}");
    }
}

/// Bybit row parsing fuzzed on the stable toolchain: any JSON row, no panic; parsed candles
/// hold finite numbers. `PROPTEST_CASES` sets the count (256 by default); a long run:
/// `PROPTEST_CASES=1000000 cargo test --release -p dsm-bybit fuzz_`.
#[cfg(test)]
mod fuzz {
    use super::*;
    use dsm_plugin_kit::fuzz::json_row;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn fuzz_bybit_rows(
            row in json_row(12),
            iv in prop::sample::select(vec!["1s", "1m", "1h", "1d", "1w", "1M"]),
        ) {
            let interval = Interval::parse(iv).unwrap();
            if let Ok(k) = parse_row(&row, interval) {
                prop_assert!([k.open, k.high, k.low, k.close, k.volume]
                    .iter()
                    .all(|v| v.is_finite()));
            }
        }
    }
}
