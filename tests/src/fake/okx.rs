//! OKX v5 candles as docs/wire-formats.md section 3 describes them:
//! GET /api/v5/market/history-candles (20 requests / 2 s) and /api/v5/market/candles (the
//! newest 1440 candles; 40 / 2 s). Parameters instId, bar, after, before (both exclusive),
//! limit (default 100, max 300). Rows newest first, every cell a string:
//! [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]; the candle still forming has
//! confirm "0". Errors: 50014 (instId empty, 400), 51000 (parameter error, 400), 51001
//! (unknown instrument, HTTP 200 with data []), 50011 (over the rate, 429, no "data").
//!
//! Mark and index candles (docs/wire-formats-datasets.md 2.3):
//! /api/v5/market/history-mark-price-candles (instId a swap, 20 / 2 s) and
//! /api/v5/market/history-index-candles (instId an index: BTC-USDT, BTC-USD; 10 / 2 s),
//! limit max 100, the same bars but 1s and the same paging; rows [ts, o, h, l, c, confirm]
//! with their own prices (the generator seeded with the series). Funding: okx_funding.rs.
//!
//! Instruments: BTC-USDT, ETH-USDT (spot), BTC-USDT-SWAP (linear, contract 0.01 BTC),
//! BTC-USD-SWAP (inverse, contract 100 USD). Candles come from the Binance generator
//! (candles.rs) seeded with the instId, so they differ from Binance's.
//! Bars: 1s (history only, last 3 months), 1m 3m 5m 15m 30m 1H 2H 4H, UTC+8-aligned 6H
//! 12H 1D 2D 3D 1W, UTC-aligned 6Hutc 12Hutc 1Dutc 2Dutc 3Dutc 1Wutc 1Mutc. Not served
//! (answered 51000): the UTC+8 months 1M 3M, and 3Mutc.

use std::fmt::Write as _;

use dsm_sdk::Kline;

use super::candles::{fixed, Generator, Market, Row};
use super::grid::Step;
use super::http::{Request, Response};
use super::log::query_param;
use super::state::State;

pub(crate) const HISTORY: &str = "/api/v5/market/history-candles";
pub(crate) const RECENT: &str = "/api/v5/market/candles";
pub(crate) const MARK_HISTORY: &str = "/api/v5/market/history-mark-price-candles";
pub(crate) const INDEX_HISTORY: &str = "/api/v5/market/history-index-candles";

/// What a candle endpoint serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Series {
    Candles,
    Mark,
    Index,
}

/// A candle endpoint: path, rate key and budget per 2 s, largest limit, whether it is a
/// history endpoint (1s bars; else only the newest 1440 candles), its series.
struct Endpoint {
    path: &'static str,
    key: &'static str,
    per_2s: usize,
    max_limit: i64,
    history: bool,
    series: Series,
}

const ENDPOINTS: [Endpoint; 4] = [
    Endpoint {
        path: HISTORY,
        key: "okx-history",
        per_2s: 20,
        max_limit: 300,
        history: true,
        series: Series::Candles,
    },
    Endpoint {
        path: RECENT,
        key: "okx-candles",
        per_2s: 40,
        max_limit: 300,
        history: false,
        series: Series::Candles,
    },
    Endpoint {
        path: MARK_HISTORY,
        key: "okx-mark",
        per_2s: 20,
        max_limit: 100,
        history: true,
        series: Series::Mark,
    },
    Endpoint {
        path: INDEX_HISTORY,
        key: "okx-index",
        per_2s: 10,
        max_limit: 100,
        history: true,
        series: Series::Index,
    },
];

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Weeks open on Monday: 1970-01-05 (epoch + 4 days).
const WEEK_OFFSET_MS: i64 = 4 * DAY_MS;
/// How far back 1s candles go on history-candles.
const ONE_SECOND_HISTORY_MS: i64 = 90 * DAY_MS;

/// The kinds of instrument, by the generator and the meaning of the volume columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Spot,
    /// USDT-margined swap: vol in contracts of 0.01 base.
    LinearSwap,
    /// Coin-margined swap: vol in contracts of 100 USD.
    InverseSwap,
}

impl Kind {
    /// The instrument of `inst_id` on an endpoint of `series`: mark takes swaps only, index
    /// takes index ids (the swaps' underlyings).
    fn on(series: Series, inst_id: &str) -> Option<Kind> {
        match series {
            Series::Candles => Kind::of(inst_id),
            Series::Mark => Kind::of(inst_id).filter(|k| *k != Kind::Spot),
            Series::Index => Kind::of(&format!("{inst_id}-SWAP")),
        }
    }

    pub(crate) fn of(inst_id: &str) -> Option<Kind> {
        Some(match inst_id {
            "BTC-USDT" | "ETH-USDT" => Kind::Spot,
            "BTC-USDT-SWAP" => Kind::LinearSwap,
            "BTC-USD-SWAP" => Kind::InverseSwap,
            _ => return None,
        })
    }

    pub(crate) fn market(self) -> Market {
        match self {
            Kind::Spot => Market::Spot,
            Kind::LinearSwap => Market::Um,
            Kind::InverseSwap => Market::Cm,
        }
    }

    /// vol, volCcy, volCcyQuote from a generated row.
    fn volumes(self, row: &Row) -> [String; 3] {
        let (base_or_contracts, second) = (&row.cols[4], &row.cols[5]);
        match self {
            // Spot: vol base; volCcy and volCcyQuote quote.
            Kind::Spot => [base_or_contracts.clone(), second.clone(), second.clone()],
            // Um rows: base with 3 decimals, quote. Contracts = base / 0.01.
            Kind::LinearSwap => {
                let units: i128 = base_or_contracts.replace('.', "").parse().expect("decimal");
                [fixed(units, 1), base_or_contracts.clone(), second.clone()]
            }
            // Cm rows: contracts, base. USD = contracts x 100.
            Kind::InverseSwap => {
                let contracts: i128 = base_or_contracts.parse().expect("integer");
                [
                    base_or_contracts.clone(),
                    second.clone(),
                    (contracts * 100).to_string(),
                ]
            }
        }
    }
}

/// An OKX bar: its open-time grid, or `None` when the fake does not serve it.
fn bar_step(bar: &str, history: bool) -> Option<Step> {
    let fixed = |len: i64, offset: i64| Some(Step::Fixed { len, offset });
    // UTC+8 bars open at midnight in Hong Kong: 8 hours earlier in UTC.
    let hk = |len: i64, base_offset: i64| fixed(len, (base_offset - 8 * HOUR_MS).rem_euclid(len));
    match bar {
        "1s" if history => fixed(1_000, 0),
        "1m" | "3m" | "5m" | "15m" | "30m" => Step::parse(bar),
        "1H" | "2H" | "4H" => Step::parse(&bar.to_ascii_lowercase()),
        "6H" => hk(6 * HOUR_MS, 0),
        "12H" => hk(12 * HOUR_MS, 0),
        "1D" => hk(DAY_MS, 0),
        "2D" => hk(2 * DAY_MS, 0),
        "3D" => hk(3 * DAY_MS, 0),
        "1W" => hk(7 * DAY_MS, WEEK_OFFSET_MS),
        "6Hutc" => fixed(6 * HOUR_MS, 0),
        "12Hutc" => fixed(12 * HOUR_MS, 0),
        "1Dutc" => fixed(DAY_MS, 0),
        "2Dutc" => fixed(2 * DAY_MS, 0),
        "3Dutc" => fixed(3 * DAY_MS, 0),
        "1Wutc" => fixed(7 * DAY_MS, WEEK_OFFSET_MS),
        "1Mutc" => Some(Step::Month),
        _ => None,
    }
}

/// The bar the okx plugin sends for a dsm interval.
fn bar_of(interval: &str) -> Option<&'static str> {
    Some(match interval {
        "1m" => "1m",
        "3m" => "3m",
        "5m" => "5m",
        "15m" => "15m",
        "30m" => "30m",
        "1h" => "1H",
        "2h" => "2H",
        "4h" => "4H",
        "6h" => "6Hutc",
        "12h" => "12Hutc",
        "1d" => "1Dutc",
        "1w" => "1Wutc",
        "1M" => "1Mutc",
        _ => return None,
    })
}

pub(crate) fn error(status: u16, code: &str, msg: &str) -> Response {
    let msg = serde_json::to_string(msg).expect("a string serializes");
    Response::json(
        status,
        format!("{{\"code\":\"{code}\",\"data\":[],\"msg\":{msg}}}"),
    )
}

/// OKX's answer over the rate limit: HTTP 429 and no "data".
pub(crate) fn rate_limited() -> Response {
    Response::json(
        429,
        "{\"msg\":\"Too Many Requests\",\"code\":\"50011\"}".into(),
    )
}

/// OKX's error body for an injected fault (at 429 without "data", as OKX sends 50011).
pub(crate) fn fault_error(status: u16, code: u32, msg: &str) -> Response {
    if status == 429 {
        let msg = serde_json::to_string(msg).expect("a string serializes");
        return Response::json(status, format!("{{\"msg\":{msg},\"code\":\"{code}\"}}"));
    }
    error(status, &code.to_string(), msg)
}

pub(crate) fn answer(st: &mut State, req: &Request, now_ms: i64) -> Response {
    if req.path == super::okx_trades::PATH {
        return super::okx_trades::answer(st, req, now_ms);
    }
    if req.path == super::okx_funding::PATH {
        return super::okx_funding::answer(st, req, now_ms);
    }
    if req.path == super::v5_instruments::OKX_PATH {
        return super::v5_instruments::okx(st, req, now_ms);
    }
    let Some(ep) = ENDPOINTS.iter().find(|e| e.path == req.path) else {
        return error(404, "50000", "Not Found");
    };
    if req.method != "GET" {
        return error(405, "50000", "Method Not Allowed");
    }
    if st.v5.admit(ep.key, ep.per_2s, 2_000, now_ms).is_err() {
        return rate_limited();
    }
    match candles(&req.query, ep, now_ms) {
        Ok(body) => Response::json(200, body),
        Err(resp) => resp,
    }
}

pub(crate) fn number(query: &str, name: &str) -> Result<Option<i64>, Response> {
    match query_param(query, name) {
        None => Ok(None),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(n)),
            _ => Err(error(400, "51000", &format!("Parameter {name} error"))),
        },
    }
}

fn candles(query: &str, ep: &Endpoint, now_ms: i64) -> Result<String, Response> {
    let history = ep.history;
    let inst_id = query_param(query, "instId").unwrap_or_default();
    if inst_id.is_empty() {
        return Err(error(400, "50014", "Parameter instId can not be empty"));
    }
    let bar = query_param(query, "bar").unwrap_or_else(|| "1m".into());
    // 1s bars: history-candles only.
    let one_second = history && ep.series == Series::Candles;
    let step =
        bar_step(&bar, one_second).ok_or_else(|| error(400, "51000", "Parameter bar error"))?;
    let (after, before) = (number(query, "after")?, number(query, "before")?);
    let limit = number(query, "limit")?.unwrap_or(100);
    if !(1..=ep.max_limit).contains(&limit) {
        return Err(error(400, "51000", "Parameter limit error"));
    }
    let Some(kind) = Kind::on(ep.series, &inst_id) else {
        return Err(error(200, "51001", "Instrument ID doesn't exist."));
    };
    let mut listing = kind.market().listing_ms();
    if step
        == (Step::Fixed {
            len: 1_000,
            offset: 0,
        })
    {
        listing = listing.max(now_ms - ONE_SECOND_HISTORY_MS);
    }
    if !history {
        // /candles: only the newest 1440.
        let mut t = step.floor(now_ms);
        for _ in 0..1439 {
            t = step.prev(t);
        }
        listing = listing.max(t);
    }
    let lo = before.map_or(i64::MIN, |b| b.saturating_add(1));
    let hi = after.map_or(i64::MAX, |a| a.saturating_sub(1));
    let mut out = String::from("{\"code\":\"0\",\"msg\":\"\",\"data\":[");
    if let Some((first, last)) = step.span(lo, hi, listing, now_ms) {
        let gen = generator(ep.series, kind, &inst_id, step);
        let opens = step.newest(first, last, limit as usize);
        for (i, &t) in opens.iter().rev().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let row = gen.row(t);
            let c = &row.cols;
            let confirm = if step.next(t) > now_ms { "0" } else { "1" };
            let _ = write!(
                out,
                "[\"{t}\",\"{}\",\"{}\",\"{}\",\"{}\",",
                c[0], c[1], c[2], c[3]
            );
            if ep.series == Series::Candles {
                let [vol, vol_ccy, vol_quote] = kind.volumes(&row);
                let _ = write!(out, "\"{vol}\",\"{vol_ccy}\",\"{vol_quote}\",");
            }
            let _ = write!(out, "\"{confirm}\"]");
        }
    }
    out.push_str("]}");
    Ok(out)
}

/// The generator of a series: candles seeded with the instId as ever, mark and index with
/// their own seeds so their prices differ from the trades'.
fn generator(series: Series, kind: Kind, inst_id: &str, step: Step) -> Generator {
    match series {
        Series::Candles => Generator::new(kind.market(), inst_id, step),
        Series::Mark => Generator::new(kind.market(), &format!("{inst_id}@okx-mark"), step),
        Series::Index => Generator::new(kind.market(), &format!("{inst_id}@okx-index"), step),
    }
}

/// The mark (`kind` "mark") or index ("index") candles the okx plugin returns for the swap
/// `inst_id` (its index: the underlying) and a dsm interval over `[start_ms, end_ms)`:
/// closed ones only, ascending, OHLC only (volumes 0), close_time = next open - 1. Empty
/// for unknown kinds, instruments or intervals.
pub fn expected_okx_candles(
    kind: &str,
    inst_id: &str,
    interval: &str,
    start_ms: i64,
    end_ms: i64,
) -> Vec<Kline> {
    let (series, id) = match kind {
        "mark" => (Series::Mark, inst_id),
        "index" => (
            Series::Index,
            inst_id.strip_suffix("-SWAP").unwrap_or(inst_id),
        ),
        _ => return Vec::new(),
    };
    let (Some(k), Some(step)) = (
        Kind::on(series, id),
        bar_of(interval).and_then(|b| bar_step(b, false)),
    ) else {
        return Vec::new();
    };
    let gen = generator(series, k, id, step);
    step.closed(
        start_ms,
        end_ms,
        k.market().listing_ms(),
        super::candles::now_ms(),
    )
    .into_iter()
    .map(|t| Kline {
        volume: 0.0,
        quote_volume: 0.0,
        trades: 0,
        taker_buy_base_volume: 0.0,
        taker_buy_quote_volume: 0.0,
        ..gen.row(t).to_kline()
    })
    .collect()
}

/// The candles the okx plugin returns for `inst_id` (OKX's form, e.g. "BTC-USDT-SWAP") and
/// a dsm interval ("1h", mapped to the bar the plugin sends) over `[start_ms, end_ms)`: the
/// closed ones only (confirm "1"), ascending. volume = vol, quote_volume = volCcyQuote,
/// close_time = next open - 1, trades and taker volumes 0. Empty for unknown instruments.
pub fn expected_okx_klines(
    inst_id: &str,
    interval: &str,
    start_ms: i64,
    end_ms: i64,
) -> Vec<Kline> {
    let (Some(kind), Some(step)) = (
        Kind::of(inst_id),
        bar_of(interval).and_then(|b| bar_step(b, true)),
    ) else {
        return Vec::new();
    };
    let gen = Generator::new(kind.market(), inst_id, step);
    step.closed(
        start_ms,
        end_ms,
        kind.market().listing_ms(),
        super::candles::now_ms(),
    )
    .into_iter()
    .map(|t| {
        let row = gen.row(t);
        let [vol, _, vol_quote] = kind.volumes(&row);
        let k = row.to_kline();
        Kline {
            volume: vol.parse().expect("decimal"),
            quote_volume: vol_quote.parse().expect("decimal"),
            trades: 0,
            taker_buy_base_volume: 0.0,
            taker_buy_quote_volume: 0.0,
            ..k
        }
    })
    .collect()
}
