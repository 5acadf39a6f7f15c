//! A candle fetch from OKX (history-candles, or the mark / index series, see series.rs):
//! UTC-day chunks (one-page windows for long bars), each paged backwards with `after` from
//! its end, delivered ascending.
//!
//! Rows come newest first, every cell a string: history-candles
//! `[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`, mark and index
//! `[ts, o, h, l, c, confirm]`. Mapping to [`Kline`]:
//!
//! | Kline field            | OKX                                                      |
//! |------------------------|----------------------------------------------------------|
//! | open_time              | ts                                                       |
//! | open/high/low/close    | o, h, l, c                                               |
//! | volume                 | vol: base currency (spot), contracts (swaps); mark/index 0 |
//! | close_time             | next open - 1 (OKX sends none)                           |
//! | quote_volume           | volCcyQuote: quote currency (USDT; USD for BTC-USD-SWAP); mark/index 0 |
//! | trades, taker volumes  | 0: OKX candles do not carry them                         |
//!
//! A row with confirm "0" is still forming and is left out.

use std::sync::Arc;

use dsm_plugin_kit::pager::{self, Page};
use dsm_plugin_kit::parse::{ascending, cell, context, decimal_at, int_at};
use dsm_plugin_kit::{Fetched, HttpClient, Interval, Window};
use dsm_sdk::{plugin::Host, ErrorKind, Kline, LogLevel, ProviderError};
use serde_json::Value;

use crate::api::get_data;
use crate::errors::Asked;
use crate::markets::Market;
use crate::series::Series;

/// Rows a request asks for: history-candles' documented maximum in older docs, and the
/// safe default (newer docs allow 300); the mark and index series' maximum.
pub const PAGE: u32 = 100;

/// Everything a chunk fetch needs; shared by the concurrent chunk tasks.
pub struct Job {
    pub market: Market,
    pub series: &'static Series,
    /// As the user typed it.
    pub symbol: String,
    /// The instId the series takes (the index id for index candles).
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
            "{}{}?instId={}&bar={}&after={cursor}{before}&limit={PAGE}",
            self.base_url, self.series.path, self.inst_id, self.bar
        )
    }

    /// The newest page of candles opening in `[lo, cursor)`.
    async fn page(&self, lo: i64, cursor: i64) -> Result<Page, ProviderError> {
        let url = self.url(lo, cursor);
        let place = format!(
            "OKX {} {} {} {}: GET {url}",
            self.market.id(),
            self.inst_id,
            self.interval_name,
            self.series.kind
        );
        let data = get_data(&self.http, &url, self.series.rate, &self.asked(), &place).await?;
        let rows = data.rows;
        let mut klines = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let parsed = parse_row(row, self.interval, self.series)
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
            requests: data.requests,
        })
    }
}

/// One row of `series` as a candle; `None` for a candle still forming (confirm "0").
pub fn parse_row(
    row: &Value,
    interval: Interval,
    series: &Series,
) -> Result<Option<Kline>, ProviderError> {
    let row = row
        .as_array()
        .ok_or_else(|| ProviderError::new(ErrorKind::PARSE, format!("not an array: {row}")))?;
    let confirm = cell(row, series.confirm_col(), "confirm")?;
    if confirm.as_str().map(str::trim) == Some("0") {
        return Ok(None);
    }
    let open_time = int_at(row, 0, "ts")?;
    let (volume, quote_volume) = if series.volumes {
        (
            decimal_at(row, 5, "vol")?,
            decimal_at(row, 7, "volCcyQuote")?,
        )
    } else {
        (0.0, 0.0)
    };
    Ok(Some(Kline {
        open_time,
        open: decimal_at(row, 1, "o")?,
        high: decimal_at(row, 2, "h")?,
        low: decimal_at(row, 3, "l")?,
        close: decimal_at(row, 4, "c")?,
        volume,
        close_time: interval.next(open_time) - 1,
        quote_volume,
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
    use crate::series::KLINES;

    /// The documented example row.
    const EXAMPLE: &str = r#"["1597026383085","3.721","3.743","3.677","3.708","8422410","22698348.04828491","12698348.04828491","1"]"#;

    #[test]
    fn parses_the_documented_row() {
        let row: Value = serde_json::from_str(EXAMPLE).unwrap();
        let iv = Interval::parse("1m").unwrap();
        let k = parse_row(&row, iv, &KLINES).unwrap().unwrap();
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
    fn mark_and_index_rows_have_six_cells_and_no_volumes() {
        use crate::series::{INDEX, MARK};
        // The documented example row of history-mark-price-candles.
        let row: Value =
            serde_json::from_str(r#"["1597026383085","3.721","3.743","3.677","3.708","1"]"#)
                .unwrap();
        let iv = Interval::parse("1m").unwrap();
        for series in [&MARK, &INDEX] {
            let k = parse_row(&row, iv, series).unwrap().unwrap();
            assert_eq!(
                (k.open, k.high, k.low, k.close),
                (3.721, 3.743, 3.677, 3.708)
            );
            assert_eq!((k.volume, k.quote_volume), (0.0, 0.0));
            assert_eq!(k.close_time, 1597026383085 + 59_999);
        }
        let forming: Value =
            serde_json::from_str(r#"["1597026383085","1","1","1","1","0"]"#).unwrap();
        assert_eq!(parse_row(&forming, iv, &MARK).unwrap(), None);
        // A candles row read as mark: cell 5 is vol, not a confirm flag, and is no "0".
        let e = parse_row(
            &serde_json::from_str(r#"["1","1","1","1","1"]"#).unwrap(),
            iv,
            &MARK,
        );
        assert!(e.unwrap_err().message.contains("column 5 (confirm)"));
    }

    #[test]
    fn forming_rows_are_left_out_and_bad_cells_named() {
        let iv = Interval::parse("1M").unwrap();
        let forming: Value =
            serde_json::from_str(r#"["1704067200000","1","1","1","1","1","1","1","0"]"#).unwrap();
        assert_eq!(parse_row(&forming, iv, &KLINES).unwrap(), None);
        let done: Value =
            serde_json::from_str(r#"["1704067200000","1","2","1","1","1","1","1","1"]"#).unwrap();
        let k = parse_row(&done, iv, &KLINES).unwrap().unwrap();
        assert_eq!(k.close_time, 1_706_745_600_000 - 1, "January has 31 days");
        let bad: Value = serde_json::from_str(r#"["1","1","x","1","1","1","1","1","1"]"#).unwrap();
        let e = parse_row(&bad, iv, &KLINES).unwrap_err();
        assert!(e.message.contains("column 2 (h)"), "{e}");
        let short: Value = serde_json::from_str(r#"["1","1"]"#).unwrap();
        assert!(parse_row(&short, iv, &KLINES)
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
    use crate::series::{INDEX, KLINES, MARK};
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
            which in 0..3_usize,
        ) {
            let interval = Interval::parse(iv).unwrap();
            if let Ok(Some(k)) = parse_row(&row, interval, [&KLINES, &MARK, &INDEX][which]) {
                prop_assert!([k.open, k.high, k.low, k.close, k.volume]
                    .iter()
                    .all(|v| v.is_finite()));
            }
        }
    }
}
