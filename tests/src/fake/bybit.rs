//! Bybit v5 klines as docs/wire-formats.md section 4 describes them:
//! GET /v5/market/kline?category=&symbol=&interval=&start=&end=&limit= (limit 1..1000,
//! default 200; category default linear). The answer holds the NEWEST `limit` candles with
//! start <= open time <= end, newest first, every cell a string:
//! [startTime, open, high, low, close, volume, turnover], in
//! {"retCode":0,"retMsg":"OK","result":{"symbol","category","list"},"retExtInfo":{},"time"}.
//! Errors are HTTP 200 with retCode 10001 ("Illegal category", "Not supported symbols",
//! "Invalid period!", ...); over 600 requests in 5 s the IP gets HTTP 403. Responses carry
//! X-Bapi-Limit, X-Bapi-Limit-Status and X-Bapi-Limit-Reset-Timestamp.
//!
//! Symbols: spot BTCUSDT ETHUSDT; linear BTCUSDT ETHUSDT; inverse BTCUSD. Candles come from
//! the Binance generator (candles.rs) with a Bybit seed: spot like Binance spot (base,
//! quote), linear like USD-M (base, quote), inverse like COIN-M (contracts, base).

use std::fmt::Write as _;

use dsm_sdk::Kline;

use super::candles::{Generator, Market};
use super::grid::Step;
use super::http::{Request, Response};
use super::log::query_param;
use super::state::State;

pub(crate) const KLINE: &str = "/v5/market/kline";
const RATE_KEY: &str = "bybit-ip";
const RATE_MAX: usize = 600;
const RATE_WINDOW_MS: i64 = 5_000;

/// (category, generator market, symbols).
const CATEGORIES: [(&str, Market, &[&str]); 3] = [
    ("spot", Market::Spot, &["BTCUSDT", "ETHUSDT"]),
    ("linear", Market::Um, &["BTCUSDT", "ETHUSDT"]),
    ("inverse", Market::Cm, &["BTCUSD"]),
];

fn step_of(interval: &str) -> Option<Step> {
    let dsm = match interval {
        "1" => "1m",
        "3" => "3m",
        "5" => "5m",
        "15" => "15m",
        "30" => "30m",
        "60" => "1h",
        "120" => "2h",
        "240" => "4h",
        "360" => "6h",
        "720" => "12h",
        "D" => "1d",
        "W" => "1w",
        "M" => "1M",
        _ => return None,
    };
    Step::parse(dsm)
}

fn generator(category: &str, market: Market, symbol: &str, step: Step) -> Generator {
    Generator::new(market, &format!("{symbol}@bybit-{category}"), step)
}

/// A Bybit answer with `retCode` (HTTP 200).
pub(crate) fn ret(code: i64, msg: &str, now_ms: i64) -> Response {
    let msg = serde_json::to_string(msg).expect("a string serializes");
    Response::json(
        200,
        format!(
            "{{\"retCode\":{code},\"retMsg\":{msg},\"result\":{{}},\"retExtInfo\":{{}},\"time\":{now_ms}}}"
        ),
    )
}

/// An injected retCode answer; 10006 also says when the limit resets (in 1 s).
pub(crate) fn fault_ret(code: i64, msg: &str) -> Response {
    let now = super::candles::now_ms();
    let resp = ret(code, msg, now);
    if code == 10006 {
        return resp
            .header("X-Bapi-Limit-Status", "0".into())
            .header("X-Bapi-Limit-Reset-Timestamp", (now + 1_000).to_string());
    }
    resp
}

pub(crate) fn answer(st: &mut State, req: &Request, now_ms: i64) -> Response {
    if req.path != KLINE {
        return Response::empty(404);
    }
    if req.method != "GET" {
        return Response::empty(405);
    }
    let remaining = match st.v5.admit(RATE_KEY, RATE_MAX, RATE_WINDOW_MS, now_ms) {
        Ok(r) => r,
        Err(_) => return Response::json(403, "{\"retCode\":403,\"retMsg\":\"Forbidden\"}".into()),
    };
    let reset = st.v5.reset_at(RATE_KEY, RATE_WINDOW_MS, now_ms);
    let resp = match kline(&req.query, now_ms) {
        Ok(body) => Response::json(200, body),
        Err(resp) => resp,
    };
    resp.header("X-Bapi-Limit", RATE_MAX.to_string())
        .header("X-Bapi-Limit-Status", remaining.to_string())
        .header("X-Bapi-Limit-Reset-Timestamp", reset.to_string())
}

fn number(query: &str, name: &str, now_ms: i64) -> Result<Option<i64>, Response> {
    match query_param(query, name) {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
            _ => Err(ret(10001, &format!("params error: {name} invalid"), now_ms)),
        },
    }
}

fn kline(query: &str, now_ms: i64) -> Result<String, Response> {
    let category = query_param(query, "category").unwrap_or_else(|| "linear".into());
    let Some(&(category, market, symbols)) = CATEGORIES.iter().find(|c| c.0 == category) else {
        return Err(ret(10001, "Illegal category", now_ms));
    };
    let symbol = query_param(query, "symbol").unwrap_or_default();
    let interval = query_param(query, "interval").unwrap_or_default();
    let step = step_of(&interval).ok_or_else(|| ret(10001, "Invalid period!", now_ms))?;
    if !symbols.contains(&symbol.as_str()) {
        return Err(ret(10001, "Not supported symbols", now_ms));
    }
    let (start, end) = (
        number(query, "start", now_ms)?,
        number(query, "end", now_ms)?,
    );
    let limit = number(query, "limit", now_ms)?.unwrap_or(200);
    if !(1..=1000).contains(&limit) {
        return Err(ret(10001, "params error: limit invalid", now_ms));
    }
    let mut out = format!(
        "{{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{{\"symbol\":\"{symbol}\",\"category\":\"{category}\",\"list\":["
    );
    let lo = start.unwrap_or(i64::MIN);
    let hi = end.unwrap_or(i64::MAX);
    if let Some((first, last)) = step.span(lo, hi, market.listing_ms(), now_ms) {
        let gen = generator(category, market, &symbol, step);
        let opens = step.newest(first, last, limit as usize);
        for (i, &t) in opens.iter().rev().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let row = gen.row(t);
            let c = &row.cols;
            let _ = write!(
                out,
                "[\"{t}\",\"{}\",\"{}\",\"{}\",\"{}\",\"{}\",\"{}\"]",
                c[0], c[1], c[2], c[3], c[4], c[5]
            );
        }
    }
    let _ = write!(out, "]}},\"retExtInfo\":{{}},\"time\":{now_ms}}}");
    Ok(out)
}

/// The candles dsm returns from the bybit plugin for `category` ("spot", "linear",
/// "inverse"), Bybit's `symbol` and a dsm interval ("1h") over `[start_ms, end_ms)`: closed
/// ones only, ascending. volume = volume, quote_volume = turnover, close_time = next open -
/// 1, trades and taker volumes 0. Empty for unknown categories, symbols or intervals.
pub fn expected_bybit_klines(
    category: &str,
    symbol: &str,
    interval: &str,
    start_ms: i64,
    end_ms: i64,
) -> Vec<Kline> {
    let Some(&(category, market, symbols)) = CATEGORIES.iter().find(|c| c.0 == category) else {
        return Vec::new();
    };
    let Some(step) =
        Step::parse(interval).filter(|_| interval != "1s" && interval != "8h" && interval != "3d")
    else {
        return Vec::new();
    };
    if !symbols.contains(&symbol) {
        return Vec::new();
    }
    let now = super::candles::now_ms();
    let Some((first, last)) = step.span(start_ms, end_ms - 1, market.listing_ms(), now) else {
        return Vec::new();
    };
    let gen = generator(category, market, symbol, step);
    step.oldest(first, last, usize::MAX)
        .into_iter()
        .filter(|t| step.next(*t) <= now)
        .map(|t| Kline {
            trades: 0,
            taker_buy_base_volume: 0.0,
            taker_buy_quote_volume: 0.0,
            ..gen.row(t).to_kline()
        })
        .collect()
}
