//! Binance REST endpoints as docs/wire-formats.md section 2 describes them: spot
//! /api/v3/klines, USD-M /fapi/v1/klines, COIN-M /dapi/v1/klines, ping and time; the
//! documented error bodies; request weights and the per-minute limit.

use super::candles::{Generator, Market};
use super::faults::{binance_error, too_many_requests};
use super::http::{Request, Response};
use super::log::query_param;
use super::state::{bucket, State};

/// COIN-M refuses windows (endTime - startTime) longer than this.
pub(super) const CM_MAX_WINDOW_MS: i64 = 200 * 86_400_000;

enum Route {
    Ping,
    Time,
    Klines(Market),
}

fn route(path: &str) -> Option<Route> {
    Some(match path {
        "/api/v3/ping" | "/fapi/v1/ping" | "/dapi/v1/ping" => Route::Ping,
        "/api/v3/time" | "/fapi/v1/time" | "/dapi/v1/time" => Route::Time,
        "/api/v3/klines" => Route::Klines(Market::Spot),
        "/fapi/v1/klines" => Route::Klines(Market::Um),
        "/dapi/v1/klines" => Route::Klines(Market::Cm),
        _ => return None,
    })
}

/// The normal answer to `req`, charging its weight; every Binance path gets the
/// used-weight header.
pub(crate) fn answer(st: &mut State, req: &Request, now_ms: i64) -> Response {
    if let Some(resp) = super::listing::answer(st, req, now_ms) {
        return resp; // exchangeInfo, and every path when geo-blocked
    }
    if let Some(resp) = super::binance_kinds::answer(st, req, now_ms) {
        return resp; // funding rates, mark / index / premium index klines
    }
    if let Some(resp) = trades(st, req, now_ms) {
        return resp;
    }
    let (Some(route), Some(bucket)) = (route(&req.path), bucket(&req.path)) else {
        return Response::empty(404);
    };
    if req.method != "GET" {
        return with_weight(st, &req.path, Response::empty(405), now_ms);
    }
    let resp = match st.charge(&req.path, bucket, weight(&route, &req.query), now_ms) {
        Err(secs) => too_many_requests(429, st.limit(&req.path, bucket))
            .header("Retry-After", secs.to_string()),
        Ok(()) => match route {
            Route::Ping => Response::json(200, "{}".into()),
            Route::Time => Response::json(200, format!("{{\"serverTime\":{now_ms}}}")),
            Route::Klines(market) => klines(market, &req.query, now_ms),
        },
    };
    with_weight(st, &req.path, resp, now_ms)
}

/// Aggregated and raw trades (see `trades_rest`), when `req` is for them.
fn trades(st: &mut State, req: &Request, now_ms: i64) -> Option<Response> {
    let route = super::trades_rest::route(&req.path)?;
    let bucket = bucket(&req.path)?;
    if req.method != "GET" {
        return Some(with_weight(st, &req.path, Response::empty(405), now_ms));
    }
    let resp = match st.charge(&req.path, bucket, route.weight(), now_ms) {
        Err(secs) => too_many_requests(429, st.limit(&req.path, bucket))
            .header("Retry-After", secs.to_string()),
        Ok(()) => super::trades_rest::answer(route, &req.query, now_ms).unwrap_or_else(|e| e),
    };
    Some(with_weight(st, &req.path, resp, now_ms))
}

/// Adds the used-weight header (Binance casing per host) when `path` is a Binance path.
pub(crate) fn with_weight(st: &mut State, path: &str, resp: Response, now_ms: i64) -> Response {
    match bucket(path) {
        Some(b) => resp.header(b.header, st.used(b, now_ms).to_string()),
        None => resp,
    }
}

/// Spot klines weigh 2; futures klines weigh by limit.
fn weight(route: &Route, query: &str) -> u32 {
    match route {
        Route::Ping | Route::Time => 1,
        Route::Klines(Market::Spot) => 2,
        Route::Klines(_) => limit_weight(query),
    }
}

/// Futures kline-shaped endpoints weigh by `limit` (default 500).
pub(super) fn limit_weight(query: &str) -> u32 {
    let limit = query_param(query, "limit").and_then(|l| l.parse::<u64>().ok());
    kline_limit_weight(limit.unwrap_or(500))
}

/// Binance's futures kline weight for a page of `limit` candles: 1/2/5/10 for < 100 /
/// < 500 / <= 1000 / > 1000 (the bench's floors count with it too).
pub fn kline_limit_weight(limit: u64) -> u32 {
    match limit {
        0..=99 => 1,
        100..=499 => 2,
        500..=1000 => 5,
        _ => 10,
    }
}

/// Validated klines parameters.
struct Query {
    symbol: String,
    interval: String,
    start: Option<i64>,
    end: Option<i64>,
    limit: usize,
}

fn klines(market: Market, query: &str, now_ms: i64) -> Response {
    match parse_klines(market, query) {
        Ok(q) => Response::json(200, klines_body(market, &q, now_ms)),
        Err(resp) => resp,
    }
}

fn parse_klines(market: Market, query: &str) -> Result<Query, Response> {
    let symbol = mandatory(query, "symbol")?;
    let interval = mandatory(query, "interval")?;
    if market.step(&interval).is_none() {
        return Err(binance_error(400, -1120, "Invalid interval."));
    }
    if !market.knows_symbol(&symbol) {
        return Err(binance_error(400, -1121, "Invalid symbol."));
    }
    let max_limit = if market == Market::Spot { 1000 } else { 1500 };
    let limit = number(query, "limit")?.unwrap_or(500);
    if !(1..=max_limit).contains(&limit) {
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
        if market == Market::Cm && e - s > CM_MAX_WINDOW_MS {
            return Err(binance_error(400, -1127, "Lookup interval is too big."));
        }
    }
    Ok(Query {
        symbol,
        interval,
        start,
        end,
        limit: limit as usize,
    })
}

pub(super) fn mandatory(query: &str, name: &str) -> Result<String, Response> {
    match query_param(query, name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(binance_error(
            400,
            -1102,
            &format!("Mandatory parameter '{name}' was not sent, was empty/null, or malformed."),
        )),
    }
}

/// An optional unsigned integer parameter; Binance answers -1100 for anything else.
pub(super) fn number(query: &str, name: &str) -> Result<Option<i64>, Response> {
    let Some(v) = query_param(query, name) else {
        return Ok(None);
    };
    let digits = !v.is_empty() && v.len() <= 20 && v.bytes().all(|b| b.is_ascii_digit());
    match v.parse::<i64>() {
        Ok(n) if digits => Ok(Some(n)),
        _ => Err(binance_error(
            400,
            -1100,
            &format!(
                "Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
            ),
        )),
    }
}

/// Candle selection: open time in [startTime, endTime] inclusive. With a start the oldest
/// `limit` from it (COIN-M with both bounds: the newest `limit` in the window); with only
/// an end or neither, the newest `limit`. Always oldest first.
fn klines_body(market: Market, q: &Query, now_ms: i64) -> String {
    let step = market.step(&q.interval).expect("validated");
    let lo = q.start.unwrap_or(i64::MIN);
    let hi = q.end.unwrap_or(i64::MAX);
    let Some((first, last)) = step.span(lo, hi, market.listing_ms(), now_ms) else {
        return "[]".into();
    };
    let newest = q.start.is_none() || (market == Market::Cm && q.end.is_some());
    let opens = if newest {
        step.newest(first, last, q.limit)
    } else {
        step.oldest(first, last, q.limit)
    };
    let gen = Generator::new(market, &q.symbol, step);
    let mut out = String::with_capacity(opens.len() * 160 + 2);
    out.push('[');
    for (i, &t) in opens.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        gen.row(t).write_json(&mut out);
    }
    out.push(']');
    out
}
