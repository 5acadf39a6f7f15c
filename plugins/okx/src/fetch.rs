//! A fetch from OKX's history-candles: UTC-day chunks (one-page windows for long bars),
//! each paged backwards with `after` from its end, delivered ascending.
//!
//! Rows come newest first, every cell a string:
//! `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`. Mapping to [`Kline`]:
//!
//! | Kline field            | OKX                                                      |
//! |------------------------|----------------------------------------------------------|
//! | open_time              | ts                                                       |
//! | open/high/low/close    | o, h, l, c                                               |
//! | volume                 | vol: base currency (spot), contracts (swaps)             |
//! | close_time             | next open - 1 (OKX sends none)                           |
//! | quote_volume           | volCcyQuote: quote currency (USDT; USD for BTC-USD-SWAP) |
//! | trades, taker volumes  | 0: OKX candles do not carry them                         |
//!
//! A row with confirm "0" is still forming and is left out.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use dsm_plugin_kit::pager::{self, Page};
use dsm_plugin_kit::parse::{ascending, cell, context, decimal_at, int_at};
use dsm_plugin_kit::{Fetched, HttpClient, Interval, Policy, RateLimiter, Window};
use dsm_sdk::{plugin::Host, ErrorKind, Kline, LogLevel, ProviderError};
use serde_json::Value;

use crate::errors::{code_of, from_response, is_rate_limit_body, Asked};
use crate::markets::Market;

/// Rows a request asks for: history-candles' documented maximum in older docs, and the
/// safe default (newer docs allow 300).
pub const PAGE: u32 = 100;
pub const HISTORY_PATH: &str = "/api/v5/market/history-candles";

/// history-candles allows 20 requests per 2 s per IP: one budget for the whole process
/// (every provider instance of this plugin shares the IP).
static HISTORY_RATE: LazyLock<RateLimiter> =
    LazyLock::new(|| RateLimiter::new(20, Duration::from_secs(2)));
/// After a 50011 without Retry-After, wait out OKX's whole 2 s window.
const RATE_WINDOW_MS: u64 = 2_000;

/// Everything a chunk fetch needs; shared by the concurrent chunk tasks.
pub struct Job {
    pub market: Market,
    /// As the user typed it.
    pub symbol: String,
    pub inst_id: String,
    pub interval_name: String,
    pub interval: Interval,
    pub bar: &'static str,
    pub base_url: String,
    pub http: Arc<HttpClient>,
    pub host: Host,
}

impl Job {
    fn asked(&self) -> Asked<'_> {
        Asked {
            market: self.market,
            symbol: &self.symbol,
            inst_id: &self.inst_id,
            interval: &self.interval_name,
            bar: self.bar,
        }
    }

    fn url(&self, lo: i64, cursor: i64) -> String {
        // `after`: rows older than it; `before`: rows newer than it (both exclusive).
        let before = if lo > 0 {
            format!("&before={}", lo - 1)
        } else {
            String::new()
        };
        format!(
            "{}{HISTORY_PATH}?instId={}&bar={}&after={cursor}{before}&limit={PAGE}",
            self.base_url, self.inst_id, self.bar
        )
    }

    /// The newest page of candles opening in `[lo, cursor)`.
    async fn page(&self, lo: i64, cursor: i64) -> Result<Page, ProviderError> {
        let url = self.url(lo, cursor);
        let throttled = |_: u16, _: &_, body: &[u8]| is_rate_limit_body(body).then_some(None);
        let policy = Policy {
            rate: Some(&HISTORY_RATE),
            throttled: Some(&throttled),
            throttle_wait_ms: Some(RATE_WINDOW_MS),
            ..Policy::default()
        };
        let resp = self.http.get_with(&url, &policy).await?;
        let place = format!(
            "OKX {} {} {}: GET {url}",
            self.market.id(),
            self.inst_id,
            self.interval_name
        );
        let doc: Value = match serde_json::from_slice(&resp.body) {
            Ok(doc) if resp.is_success() => doc,
            _ => return Err(from_response(&self.asked(), &resp)),
        };
        if code_of(&doc).as_deref() != Some("0") {
            return Err(from_response(&self.asked(), &resp));
        }
        let rows = doc.get("data").and_then(Value::as_array).ok_or_else(|| {
            ProviderError::new(
                ErrorKind::PARSE,
                format!("{place}: the answer has code 0 but no data array"),
            )
        })?;
        let mut klines = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let parsed = parse_row(row, self.interval)
                .map_err(|e| context(e, &format!("{place}: row {i}")))?;
            if let Some(k) = parsed {
                klines.push(k);
            }
        }
        // Out of order or repeated rows: sorted, exact repeats dropped, conflicts refused.
        ascending(&mut klines, &place)?;
        let forming = rows.len() - klines.len();
        if forming > 1 {
            self.host.log(
                LogLevel::WARN,
                &format!("{place}: {forming} rows not confirmed (only the newest should be)"),
            );
        }
        Ok(Page {
            klines,
            received: rows.len(),
            requests: u64::from(resp.attempts),
        })
    }
}

/// One row as a candle; `None` for a candle still forming (confirm "0").
pub fn parse_row(row: &Value, interval: Interval) -> Result<Option<Kline>, ProviderError> {
    let row = row
        .as_array()
        .ok_or_else(|| ProviderError::new(ErrorKind::PARSE, format!("not an array: {row}")))?;
    let confirm = cell(row, 8, "confirm")?;
    if confirm.as_str().map(str::trim) == Some("0") {
        return Ok(None);
    }
    let open_time = int_at(row, 0, "ts")?;
    Ok(Some(Kline {
        open_time,
        open: decimal_at(row, 1, "o")?,
        high: decimal_at(row, 2, "h")?,
        low: decimal_at(row, 3, "l")?,
        close: decimal_at(row, 4, "c")?,
        volume: decimal_at(row, 5, "vol")?,
        close_time: interval.next(open_time) - 1,
        quote_volume: decimal_at(row, 7, "volCcyQuote")?,
        trades: 0,
        taker_buy_base_volume: 0.0,
        taker_buy_quote_volume: 0.0,
    }))
}

/// Chunk `w` completely: pages backwards from its end.
pub async fn fetch_chunk(job: Arc<Job>, w: Window) -> Result<Fetched, ProviderError> {
    let step = job.interval.min_step_ms();
    pager::window(w, PAGE, step, |cursor| job.page(w.start_ms, cursor)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented example row.
    const EXAMPLE: &str = r#"["1597026383085","3.721","3.743","3.677","3.708","8422410","22698348.04828491","12698348.04828491","1"]"#;

    #[test]
    fn parses_the_documented_row() {
        let row: Value = serde_json::from_str(EXAMPLE).unwrap();
        let iv = Interval::parse("1m").unwrap();
        let k = parse_row(&row, iv).unwrap().unwrap();
        assert_eq!(
            k,
            Kline {
                open_time: 1597026383085,
                open: 3.721,
                high: 3.743,
                low: 3.677,
                close: 3.708,
                volume: 8422410.0,
                close_time: 1597026383085 + 59_999,
                quote_volume: 12698348.04828491,
                trades: 0,
                taker_buy_base_volume: 0.0,
                taker_buy_quote_volume: 0.0,
            }
        );
    }

    #[test]
    fn forming_rows_are_left_out_and_bad_cells_named() {
        let iv = Interval::parse("1M").unwrap();
        let forming: Value =
            serde_json::from_str(r#"["1704067200000","1","1","1","1","1","1","1","0"]"#).unwrap();
        assert_eq!(parse_row(&forming, iv).unwrap(), None);
        let done: Value =
            serde_json::from_str(r#"["1704067200000","1","2","1","1","1","1","1","1"]"#).unwrap();
        let k = parse_row(&done, iv).unwrap().unwrap();
        assert_eq!(k.close_time, 1_706_745_600_000 - 1, "January has 31 days");
        let bad: Value = serde_json::from_str(r#"["1","1","x","1","1","1","1","1","1"]"#).unwrap();
        let e = parse_row(&bad, iv).unwrap_err();
        assert!(e.message.contains("column 2 (h)"), "{e}");
        let short: Value = serde_json::from_str(r#"["1","1"]"#).unwrap();
        assert!(parse_row(&short, iv)
            .unwrap_err()
            .message
            .contains("confirm"));
    }
}

/// OKX row parsing fuzzed on the stable toolchain: any JSON row, no panic; parsed candles
/// hold finite numbers. `PROPTEST_CASES` sets the count (256 by default); a long run:
/// `PROPTEST_CASES=1000000 cargo test --release -p dsm-okx fuzz_`.
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
        fn fuzz_okx_rows(
            row in json_row(12),
            iv in prop::sample::select(vec!["1s", "1m", "1h", "1d", "1w", "1M"]),
        ) {
            let interval = Interval::parse(iv).unwrap();
            if let Ok(Some(k)) = parse_row(&row, interval) {
                prop_assert!([k.open, k.high, k.low, k.close, k.volume]
                    .iter()
                    .all(|v| v.is_finite()));
            }
        }
    }
}
