//! Funding rate history over REST, paged forward: `startTime`/`endTime` are inclusive, a
//! page holds the oldest `limit` rows from `startTime` (ascending), so the next page starts
//! 1 ms after the last row. One LIVE batch per page, covering from the page's start to the
//! next page's (the last: to the end of the range).

use std::sync::Arc;

use dsm_plugin_kit::deliver::FundingOut;
use dsm_plugin_kit::funding::ascending;
use dsm_plugin_kit::parse::Reordered;
use dsm_plugin_kit::{HttpClient, WeightGate, Weighted};
use dsm_sdk::{
    plugin::Host, ErrorKind, FetchReport, FundingBatch, LogLevel, ProviderError, SourceKind,
};

use super::rows::parse_page;
use crate::errors::{from_response, Asked};
use crate::markets::Market;

/// Largest `limit` of fundingRate (both futures APIs).
pub const PAGE: usize = 1000;

pub struct Job {
    pub market: Market,
    pub symbol: String,
    pub base_url: String,
    pub http: Arc<HttpClient>,
    pub gate: Arc<WeightGate>,
    pub host: Host,
}

impl Job {
    fn url(&self, lo: i64, last: i64) -> String {
        format!(
            "{}{}?symbol={}&startTime={lo}&endTime={last}&limit={PAGE}",
            self.base_url,
            self.market.funding_path(),
            self.symbol
        )
    }

    /// The rows of `[lo, hi)` from one page (sorted, unique), whether the page was full,
    /// and the attempts made.
    async fn page(
        &self,
        lo: i64,
        hi: i64,
    ) -> Result<(Vec<dsm_sdk::FundingRate>, bool, u64), ProviderError> {
        let url = self.url(lo, hi - 1);
        // COIN-M weighs 1; USD-M counts in a separate 500 / 5 min bucket, far from reach
        // when paging 1000 rows (about a year of 8 h rates) a request.
        let weight = Weighted {
            gate: &self.gate,
            weight: 1,
        };
        let resp = self.http.get(&url, Some(weight)).await?;
        if !resp.is_success() {
            let asked = Asked {
                market: self.market,
                symbol: &self.symbol,
                interval: "",
            };
            return Err(from_response(&asked, &resp));
        }
        let place = format!(
            "Binance {} {} funding: GET {url}",
            self.market.id(),
            self.symbol
        );
        let mut rows = parse_page(&resp.body, &place)?;
        let full = rows.len() >= PAGE;
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
        let received = rows.len();
        rows.retain(|r| r.funding_time >= lo && r.funding_time < hi);
        if rows.len() != received {
            let dropped = received - rows.len();
            self.host.log(
                LogLevel::WARN,
                &format!("{place}: dropped {dropped} rows outside the range asked"),
            );
        }
        Ok((rows, full, u64::from(resp.attempts)))
    }
}

/// Fetch `[start_ms, end_ms)` page by page into `out`.
pub async fn fetch(
    job: Arc<Job>,
    (start_ms, end_ms): (i64, i64),
    out: &mut dyn FundingOut,
) -> Result<FetchReport, ProviderError> {
    let mut report = FetchReport::default();
    let mut lo = start_ms;
    while lo < end_ms {
        dsm_plugin_kit::cancel::check(&job.host)?;
        let (rows, full, attempts) = job.page(lo, end_ms).await?;
        report.requests += attempts;
        let next = match (full, rows.last()) {
            (true, Some(last)) => last.funding_time + 1,
            _ => end_ms,
        };
        if next <= lo {
            return Err(ProviderError::new(
                ErrorKind::INTEGRITY,
                format!(
                    "Binance {} funding paging did not advance past {lo}",
                    job.market.id()
                ),
            ));
        }
        report.klines += rows.len() as u64;
        out.funding(FundingBatch {
            rows: rows.into(),
            source: SourceKind::LIVE,
            covered_start_ms: lo,
            covered_end_ms: next,
        })?;
        out.progress(next - start_ms, end_ms - start_ms);
        lo = next;
    }
    Ok(report)
}
