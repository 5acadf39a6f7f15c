//! Binance REST trades (wire-formats-datasets.md 3.1, 3.2), the same rows as the Vision
//! daily files of [`super::trades`] (REST and archive agree, today included):
//!
//! ```text
//! GET /api/v3/aggTrades, /fapi/v1/aggTrades, /dapi/v1/aggTrades
//!     symbol, fromId (inclusive), startTime, endTime (ms, inclusive), limit (500, max 1000)
//!     [{"a":..,"p":"..","q":"..","f":..,"l":..,"T":..,"m":bool,"M":bool}]  (futures: no "M")
//! GET /api/v3/historicalTrades   symbol, fromId, limit (500, max 1000)
//!     [{"id":..,"price":"..","qty":"..","quoteQty":"..","time":..,"isBuyerMaker":..,"isBestMatch":..}]
//! ```
//!
//! Times are ms (spot's microsecond files are floored), only trades before now exist. With
//! times the OLDEST rows of the window come back, with fromId the rows from it, with
//! neither the newest. Futures refuse start/end an hour or more apart (-1127); fromId
//! mixed with times is refused (-1128; the real futures API "might time out"). Invalidated
//! spot aggregated trades are served as the audit left them (p "0", q "0", f = l = -1).
//! Weights: spot aggTrades 4, historicalTrades 25, futures aggTrades 20.

use std::fmt::Write as _;

use super::binance_rest::{mandatory, number};
use super::candles::Market;
use super::faults::binance_error;
use super::http::Response;
use super::trades::TradeDay;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// Which endpoint: aggregated (aggTrades) or raw (historicalTrades), of which market.
#[derive(Clone, Copy)]
pub(crate) struct Route {
    pub market: Market,
    pub aggregated: bool,
}

pub(crate) fn route(path: &str) -> Option<Route> {
    let (market, aggregated) = match path {
        "/api/v3/aggTrades" => (Market::Spot, true),
        "/fapi/v1/aggTrades" => (Market::Um, true),
        "/dapi/v1/aggTrades" => (Market::Cm, true),
        "/api/v3/historicalTrades" => (Market::Spot, false),
        _ => return None,
    };
    Some(Route { market, aggregated })
}

impl Route {
    pub(crate) fn weight(self) -> u32 {
        match (self.market, self.aggregated) {
            (Market::Spot, true) => 4,
            (Market::Spot, false) => 25,
            _ => 20,
        }
    }
}

/// One row as the REST API prints it, from the archive line of the same trade.
fn write_row(r: Route, line: &str, out: &mut String) -> i64 {
    let c: Vec<&str> = line.split(',').collect();
    let time_col = if r.aggregated { 5 } else { 4 };
    let raw: i64 = c[time_col].parse().expect("fake time");
    let ms = if raw >= 1_000_000_000_000_000 {
        raw / 1000
    } else {
        raw
    };
    let b = |i: usize| c[i].eq_ignore_ascii_case("true");
    let spot = r.market == Market::Spot;
    if r.aggregated {
        // Rows invalidated by the 2022 audit print price and quantity as "0" over REST.
        let (p, q) = match c[3] {
            "-1" => ("0", "0"),
            _ => (c[1], c[2]),
        };
        let _ = write!(
            out,
            "{{\"a\":{},\"p\":\"{}\",\"q\":\"{}\",\"f\":{},\"l\":{},\"T\":{ms},\"m\":{}",
            c[0],
            p,
            q,
            c[3],
            c[4],
            b(6)
        );
        if spot {
            let _ = write!(out, ",\"M\":{}", b(7));
        }
    } else {
        let _ = write!(
            out,
            "{{\"id\":{},\"price\":\"{}\",\"qty\":\"{}\",\"quoteQty\":\"{}\",\"time\":{ms},\
             \"isBuyerMaker\":{},\"isBestMatch\":{}",
            c[0],
            c[1],
            c[2],
            c[3],
            b(5),
            b(6)
        );
    }
    out.push('}');
    ms
}

/// Rows from (`day`, row `k`) on, with times in `[lo, hi]`, at most `limit`: (id, JSON).
fn walk(
    r: Route,
    symbol: &str,
    (mut day, mut k): (i64, i64),
    (lo, hi): (i64, i64),
    limit: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    while out.len() < limit && day <= hi {
        let d = TradeDay::new(r.market, r.aggregated, symbol, day);
        while k < d.rows() && out.len() < limit {
            line.clear();
            d.line(k, &mut line);
            let mut json = String::with_capacity(128);
            let t = write_row(r, &line, &mut json);
            if t > hi {
                return out;
            }
            if t >= lo {
                out.push(json);
            }
            k += 1;
        }
        (day, k) = (day + DAY_MS, 0);
    }
    out
}

/// The newest `limit` rows at or before `hi` (the day of `hi` and the one before).
fn newest(r: Route, symbol: &str, hi: i64, limit: usize) -> Vec<String> {
    let day = (hi - hi.rem_euclid(DAY_MS) - DAY_MS).max(r.market.listing_ms());
    let all = walk(r, symbol, (day, 0), (i64::MIN, hi), usize::MAX);
    all[all.len().saturating_sub(limit)..].to_vec()
}

/// The answer body, or the error response.
pub(crate) fn answer(r: Route, query: &str, now: i64) -> Result<Response, Response> {
    let symbol = mandatory(query, "symbol")?;
    if !r.market.knows_symbol(&symbol) {
        return Err(binance_error(400, -1121, "Invalid symbol."));
    }
    let limit = number(query, "limit")?.unwrap_or(500);
    if !(1..=1000).contains(&limit) {
        return Err(binance_error(
            400,
            -1130,
            "Invalid data sent for a parameter.",
        ));
    }
    let limit = limit as usize;
    let from = number(query, "fromId")?;
    let (start, end) = match r.aggregated {
        true => (number(query, "startTime")?, number(query, "endTime")?),
        false => (None, None),
    };
    if from.is_some() && (start.is_some() || end.is_some()) {
        return Err(binance_error(
            400,
            -1128,
            "Combination of optional parameters invalid.",
        ));
    }
    if let (Some(s), Some(e)) = (start, end) {
        if s > e {
            return Err(binance_error(
                400,
                -1023,
                "Start time is greater than end time.",
            ));
        }
        if r.market != Market::Spot && e - s >= HOUR_MS {
            return Err(binance_error(
                400,
                -1127,
                "More than 1 hours between startTime and endTime.",
            ));
        }
    }
    let listing = r.market.listing_ms();
    let rows = match (from, start, end) {
        (Some(id), _, _) => walk(
            r,
            &symbol,
            TradeDay::of_id(r.market, r.aggregated, id),
            (listing, now - 1),
            limit,
        ),
        (None, Some(s), e) => {
            let s = s.max(listing);
            let day = s - s.rem_euclid(DAY_MS);
            walk(
                r,
                &symbol,
                (day, 0),
                (s, e.unwrap_or(i64::MAX).min(now - 1)),
                limit,
            )
        }
        (None, None, e) => newest(r, &symbol, e.unwrap_or(i64::MAX).min(now - 1), limit),
    };
    let mut body = String::with_capacity(rows.iter().map(|j| j.len() + 1).sum::<usize>() + 2);
    body.push('[');
    body.push_str(&rows.join(","));
    body.push(']');
    Ok(Response::json(200, body))
}
