//! Bybit funding history as docs/wire-formats-datasets.md 1.6 describes it:
//! GET /v5/market/funding/history?category=&symbol=&startTime=&endTime=&limit= (category
//! linear or inverse; limit 1..200, default 200). startTime alone is refused; endTime alone
//! returns the 200 rows up to it; neither, the 200 newest; both, the newest in between.
//! Settled rows only, newest first, all strings:
//! {"symbol","fundingRate","fundingRateTimestamp"}. The answer goes through bybit.rs (IP
//! limit and X-Bapi headers as every v5 answer).
//!
//! Schedules (derivs.rs): linear BTCUSDT 8 h until 2024-03-01, then 4 h; linear ETHUSDT 8 h;
//! inverse BTCUSD 8 h until 2025-01-01, then 4 h. History from the market's listing.

use std::fmt::Write as _;

use dsm_sdk::FundingRate;

use super::bybit::{number, ret, CATEGORIES};
use super::derivs::{rate_units, trimmed, Schedule, SWITCH_2024_03, SWITCH_2025_01};
use super::http::Response;
use super::log::query_param;

pub(crate) const PATH: &str = "/v5/market/funding/history";

fn schedule(category: &str, symbol: &str) -> Option<Schedule> {
    if category == "spot" {
        return None;
    }
    let &(_, market, symbols) = CATEGORIES.iter().find(|c| c.0 == category)?;
    if !symbols.contains(&symbol) {
        return None;
    }
    let switch = match (category, symbol) {
        ("linear", "BTCUSDT") => Some(SWITCH_2024_03),
        ("inverse", _) => Some(SWITCH_2025_01),
        _ => None,
    };
    Some(Schedule {
        listing: market.listing_ms(),
        switch,
    })
}

/// The rate as Bybit prints it: up to 8 decimals, trailing zeros dropped.
fn rate(category: &str, symbol: &str, t: i64) -> String {
    trimmed(
        rate_units(&format!("{symbol}@bybit-{category}"), t) / 100_000_000,
        8,
    )
}

pub(crate) fn history(query: &str, now_ms: i64) -> Result<String, Response> {
    let category = query_param(query, "category").unwrap_or_default();
    if !matches!(category.as_str(), "linear" | "inverse") {
        return Err(ret(10001, "Illegal category", now_ms));
    }
    let symbol = query_param(query, "symbol").unwrap_or_default();
    let Some(schedule) = schedule(&category, &symbol) else {
        return Err(ret(10001, "Not supported symbols", now_ms));
    };
    let (start, end) = (
        number(query, "startTime", now_ms)?,
        number(query, "endTime", now_ms)?,
    );
    if start.is_some() && end.is_none() {
        return Err(ret(
            10001,
            "params error: endTime is required with startTime",
            now_ms,
        ));
    }
    let limit = number(query, "limit", now_ms)?.unwrap_or(200);
    if !(1..=200).contains(&limit) {
        return Err(ret(10001, "params error: limit invalid", now_ms));
    }
    let mut out = format!(
        "{{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{{\"category\":\"{category}\",\"list\":["
    );
    let times = schedule.newest(
        start.unwrap_or(i64::MIN),
        end.unwrap_or(i64::MAX),
        now_ms,
        limit as usize,
    );
    for (i, t) in times.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let r = rate(&category, &symbol, t);
        let _ = write!(
            out,
            "{{\"symbol\":\"{symbol}\",\"fundingRate\":\"{r}\",\"fundingRateTimestamp\":\"{t}\"}}"
        );
    }
    let _ = write!(out, "]}},\"retExtInfo\":{{}},\"time\":{now_ms}}}");
    Ok(out)
}

/// Every funding rate the bybit plugin returns for `category` and `symbol` over
/// `[start_ms, end_ms)`: settled ones, ascending, mark price NaN, interval 0.
pub fn expected_bybit_funding(
    category: &str,
    symbol: &str,
    start_ms: i64,
    end_ms: i64,
) -> Vec<FundingRate> {
    let Some(schedule) = schedule(category, symbol) else {
        return Vec::new();
    };
    schedule
        .settled(start_ms, end_ms, super::candles::now_ms())
        .into_iter()
        .map(|t| FundingRate {
            funding_time: t,
            rate: rate(category, symbol, t)
                .parse()
                .expect("the fake prints decimals"),
            mark_price: f64::NAN,
            interval_ms: 0,
        })
        .collect()
}
