//! Trade history of OKX swaps (wire-formats-datasets.md 3.4): GET
//! /api/v5/market/history-trades, newest first, 100 rows a request, 20 requests / 2 s.
//!
//! A day is walked an hour at a time, oldest hour first, so rows reach the host ascending
//! while memory holds one hour: each hour's first page asks by time (`type=2`,
//! `after` = the hour's end, exclusive), later pages by trade id (`type=1`, `after` = the
//! oldest id so far), since many trades share a millisecond and a time cursor would skip
//! them. Ids must fall page after page and times never rise: a server that repeats or
//! reorders pages fails the fetch (`INTEGRITY`) instead of looping.
//!
//! Rows `{"instId","side","sz","px","tradeId","ts"}`, all strings, map to a trade with id
//! tradeId, qty sz (contracts on swaps), buyer the maker when the taker side is "sell",
//! no quote quantity and no best-match flag. OKX keeps three months: older parts of a
//! range are reported missing with that reason.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use dsm_plugin_kit::deliver::TradesOut;
use dsm_plugin_kit::fields::{decimal_field, int_field, text};
use dsm_plugin_kit::parse::context;
use dsm_plugin_kit::{HttpClient, RateLimiter};
use dsm_sdk::time::{now_ms, HOUR_MS};
use dsm_sdk::{
    plugin::Host, ErrorKind, FetchReport, MissingRange, ProviderError, SourceKind, Trade,
    TradeBatch,
};
use serde_json::Value;

use crate::api::get_data;
use crate::errors::Asked;
use crate::markets::Market;

pub const PATH: &str = "/api/v5/market/history-trades";
pub const PAGE: usize = 100;
/// How far back OKX is sure to serve (its "last 3 months", less a margin as for funding).
pub const SERVED_MS: i64 = crate::funding::SERVED_MS;
pub const DEPTH_REASON: &str = "OKX's history-trades serves the last three months only; \
    older trades are in OKX's bulk files (market-data-history), which dsm does not read";

static RATE: LazyLock<RateLimiter> = LazyLock::new(|| RateLimiter::new(20, Duration::from_secs(2)));

pub struct Job {
    pub market: Market,
    pub symbol: String,
    pub inst_id: String,
    pub base_url: String,
    pub http: Arc<HttpClient>,
    pub host: Host,
}

fn integrity(msg: String) -> ProviderError {
    ProviderError::new(ErrorKind::INTEGRITY, msg)
}

/// One row.
pub fn parse_row(row: &Value) -> Result<Trade, ProviderError> {
    let side = text(row, "side")?;
    let buyer_maker = match side.as_str() {
        "sell" => 1,
        "buy" => 0,
        other => {
            return Err(ProviderError::new(
                ErrorKind::PARSE,
                format!("side {other:?} is not buy or sell"),
            ))
        }
    };
    Ok(Trade {
        id: int_field(row, "tradeId")?,
        time: int_field(row, "ts")?,
        price: decimal_field(row, "px")?,
        qty: decimal_field(row, "sz")?,
        quote_qty: f64::NAN,
        first_id: -1,
        last_id: -1,
        buyer_maker,
        best_match: 2,
    })
}

impl Job {
    fn place(&self) -> String {
        format!("OKX {} {} trades", self.market.id(), self.inst_id)
    }

    /// One page, newest first as received, and the requests made.
    async fn page(&self, query: &str) -> Result<(Vec<Trade>, u64), ProviderError> {
        let url = format!(
            "{}{PATH}?instId={}&{query}&limit={PAGE}",
            self.base_url, self.inst_id
        );
        let asked = Asked {
            market: self.market,
            symbol: &self.symbol,
            inst_id: &self.inst_id,
            interval: "trades",
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
        Ok((rows, data.requests))
    }

    /// Every trade of `[lo, hi)` (within one hour), ascending.
    async fn hour(
        &self,
        lo: i64,
        hi: i64,
        report: &mut FetchReport,
    ) -> Result<Vec<Trade>, ProviderError> {
        let mut rows: Vec<Trade> = Vec::new();
        let mut query = format!("type=2&after={hi}");
        let (mut oldest_id, mut oldest_ts) = (i64::MAX, hi);
        loop {
            dsm_plugin_kit::cancel::check(&self.host)?;
            let (page, requests) = self.page(&query).await?;
            report.requests += requests;
            let received = page.len();
            let mut reached = false;
            for t in page {
                if t.id >= oldest_id || t.time > oldest_ts {
                    return Err(integrity(format!(
                        "{}: trade {} at {} ms does not come before trade {oldest_id} at \
                         {oldest_ts} ms (pages must go back in ids and time; refusing to loop)",
                        self.place(),
                        t.id,
                        t.time
                    )));
                }
                (oldest_id, oldest_ts) = (t.id, t.time);
                if t.time < lo {
                    reached = true;
                    break;
                }
                rows.push(t);
            }
            if reached || received < PAGE {
                break;
            }
            query = format!("type=1&after={oldest_id}");
        }
        rows.reverse();
        Ok(rows)
    }

    /// Fetch `[start_ms, end_ms)` into `out`, an hour at a time.
    pub async fn fetch(
        &self,
        (start_ms, end_ms): (i64, i64),
        out: &mut dyn TradesOut,
    ) -> Result<FetchReport, ProviderError> {
        let now = now_ms();
        let end = end_ms.min(now);
        let mut report = FetchReport::default();
        let from = start_ms.max(now - SERVED_MS);
        if from > start_ms {
            report.missing.push(MissingRange {
                start_ms,
                end_ms: from.min(end_ms),
                reason: DEPTH_REASON.into(),
            });
        }
        let mut lo = from;
        let mut prev = i64::MIN;
        while lo < end {
            let hi = (lo - lo.rem_euclid(HOUR_MS) + HOUR_MS).min(end);
            let rows = self.hour(lo, hi, &mut report).await?;
            if let Some(first) = rows.first() {
                if first.id <= prev {
                    return Err(integrity(format!(
                        "{}: trade {} of the hour at {lo} ms does not follow trade {prev}",
                        self.place(),
                        first.id
                    )));
                }
            }
            prev = rows.last().map_or(prev, |t| t.id);
            report.klines += rows.len() as u64;
            out.trades(TradeBatch {
                rows: rows.into(),
                source: SourceKind::LIVE,
                covered_start_ms: lo,
                covered_end_ms: hi,
            })?;
            out.progress(hi - start_ms, end_ms - start_ms);
            lo = hi;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_okx_trades_rows() {
        let dir = std::env::var("DSM_REAL_WIRE").unwrap_or("/work/shared/real-wire".into());
        let path = format!("{dir}/samples/datasets/okx_spot_BTC-USDT_trades_nautilus.json");
        let Ok(body) = std::fs::read(&path) else {
            eprintln!("skipped: {path} is not there");
            return;
        };
        let doc: Value = serde_json::from_slice(&body).unwrap();
        let rows: Vec<Trade> = doc["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| parse_row(r).unwrap())
            .collect();
        assert_eq!(rows.len(), 2);
        // Newest first, as OKX sends them.
        assert!(rows[0].time > rows[1].time && rows[0].time == 1747087163557);
        assert_eq!(rows[0].id, 734864333);
        assert_eq!((rows[0].buyer_maker, rows[0].best_match), (1, 2));
        assert_eq!((rows[0].price, rows[0].qty), (102537.9, 0.00013669));
        let bad = serde_json::json!({"side":"up","sz":"1","px":"1","tradeId":"1","ts":"1"});
        assert!(parse_row(&bad).unwrap_err().message.contains("buy or sell"));
    }
}
