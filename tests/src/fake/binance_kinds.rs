//! Binance REST endpoints for kinds beyond klines (wire-formats-datasets.md 1.1-1.2, 2.1):
//!
//! ```text
//! GET /fapi/v1/fundingRate, /dapi/v1/fundingRate   symbol, startTime, endTime, limit
//!     (default 100, max 1000): stamps in [startTime, endTime] inclusive; with startTime the
//!     oldest `limit` from it, else the newest `limit`; ascending. Delivery symbols: [].
//! GET /{fapi|dapi}/v1/{markPriceKlines|premiumIndexKlines}  symbol, interval, ...
//! GET /{fapi|dapi}/v1/indexPriceKlines                       pair, interval, ...
//!     as klines: limit default 500, max 1500, weight by limit; COIN-M mark and index refuse
//!     windows over 200 days (-1127); COIN-M with both bounds returns the newest `limit`.
//! ```
//!
//! The fake requires `symbol` on USD-M fundingRate too (the real API answers every symbol
//! without it). fundingRate weighs 0 on USD-M (it counts in its own 500 / 5 min bucket,
//! which the fake does not enforce) and 1 on COIN-M.

use super::binance_rest::{limit_weight, mandatory, number, with_weight, CM_MAX_WINDOW_MS};
use super::candles::Market;
use super::faults::{binance_error, too_many_requests};
use super::funding::{has_funding, settlements};
use super::http::{Request, Response};
use super::price_kinds::{PriceGen, PriceKind};
use super::state::{bucket, State};

enum Route {
    Funding(Market),
    Price(PriceKind, Market),
}

fn route(path: &str) -> Option<Route> {
    let (market, rest) = if let Some(r) = path.strip_prefix("/fapi/v1/") {
        (Market::Um, r)
    } else {
        (Market::Cm, path.strip_prefix("/dapi/v1/")?)
    };
    if rest == "fundingRate" {
        return Some(Route::Funding(market));
    }
    PriceKind::from_word(rest).map(|k| Route::Price(k, market))
}

/// The answer when `req` is for one of these endpoints, else `None`.
pub(crate) fn answer(st: &mut State, req: &Request, now: i64) -> Option<Response> {
    let route = route(&req.path)?;
    let bucket = bucket(&req.path)?;
    if req.method != "GET" {
        return Some(with_weight(st, &req.path, Response::empty(405), now));
    }
    let weight = match route {
        Route::Funding(Market::Um) => 0,
        Route::Funding(_) => 1,
        Route::Price(..) => limit_weight(&req.query),
    };
    let resp = match st.charge(&req.path, bucket, weight, now) {
        Err(secs) => too_many_requests(429, st.limit(&req.path, bucket))
            .header("Retry-After", secs.to_string()),
        Ok(()) => {
            let body = match route {
                Route::Funding(market) => funding(market, &req.query, now),
                Route::Price(kind, market) => prices(kind, market, &req.query, now),
            };
            body.map_or_else(|e| e, |b| Response::json(200, b))
        }
    };
    Some(with_weight(st, &req.path, resp, now))
}

/// Validated limit and bounds.
fn bounds(
    query: &str,
    default: i64,
    max: i64,
) -> Result<(i64, Option<i64>, Option<i64>), Response> {
    let limit = number(query, "limit")?.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(binance_error(
            400,
            -1130,
            "Invalid data sent for a parameter.",
        ));
    }
    let (start, end) = (number(query, "startTime")?, number(query, "endTime")?);
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(binance_error(
                400,
                -1023,
                "Start time is greater than end time.",
            ));
        }
    }
    Ok((limit, start, end))
}

fn funding(market: Market, query: &str, now: i64) -> Result<String, Response> {
    let symbol = mandatory(query, "symbol")?;
    if !market.knows_symbol(&symbol) {
        return Err(binance_error(400, -1121, "Invalid symbol."));
    }
    let (limit, start, end) = bounds(query, 100, 1000)?;
    let limit = limit as usize;
    if !has_funding(market, &symbol) {
        return Ok("[]".into());
    }
    let hi = end.unwrap_or(i64::MAX - 1);
    // A few thousand settlements since listing at most: generated whole, then cut.
    let mut rows = settlements(market, &symbol, start.unwrap_or(i64::MIN), hi, now);
    if start.is_none() {
        rows.drain(..rows.len().saturating_sub(limit));
    }
    rows.truncate(limit);
    let mut out = String::with_capacity(rows.len() * 110 + 2);
    out.push('[');
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        r.write_json(&symbol, &mut out);
    }
    out.push(']');
    Ok(out)
}

fn prices(kind: PriceKind, market: Market, query: &str, now: i64) -> Result<String, Response> {
    let param = if kind == PriceKind::Index {
        "pair"
    } else {
        "symbol"
    };
    let name = mandatory(query, param)?;
    let interval = mandatory(query, "interval")?;
    let Some(step) = market.step(&interval) else {
        return Err(binance_error(400, -1120, "Invalid interval."));
    };
    if !kind.knows(market, &name) {
        return Err(binance_error(400, -1121, "Invalid symbol."));
    }
    let (limit, start, end) = bounds(query, 500, 1500)?;
    if let (Some(s), Some(e)) = (start, end) {
        if market == Market::Cm && kind != PriceKind::Premium && e - s > CM_MAX_WINDOW_MS {
            return Err(binance_error(400, -1127, "Lookup interval is too big."));
        }
    }
    let lo = start.unwrap_or(i64::MIN);
    let hi = end.unwrap_or(i64::MAX);
    let Some((first, last)) = step.span(lo, hi, market.listing_ms(), now) else {
        return Ok("[]".into());
    };
    let newest = start.is_none() || (market == Market::Cm && end.is_some());
    let opens = match newest {
        true => step.newest(first, last, limit as usize),
        false => step.oldest(first, last, limit as usize),
    };
    let gen = PriceGen::new(kind, market, &name, step);
    let mut out = String::with_capacity(opens.len() * 130 + 2);
    out.push('[');
    for (i, &t) in opens.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        gen.row(t).write_json(&mut out);
    }
    out.push(']');
    Ok(out)
}
