//! Aggregated trades over REST (spot, USD-M, COIN-M) and spot raw trades, for the days the
//! archive lacks (wire-formats-datasets.md 3.1, 3.2). A day is walked forward:
//!
//! 1. the first rows at or after its start come from `aggTrades?startTime&endTime`: one
//!    window on spot, windows under an hour on futures (they refuse longer ones; an empty
//!    hour moves on);
//! 2. from there `fromId = last id + 1` pages forward (ids are dense per symbol; fromId is
//!    never mixed with times) until a row lies past the day or a short page reaches the
//!    present. Raw trades start at the first aggregated trade's first trade id and page
//!    `historicalTrades` the same way.
//!
//! Each page goes to the host as it arrives (bounded memory); one empty batch covers the
//! day's part once walked. Ids must ascend and times never go back: a server that repeats
//! or reorders pages fails the fetch (`INTEGRITY`) instead of looping. Futures REST keeps
//! aggTrades only for the last 48 h (USD-M) or 24 h (COIN-M): older parts of a range are
//! reported missing with that reason.

use std::sync::Arc;

use dsm_plugin_kit::deliver::TradesOut;
use dsm_plugin_kit::{HttpClient, WeightGate, Weighted};
use dsm_sdk::time::{now_ms, HOUR_MS};
use dsm_sdk::{
    plugin::Host, ErrorKind, FetchReport, MissingRange, ProviderError, SourceKind, Trade,
    TradeBatch,
};

use super::json::{parse_agg_page, parse_trades_page, PageRows};
use crate::errors::{from_response, Asked};
use crate::markets::Market;
use crate::vision::days::days;

/// Largest `limit` of aggTrades and spot historicalTrades.
pub const PAGE: u32 = 1000;

/// What one REST trade fetch shares.
pub struct Job {
    pub market: Market,
    pub symbol: String,
    /// Aggregated trades, else raw trades (spot only: the manifest offers no other).
    pub aggregated: bool,
    pub base_url: String,
    pub http: Arc<HttpClient>,
    pub gate: Arc<WeightGate>,
    pub host: Host,
}

fn prefix(market: Market) -> &'static str {
    match market {
        Market::Spot => "/api/v3",
        Market::Um => "/fapi/v1",
        Market::Cm => "/dapi/v1",
    }
}

/// Request weights as documented (spot aggTrades 4, historicalTrades 25; futures 20).
fn weight(market: Market, aggregated: bool) -> u32 {
    match (market, aggregated) {
        (Market::Spot, true) => 4,
        (Market::Spot, false) => 25,
        _ => 20,
    }
}

/// How far back the REST API keeps aggregated trades (`None`: deep, spot).
pub fn reach_ms(market: Market) -> Option<i64> {
    match market {
        Market::Spot => None,
        Market::Um => Some(48 * HOUR_MS),
        Market::Cm => Some(24 * HOUR_MS),
    }
}

fn integrity(msg: String) -> ProviderError {
    ProviderError::new(ErrorKind::INTEGRITY, msg)
}

impl Job {
    fn noun(&self) -> &'static str {
        if self.aggregated {
            "aggTrades"
        } else {
            "historicalTrades"
        }
    }

    /// One page; `agg` chooses the endpoint (raw trades start from an aggTrades page).
    async fn page(&self, agg: bool, query: &str) -> Result<(PageRows, u64), ProviderError> {
        let path = if agg { "aggTrades" } else { "historicalTrades" };
        let url = format!(
            "{}{}/{path}?symbol={}&{query}&limit={PAGE}",
            self.base_url,
            prefix(self.market),
            self.symbol
        );
        let w = Weighted {
            gate: &self.gate,
            weight: weight(self.market, agg),
        };
        let resp = self.http.get(&url, Some(w)).await?;
        if !resp.is_success() {
            let asked = Asked {
                market: self.market,
                symbol: &self.symbol,
                interval: "",
            };
            return Err(from_response(&asked, &resp));
        }
        let place = format!("Binance {} {}: GET {url}", self.market.id(), self.symbol);
        let rows = match agg {
            true => parse_agg_page(&resp.body, &place)?,
            false => parse_trades_page(&resp.body, &place)?,
        };
        Ok((rows, u64::from(resp.attempts)))
    }

    /// The first aggTrades page at or after `lo` (before `hi`), hour by hour; `None` when
    /// the part has no trade.
    async fn first_page(
        &self,
        lo: i64,
        hi: i64,
        report: &mut FetchReport,
    ) -> Result<Option<PageRows>, ProviderError> {
        let mut from = lo;
        while from < hi {
            dsm_plugin_kit::cancel::check(&self.host)?;
            // Inclusive ends; futures want them under an hour apart, spot dropped that
            // limit in 2022 (one window for the day).
            let span = match self.market {
                Market::Spot => hi - from,
                _ => HOUR_MS,
            };
            let to = (from + span - 1).min(hi - 1);
            let (page, attempts) = self
                .page(true, &format!("startTime={from}&endTime={to}"))
                .await?;
            report.requests += attempts;
            if page.received > 0 {
                return Ok(Some(page));
            }
            from = to + 1;
        }
        Ok(None)
    }

    /// Walks `[lo, hi)` into `out`, page by page.
    async fn day(
        &self,
        (lo, hi): (i64, i64),
        out: &mut dyn TradesOut,
        report: &mut FetchReport,
    ) -> Result<(), ProviderError> {
        let Some(first) = self.first_page(lo, hi, report).await? else {
            return Ok(());
        };
        let mut walk = Walk {
            lo,
            hi,
            prev_id: i64::MIN,
            prev_time: lo,
            what: format!(
                "Binance {} {} {}",
                self.market.id(),
                self.symbol,
                self.noun()
            ),
        };
        let mut page = match self.aggregated {
            true => first,
            false => {
                // Raw trades begin at the first aggregated trade's first trade id.
                let Some(start) = first.rows.iter().find(|t| t.time >= lo) else {
                    return Ok(());
                };
                let (page, attempts) = self
                    .page(false, &format!("fromId={}", start.first_id))
                    .await?;
                report.requests += attempts;
                page
            }
        };
        // The first page ends with its time window; later short pages reach the present.
        let mut by_id = !self.aggregated;
        loop {
            let (rows, past) = walk.take(page.rows)?;
            report.klines += rows.len() as u64;
            if !rows.is_empty() {
                out.trades(batch(rows, (lo, lo)))?;
            }
            let Some(last) = page.last_id else { break };
            if past || (by_id && page.received < PAGE as usize) {
                break;
            }
            by_id = true;
            dsm_plugin_kit::cancel::check(&self.host)?;
            let next = last + 1;
            let (p, attempts) = self
                .page(self.aggregated, &format!("fromId={next}"))
                .await?;
            report.requests += attempts;
            if let Some(first) = p.rows.first() {
                if first.id < next {
                    return Err(integrity(format!(
                        "{}: asked fromId={next} and got id {} first: the server does not \
                         page forward (refusing to loop)",
                        walk.what, first.id
                    )));
                }
            }
            page = p;
        }
        Ok(())
    }
}

/// The checks of one day's walk: ids ascend, times never go back.
struct Walk {
    lo: i64,
    hi: i64,
    prev_id: i64,
    prev_time: i64,
    what: String,
}

impl Walk {
    /// The rows inside the day, and whether a row lay past its end.
    fn take(&mut self, rows: Vec<Trade>) -> Result<(Vec<Trade>, bool), ProviderError> {
        let mut keep = Vec::with_capacity(rows.len());
        let mut past = false;
        for t in rows {
            if t.id <= self.prev_id {
                return Err(integrity(format!(
                    "{}: id {} does not follow {} (ids must ascend)",
                    self.what, t.id, self.prev_id
                )));
            }
            if t.time < self.prev_time && self.prev_id != i64::MIN {
                return Err(integrity(format!(
                    "{}: trade {} at {} ms is older than the one before it ({} ms)",
                    self.what, t.id, t.time, self.prev_time
                )));
            }
            (self.prev_id, self.prev_time) = (t.id, t.time.max(self.prev_time));
            if t.time >= self.hi {
                past = true;
                break;
            }
            if t.time >= self.lo {
                keep.push(t);
            }
        }
        Ok((keep, past))
    }
}

fn batch(rows: Vec<Trade>, (lo, hi): (i64, i64)) -> TradeBatch {
    TradeBatch {
        rows: rows.into(),
        source: SourceKind::LIVE,
        covered_start_ms: lo,
        covered_end_ms: hi,
    }
}

/// Fetch `[start_ms, end_ms)` into `out`, a day at a time.
pub async fn fetch(
    job: Arc<Job>,
    (start_ms, end_ms): (i64, i64),
    out: &mut dyn TradesOut,
) -> Result<FetchReport, ProviderError> {
    let now = now_ms();
    let oldest = reach_ms(job.market).map_or(i64::MIN, |r| now - r);
    let mut report = FetchReport::default();
    for day in days(start_ms, end_ms.min(now)) {
        let lo = day.lo.max(oldest);
        if lo > day.lo {
            report.missing.push(MissingRange {
                start_ms: day.lo,
                end_ms: lo.min(day.hi),
                reason: format!(
                    "Binance {} REST keeps aggregated trades for the last {} hours only; \
                     older days come from the Vision archive",
                    job.market.id(),
                    reach_ms(job.market).unwrap_or(0) / HOUR_MS
                )
                .into(),
            });
        }
        if lo < day.hi {
            job.day((lo, day.hi), out, &mut report).await?;
            out.trades(batch(Vec::new(), (lo, day.hi)))?;
        }
        out.progress(day.hi - start_ms, end_ms - start_ms);
    }
    Ok(report)
}
