//! A candle fetch from Bybit's `/v5/market/kline` (or the mark, index and premium series,
//! see series.rs): windows of exactly `1000 x interval`, fetched concurrently and delivered
//! in order.
//!
//! With `start` and `end` Bybit returns the NEWEST `limit` candles of the window, newest
//! first, so a window that holds at most `limit` candles comes back whole in one request; a
//! fuller one (never planned) is paged backwards by moving `end`. Rows, all strings:
//! `[startTime, open, high, low, close, volume, turnover]` (mark, index, premium: the first
//! five). Mapping to [`Kline`]:
//!
//! | Kline field            | spot / linear           | inverse                        |
//! |------------------------|-------------------------|--------------------------------|
//! | volume                 | volume: base coin       | volume: contracts (USD)        |
//! | quote_volume           | turnover: quote coin    | turnover: BASE coin            |
//! | close_time             | next open - 1 (Bybit sends none)                         |
//! | trades, taker volumes  | 0: Bybit klines do not carry them                        |
//! | mark/index/premium     | volume and quote_volume 0 (their rows have none)         |
//!
//! The still-forming candle comes back like the others; the host leaves it out.

use std::sync::Arc;

use dsm_plugin_kit::pager::{self, Page};
use dsm_plugin_kit::parse::{ascending, context, decimal_at, int_at};
use dsm_plugin_kit::{Fetched, HttpClient, Interval, Window};
use dsm_sdk::{ErrorKind, Kline, ProviderError};
use serde_json::Value;

use crate::api::get_list;
use crate::errors::Asked;
use crate::markets::Market;
use crate::series::Series;

/// Bybit's largest `limit` (klines, mark, index and premium alike).
pub const PAGE: u32 = 1000;

/// Everything a window fetch needs; shared by the concurrent window tasks.
pub struct Job {
    pub market: Market,
    pub series: &'static Series,
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
            "{}{}?category={}&symbol={}&interval={}&start={lo}&end={}&limit={PAGE}",
            self.base_url,
            self.series.path,
            self.market.id(),
            self.symbol,
            self.bybit_interval,
            cursor - 1
        )
    }

    /// The newest page of candles opening in `[lo, cursor)`.
    async fn page(&self, lo: i64, cursor: i64) -> Result<Page, ProviderError> {
        let url = self.url(lo, cursor);
        let asked = Asked {
            market: self.market,
            typed: &self.typed,
            symbol: &self.symbol,
            interval: &self.interval_name,
        };
        let place = format!(
            "Bybit {} {} {} {}: GET {url}",
            self.market.id(),
            self.symbol,
            self.interval_name,
            self.series.kind
        );
        let list = get_list(&self.http, &url, &asked, &place).await?;
        let mut klines = list
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                parse_row(row, self.interval, self.series)
                    .map_err(|e| context(e, &format!("{place}: row {i}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let received = klines.len();
        // Out of order or repeated rows: sorted, exact repeats dropped, conflicts refused.
        ascending(&mut klines, &place)?;
        Ok(Page {
            received,
            klines,
            requests: list.requests,
        })
    }
}

/// One row of `series` as a candle.
pub fn parse_row(row: &Value, interval: Interval, series: &Series) -> Result<Kline, ProviderError> {
    let row = row
        .as_array()
        .ok_or_else(|| ProviderError::new(ErrorKind::PARSE, format!("not an array: {row}")))?;
    let open_time = int_at(row, 0, "startTime")?;
    let (volume, quote_volume) = if series.volumes {
        (
            decimal_at(row, 5, "volume")?,
            decimal_at(row, 6, "turnover")?,
        )
    } else {
        (0.0, 0.0)
    };
    Ok(Kline {
        open_time,
        open: decimal_at(row, 1, "open")?,
        high: decimal_at(row, 2, "high")?,
        low: decimal_at(row, 3, "low")?,
        close: decimal_at(row, 4, "close")?,
        volume,
        close_time: interval.next(open_time) - 1,
        quote_volume,
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
    use crate::series::KLINES;

    #[test]
    fn parses_the_documented_row() {
        // From the docs: inverse BTCUSD.
        let row: Value = serde_json::from_str(
            r#"["1670608800000","17071","17073","17027","17055.5","268611","15.74462667"]"#,
        )
        .unwrap();
        let k = parse_row(&row, Interval::parse("1h").unwrap(), &KLINES).unwrap();
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
        let e = parse_row(&bad, Interval::parse("1h").unwrap(), &KLINES).unwrap_err();
        assert!(e.message.contains("column 6 (turnover) is missing"), "{e}");
    }
}

/// Bybit row parsing fuzzed on the stable toolchain: any JSON row, no panic; parsed candles
/// hold finite numbers. `PROPTEST_CASES` sets the count (256 by default); a long run:
/// `PROPTEST_CASES=1000000 cargo test --release -p dsm-bybit fuzz_`.
#[cfg(test)]
mod fuzz {
    use super::*;
    use crate::series::{INDEX, KLINES, MARK, PREMIUM};
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
            which in 0..4_usize,
        ) {
            let interval = Interval::parse(iv).unwrap();
            if let Ok(k) = parse_row(&row, interval, [&KLINES, &MARK, &INDEX, &PREMIUM][which]) {
                prop_assert!([k.open, k.high, k.low, k.close, k.volume]
                    .iter()
                    .all(|v| v.is_finite()));
            }
        }
    }
}
