//! One window's klines: one request, plus a defensive follow-up if a page comes back full.

use std::sync::Arc;

use dsm_plugin_kit::{Fetched, HttpClient, WeightGate, Weighted, Window};
use dsm_sdk::{plugin::Host, Kline, LogLevel, ProviderError};

use dsm_plugin_kit::parse::{ascending, Reordered};

use crate::errors::{from_response, Asked};
use crate::markets::Market;
use crate::rows::parse_page;
use crate::series::Series;

/// Everything a window fetch needs; shared by the concurrent window tasks.
pub struct Job {
    pub market: Market,
    /// Klines, or mark / index / premium index klines.
    pub series: Series,
    pub symbol: String,
    pub interval: String,
    /// Shortest spacing of open times (see `Interval::min_step_ms`).
    pub min_step_ms: i64,
    pub base_url: String,
    pub http: Arc<HttpClient>,
    pub gate: Arc<WeightGate>,
    pub host: Host,
}

impl Job {
    fn capacity(&self, lo: i64, hi: i64) -> u32 {
        ((hi - lo + self.min_step_ms - 1) / self.min_step_ms) as u32
    }

    fn url(&self, lo: i64, hi: i64, limit: u32) -> String {
        // Binance's startTime and endTime are both inclusive.
        format!(
            "{}{}?{}={}&interval={}&startTime={lo}&endTime={}&limit={limit}",
            self.base_url,
            self.series.rest_path(self.market),
            self.series.param(),
            self.series.instrument(&self.symbol),
            self.interval,
            hi - 1
        )
    }

    /// GET `[lo, hi)`: the candles inside it, the number of rows received, and requests made.
    async fn request(
        &self,
        lo: i64,
        hi: i64,
        limit: u32,
    ) -> Result<(Vec<Kline>, usize, u64), ProviderError> {
        let url = self.url(lo, hi, limit);
        let weight = Weighted {
            gate: &self.gate,
            weight: self.market.request_weight(limit),
        };
        let resp = self.http.get(&url, Some(weight)).await?;
        if !resp.is_success() {
            let asked = Asked {
                market: self.market,
                symbol: &self.symbol,
                interval: &self.interval,
            };
            return Err(from_response(&asked, &resp));
        }
        let place = format!(
            "Binance {} {} {}: GET {url}",
            self.market.id(),
            self.symbol,
            self.interval
        );
        let mut rows = parse_page(&resp.body, &place, self.series.ohlc_only())?;
        let received = rows.len();
        // Out of order or repeated rows: sorted, exact repeats dropped, conflicts refused.
        let fixed = ascending(&mut rows, &place)?;
        if fixed != Reordered::default() {
            self.host.log(
                LogLevel::WARN,
                &format!(
                    "{place}: rows out of order: {}, exact repeats dropped: {}",
                    fixed.sorted, fixed.duplicates
                ),
            );
        }
        rows.retain(|k| k.open_time >= lo && k.open_time < hi);
        if rows.len() != received {
            let dropped = received - rows.len();
            self.host.log(
                LogLevel::WARN,
                &format!("{place}: dropped {dropped} rows outside the window"),
            );
        }
        Ok((rows, received, u64::from(resp.attempts)))
    }
}

/// Fetch window `w` completely.
/// Each request asks for `limit` candles, the call's page size: one request shape (and
/// weight) whatever the window; windows are planned to hold at most that many.
pub async fn fetch_window(job: Arc<Job>, w: Window, limit: u32) -> Result<Fetched, ProviderError> {
    let (mut lo, mut hi) = (w.start_ms, w.end_ms);
    let mut chunks: Vec<Vec<Kline>> = Vec::new();
    let mut requests = 0;
    loop {
        let capacity = job.capacity(lo, hi);
        let (rows, received, n) = job.request(lo, hi, limit).await?;
        requests += n;
        // A full page ends the window unless it can hold more (never for planned windows).
        let more = received >= limit as usize && capacity > limit && !rows.is_empty();
        let (first, last) = (
            rows.first().map(|k| k.open_time),
            rows.last().map(|k| k.open_time),
        );
        chunks.push(rows);
        if !more {
            break;
        }
        job.host.log(
            LogLevel::WARN,
            "Binance page full before the window's end; fetching the rest",
        );
        // COIN-M returned the newest rows: the rest is older. Others: the rest is newer.
        match job.market.newest_first() {
            true => hi = first.unwrap_or(hi),
            false => lo = last.map_or(lo, |t| t + 1),
        }
    }
    if job.market.newest_first() {
        chunks.reverse();
    }
    Ok(Fetched {
        window: w,
        klines: chunks.concat(),
        requests,
    })
}
