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
//! Mark, index and premium index klines (docs/wire-formats-datasets.md 2.4):
//! /v5/market/mark-price-kline (linear, inverse), /v5/market/index-price-kline (linear,
//! inverse), /v5/market/premium-index-price-kline (linear only): the same parameters,
//! limits and order, rows of 5 strings [startTime, open, high, low, close], the newest one
//! possibly still forming (no flag). Funding history: bybit_funding.rs.
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

/// What a kline endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Series {
    Klines,
    Mark,
    Index,
    Premium,
}

/// (path, series, categories it takes).
const ENDPOINTS: [(&str, Series, &[&str]); 4] = [
    (KLINE, Series::Klines, &["spot", "linear", "inverse"]),
    (
        "/v5/market/mark-price-kline",
        Series::Mark,
        &["linear", "inverse"],
    ),
    (
        "/v5/market/index-price-kline",
        Series::Index,
        &["linear", "inverse"],
    ),
    (
        "/v5/market/premium-index-price-kline",
        Series::Premium,
        &["linear"],
    ),
];

impl Series {
    fn named(kind: &str) -> Option<Series> {
        Some(match kind {
            "klines" => Series::Klines,
            "mark" => Series::Mark,
            "index" => Series::Index,
            "premium" => Series::Premium,
            _ => return None,
        })
    }

    fn categories(self) -> &'static [&'static str] {
        ENDPOINTS.iter().find(|e| e.1 == self).expect("listed").2
    }

    /// The row's cells after startTime, as printed.
    fn cells(
        self,
        category: &str,
        market: Market,
        symbol: &str,
        step: Step,
        t: i64,
    ) -> Vec<String> {
        let seeded = |tag: &str| generator(category, market, &format!("{symbol}@{tag}"), step);
        match self {
            Series::Klines => generator(category, market, symbol, step).row(t).cols[..6].to_vec(),
            Series::Mark => seeded("mark").row(t).cols[..4].to_vec(),
            Series::Index => seeded("index").row(t).cols[..4].to_vec(),
            Series::Premium => {
                super::derivs::premium_row(&format!("{symbol}@bybit-{category}"), step, t).to_vec()
            }
        }
    }
}

/// (category, generator market, symbols).
pub(crate) const CATEGORIES: [(&str, Market, &[&str]); 3] = [
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

pub(crate) fn generator(category: &str, market: Market, symbol: &str, step: Step) -> Generator {
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
    if req.path == super::v5_instruments::BYBIT_PATH {
        return super::v5_instruments::bybit(st, req, now_ms);
    }
    let funding = req.path == super::bybit_funding::PATH;
    let series = ENDPOINTS.iter().find(|e| e.0 == req.path).map(|e| e.1);
    if series.is_none() && !funding {
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
    let body = match series {
        Some(series) => kline(&req.query, series, now_ms),
        None => super::bybit_funding::history(&req.query, now_ms),
    };
    let resp = match body {
        Ok(body) => Response::json(200, body),
        Err(resp) => resp,
    };
    resp.header("X-Bapi-Limit", RATE_MAX.to_string())
        .header("X-Bapi-Limit-Status", remaining.to_string())
        .header("X-Bapi-Limit-Reset-Timestamp", reset.to_string())
}

pub(crate) fn number(query: &str, name: &str, now_ms: i64) -> Result<Option<i64>, Response> {
    match query_param(query, name) {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
            _ => Err(ret(10001, &format!("params error: {name} invalid"), now_ms)),
        },
    }
}

fn kline(query: &str, series: Series, now_ms: i64) -> Result<String, Response> {
    let category = query_param(query, "category").unwrap_or_else(|| "linear".into());
    let Some(&(category, market, symbols)) = CATEGORIES
        .iter()
        .find(|c| c.0 == category && series.categories().contains(&c.0))
    else {
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
        let opens = step.newest(first, last, limit as usize);
        for (i, &t) in opens.iter().rev().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "[\"{t}\"");
            for c in series.cells(category, market, &symbol, step, t) {
                let _ = write!(out, ",\"{c}\"");
            }
            out.push(']');
        }
    }
    let _ = write!(out, "]}},\"retExtInfo\":{{}},\"time\":{now_ms}}}");
    Ok(out)
}

/// What the bybit plugin hands over for `kind` ("mark", "index", "premium"; "klines" as
/// [`expected_bybit_klines`] but with the forming candle), `category`, `symbol` and a dsm
/// interval over `[start_ms, end_ms)`, ascending, the still-forming candle INCLUDED (the
/// host drops it by its close time): OHLC as served, volumes 0, close_time = next open - 1.
/// Empty for kinds, categories, symbols or intervals the endpoint does not serve.
pub fn expected_bybit_candles(
    kind: &str,
    category: &str,
    symbol: &str,
    interval: &str,
    start_ms: i64,
    end_ms: i64,
) -> Vec<Kline> {
    let Some(series) = Series::named(kind).filter(|s| s.categories().contains(&category)) else {
        return Vec::new();
    };
    let Some(&(category, market, symbols)) = CATEGORIES.iter().find(|c| c.0 == category) else {
        return Vec::new();
    };
    let Some(step) = bybit_step(interval).filter(|_| symbols.contains(&symbol)) else {
        return Vec::new();
    };
    let now = super::candles::now_ms();
    let Some((first, last)) = step.span(start_ms, end_ms - 1, market.listing_ms(), now) else {
        return Vec::new();
    };
    step.oldest(first, last, usize::MAX)
        .into_iter()
        .map(|t| {
            let c = series.cells(category, market, symbol, step, t);
            let f = |i: usize| -> f64 { c[i].parse().expect("decimal") };
            let volumes = series == Series::Klines;
            Kline {
                open_time: t,
                open: f(0),
                high: f(1),
                low: f(2),
                close: f(3),
                volume: if volumes { f(4) } else { 0.0 },
                close_time: step.next(t) - 1,
                quote_volume: if volumes { f(5) } else { 0.0 },
                ..Kline::default()
            }
        })
        .collect()
}

/// The grid of a dsm interval Bybit has (no 1s, 8h or 3d).
fn bybit_step(interval: &str) -> Option<Step> {
    Step::parse(interval).filter(|_| !matches!(interval, "1s" | "8h" | "3d"))
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
    let Some(step) = bybit_step(interval) else {
        return Vec::new();
    };
    if !symbols.contains(&symbol) {
        return Vec::new();
    }
    let gen = generator(category, market, symbol, step);
    step.closed(
        start_ms,
        end_ms,
        market.listing_ms(),
        super::candles::now_ms(),
    )
    .into_iter()
    .map(|t| Kline {
        trades: 0,
        taker_buy_base_volume: 0.0,
        taker_buy_quote_volume: 0.0,
        ..gen.row(t).to_kline()
    })
    .collect()
}
