//! OKX funding rate history as docs/wire-formats-datasets.md 1.5 describes it:
//! GET /api/v5/public/funding-rate-history?instId=&after=&before=&limit= (SWAP only; limit
//! 1..400, default 400; 10 requests / 2 s). `after` = older than, `before` = newer than,
//! both exclusive; the newest `limit` rows, newest first; only the last three months (90
//! days) are served, and only settled rows. Rows are objects of strings, keys as in OKX's
//! example: formulaType, fundingRate (the predicted rate), fundingTime, instId, instType,
//! method, realizedRate (the rate paid; "" for about one row in 25).
//!
//! Schedules (derivs.rs): BTC-USDT-SWAP 8 h until 2024-03-01, then 4 h; BTC-USD-SWAP 8 h.

use std::fmt::Write as _;

use dsm_sdk::FundingRate;

use super::candles::fixed;
use super::derivs::{one_in, rate_units, Schedule, SWITCH_2024_03};
use super::http::{Request, Response};
use super::log::query_param;
use super::okx::{error, number, rate_limited, Kind};
use super::state::State;

pub(crate) const PATH: &str = "/api/v5/public/funding-rate-history";
/// How far back OKX serves funding rates.
pub const OKX_FUNDING_DEPTH_MS: i64 = 90 * 86_400_000;

fn schedule(inst_id: &str) -> Option<Schedule> {
    let kind = Kind::of(inst_id).filter(|k| *k != Kind::Spot)?;
    let switch = (inst_id == "BTC-USDT-SWAP").then_some(SWITCH_2024_03);
    Some(Schedule {
        listing: kind.market().listing_ms(),
        switch,
    })
}

/// (fundingRate, realizedRate) of a settlement, as printed.
fn rates(inst_id: &str, t: i64) -> (String, String) {
    let predicted = rate_units(inst_id, t);
    let realized = if one_in(inst_id, t, 25) {
        String::new()
    } else {
        // Paid differs a little from predicted, as on OKX.
        fixed(predicted - predicted / 3_000, 16)
    };
    (fixed(predicted, 16), realized)
}

pub(crate) fn answer(st: &mut State, req: &Request, now_ms: i64) -> Response {
    if req.method != "GET" {
        return error(405, "50000", "Method Not Allowed");
    }
    if st.v5.admit("okx-funding", 10, 2_000, now_ms).is_err() {
        return rate_limited();
    }
    match history(&req.query, now_ms) {
        Ok(body) => Response::json(200, body),
        Err(resp) => resp,
    }
}

fn history(query: &str, now_ms: i64) -> Result<String, Response> {
    let inst_id = query_param(query, "instId").unwrap_or_default();
    if inst_id.is_empty() {
        return Err(error(400, "50014", "Parameter instId can not be empty"));
    }
    let (after, before) = (number(query, "after")?, number(query, "before")?);
    let limit = number(query, "limit")?.unwrap_or(400);
    if !(1..=400).contains(&limit) {
        return Err(error(400, "51000", "Parameter limit error"));
    }
    let Some(schedule) = schedule(&inst_id) else {
        return Err(error(200, "51001", "Instrument ID doesn't exist."));
    };
    let lo = before
        .map_or(i64::MIN, |b| b.saturating_add(1))
        .max(now_ms - OKX_FUNDING_DEPTH_MS);
    let hi = after.map_or(i64::MAX, |a| a.saturating_sub(1));
    let mut out = String::from("{\"code\":\"0\",\"msg\":\"\",\"data\":[");
    for (i, t) in schedule
        .newest(lo, hi, now_ms, limit as usize)
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        let (predicted, realized) = rates(&inst_id, t);
        let _ = write!(
            out,
            "{{\"formulaType\":\"noRate\",\"fundingRate\":\"{predicted}\",\"fundingTime\":\"{t}\",\
             \"instId\":\"{inst_id}\",\"instType\":\"SWAP\",\"method\":\"next_period\",\
             \"realizedRate\":\"{realized}\"}}"
        );
    }
    out.push_str("]}");
    Ok(out)
}

/// Every funding rate the fake has for `inst_id` in `[start_ms, end_ms)` up to now, depth
/// aside (the caller applies [`OKX_FUNDING_DEPTH_MS`]), as the okx plugin reads them:
/// realizedRate, or fundingRate where that is empty; mark price NaN, interval 0. Ascending.
pub fn expected_okx_funding(inst_id: &str, start_ms: i64, end_ms: i64) -> Vec<FundingRate> {
    let Some(schedule) = schedule(inst_id) else {
        return Vec::new();
    };
    schedule
        .settled(start_ms, end_ms, super::candles::now_ms())
        .into_iter()
        .map(|t| {
            let (predicted, realized) = rates(inst_id, t);
            let paid = if realized.is_empty() {
                predicted
            } else {
                realized
            };
            FundingRate {
                funding_time: t,
                rate: paid.parse().expect("the fake prints decimals"),
                mark_price: f64::NAN,
                interval_ms: 0,
            }
        })
        .collect()
}

/// Whether the fake leaves realizedRate empty for this settlement (the plugin then takes
/// fundingRate).
pub fn okx_realized_rate_is_empty(inst_id: &str, t: i64) -> bool {
    rates(inst_id, t).1.is_empty()
}
