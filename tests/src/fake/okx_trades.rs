//! OKX trade history as docs/wire-formats-datasets.md 3.4 describes it:
//! GET /api/v5/market/history-trades?instId=&type=&after=&before=&limit= (limit 1..100,
//! default 100; 20 requests / 2 s). type "1" (default) pages by tradeId, "2" by timestamp;
//! `after` = older than (exclusive), `before` = newer than, tradeId only. The newest
//! `limit` rows, newest first, the last three months (90 days) only. Rows are objects of
//! strings: {"instId","side","sz","px","tradeId","ts"}, side the taker's.
//!
//! The trades are the fake's Binance-style raw trade days of the same market shape
//! (USDT swaps as USD-M, coin swaps as COIN-M: sz in contracts), seeded by the instId.

use std::fmt::Write as _;

use dsm_sdk::Trade;

use super::http::{Request, Response};
use super::log::query_param;
use super::okx::{error, number, rate_limited, Kind};
use super::state::State;
use super::trades::TradeDay;

pub(crate) const PATH: &str = "/api/v5/market/history-trades";
/// How far back OKX serves trades ("the last 3 months").
pub const OKX_TRADES_DEPTH_MS: i64 = 90 * 86_400_000;
const DAY_MS: i64 = 86_400_000;

pub(crate) fn answer(st: &mut State, req: &Request, now_ms: i64) -> Response {
    if req.method != "GET" {
        return error(405, "50000", "Method Not Allowed");
    }
    if st.v5.admit("okx-trades", 20, 2_000, now_ms).is_err() {
        return rate_limited();
    }
    match history(&req.query, now_ms) {
        Ok(body) => Response::json(200, body),
        Err(resp) => resp,
    }
}

/// One trade: (tradeId, px, sz, ts, taker sold).
struct Row {
    id: i64,
    px: String,
    sz: String,
    ts: i64,
    sell: bool,
}

fn row(line: &str) -> Row {
    let c: Vec<&str> = line.split(',').collect();
    Row {
        id: c[0].parse().expect("fake id"),
        px: c[1].to_string(),
        sz: c[2].to_string(),
        ts: c[4].parse().expect("fake time"),
        // Buyer the maker: the taker sold.
        sell: c[5] == "true",
    }
}

fn swap(inst_id: &str) -> Option<super::candles::Market> {
    Kind::of(inst_id)
        .filter(|k| *k != Kind::Spot)
        .map(|k| k.market())
}

/// Rows older than (`day`, row `k`) exclusive, with `ts` in `[lo, hi)`, newest first.
fn walk_back(
    inst_id: &str,
    (mut day, mut k): (i64, i64),
    (lo, hi): (i64, i64),
    limit: usize,
) -> Vec<Row> {
    let market = swap(inst_id).expect("a swap");
    let mut out = Vec::new();
    let mut line = String::new();
    while out.len() < limit && day + DAY_MS > lo && day >= market.listing_ms() {
        let d = TradeDay::new(market, false, inst_id, day);
        k = k.min(d.rows());
        while k > 0 && out.len() < limit {
            k -= 1;
            line.clear();
            d.line(k, &mut line);
            let r = row(&line);
            if r.ts < lo {
                return out;
            }
            if r.ts < hi {
                out.push(r);
            }
        }
        (day, k) = (day - DAY_MS, i64::MAX);
    }
    out
}

fn history(query: &str, now_ms: i64) -> Result<String, Response> {
    let inst_id = query_param(query, "instId").unwrap_or_default();
    if inst_id.is_empty() {
        return Err(error(400, "50014", "Parameter instId can not be empty"));
    }
    let by_time = match query_param(query, "type").as_deref() {
        None | Some("1") => false,
        Some("2") => true,
        Some(_) => return Err(error(400, "51000", "Parameter type error")),
    };
    let (after, before) = (number(query, "after")?, number(query, "before")?);
    if by_time && before.is_some() {
        return Err(error(400, "51000", "Parameter before error"));
    }
    let limit = number(query, "limit")?.unwrap_or(100);
    if !(1..=100).contains(&limit) {
        return Err(error(400, "51000", "Parameter limit error"));
    }
    let Some(market) = swap(&inst_id) else {
        return Err(error(200, "51001", "Instrument ID doesn't exist."));
    };
    let lo = now_ms - OKX_TRADES_DEPTH_MS;
    let today = now_ms - now_ms.rem_euclid(DAY_MS);
    let rows = match (by_time, after) {
        (true, Some(ts)) => {
            let ts = ts.min(now_ms);
            let day = ts - ts.rem_euclid(DAY_MS);
            walk_back(&inst_id, (day, i64::MAX), (lo, ts), limit as usize)
        }
        (false, Some(id)) => {
            let from = TradeDay::of_id(market, false, id);
            walk_back(&inst_id, from, (lo, now_ms), limit as usize)
        }
        (_, None) => walk_back(&inst_id, (today, i64::MAX), (lo, now_ms), limit as usize),
    };
    let rows: Vec<Row> = match (by_time, before) {
        (false, Some(b)) => rows.into_iter().filter(|r| r.id > b).collect(),
        _ => rows,
    };
    let mut out = String::from("{\"code\":\"0\",\"msg\":\"\",\"data\":[");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let side = if r.sell { "sell" } else { "buy" };
        let _ = write!(
            out,
            "{{\"instId\":\"{inst_id}\",\"side\":\"{side}\",\"sz\":\"{}\",\"px\":\"{}\",\
             \"tradeId\":\"{}\",\"ts\":\"{}\"}}",
            r.sz, r.px, r.id, r.ts
        );
    }
    out.push_str("]}");
    Ok(out)
}

/// The trades the fake's history-trades holds for `inst_id` in `[start_ms, end_ms)` up to
/// now (depth aside: the caller applies [`OKX_TRADES_DEPTH_MS`]), as the okx plugin reads
/// them: ascending by tradeId, no quote quantity, best match unstated.
pub fn expected_okx_trades(inst_id: &str, start_ms: i64, end_ms: i64) -> Vec<Trade> {
    let now = super::candles::now_ms();
    let mut rows = walk_back(
        inst_id,
        (
            end_ms.min(now) - end_ms.min(now).rem_euclid(DAY_MS),
            i64::MAX,
        ),
        (start_ms, end_ms.min(now)),
        usize::MAX,
    );
    rows.reverse();
    rows.into_iter()
        .map(|r| Trade {
            id: r.id,
            time: r.ts,
            price: r.px.parse().expect("fake px"),
            qty: r.sz.parse().expect("fake sz"),
            quote_qty: f64::NAN,
            first_id: -1,
            last_id: -1,
            buyer_maker: u8::from(r.sell),
            best_match: 2,
        })
        .collect()
}
