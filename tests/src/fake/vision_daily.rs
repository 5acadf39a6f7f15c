//! Binance Vision daily files of datasets named by symbol and date only, on the same base
//! URL as vision.rs (reached through vision_kinds.rs):
//!
//! ```text
//! data/{spot|futures/um|futures/cm}/daily/{aggTrades|trades}/{SYMBOL}/{SYMBOL}-{word}-{YYYY-MM-DD}.zip
//! data/futures/{um|cm}/daily/metrics/{SYMBOL}/{SYMBOL}-metrics-{YYYY-MM-DD}.zip
//! ```
//!
//! Rows from trades.rs and metrics.rs; each zip with its `.CHECKSUM` (newline on even days,
//! as vision.rs). `withhold_vision_file` and `corrupt_checksum` apply. Monthly trade files
//! are not served (404): the plugin reads daily files only.

use sha2::{Digest, Sha256};

use super::candles::{now_ms, Market};
use super::http::Response;
use super::state::Shared;
use super::trades::{has_trade_day, TradeDay};
use super::vision::{hex, no_such_key, parse_date, zip_one};

#[derive(Clone, Copy, PartialEq)]
enum Dataset {
    Trades { aggregated: bool },
    Metrics,
}

/// The answer for a key of these datasets, or `None` for other keys.
pub(crate) fn answer(shared: &Shared, key: &str) -> Option<Response> {
    let (market, rest) = if let Some(r) = key.strip_prefix("data/spot/") {
        (Market::Spot, r)
    } else if let Some(r) = key.strip_prefix("data/futures/um/") {
        (Market::Um, r)
    } else {
        (Market::Cm, key.strip_prefix("data/futures/cm/")?)
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let [period, word, symbol, file] = parts.as_slice() else {
        return None;
    };
    let dataset = match *word {
        "aggTrades" => Dataset::Trades { aggregated: true },
        "trades" => Dataset::Trades { aggregated: false },
        "metrics" if market != Market::Spot => Dataset::Metrics,
        _ => return None,
    };
    let (zip_name, checksum) = match file.strip_suffix(".CHECKSUM") {
        Some(z) => (z, true),
        None => (*file, false),
    };
    let date = zip_name
        .strip_suffix(".zip")
        .and_then(|z| z.strip_prefix(&format!("{symbol}-{word}-")));
    let parsed = date.and_then(|d| parse_date(d, false));
    let (Some((day, _, even)), "daily") = (parsed, *period) else {
        return Some(no_such_key(key));
    };
    let now = now_ms();
    let exists = match dataset {
        Dataset::Trades { .. } => has_trade_day(market, symbol, day, now),
        Dataset::Metrics => super::metrics::has_metrics_day(market, symbol, day, now),
    };
    let (withheld, corrupt) = shared.lock().vision.switches(zip_name);
    if withheld || !exists {
        return Some(no_such_key(key));
    }
    let csv = match dataset {
        Dataset::Trades { aggregated } => TradeDay::new(market, aggregated, symbol, day).csv(),
        Dataset::Metrics => super::metrics::csv(symbol, day),
    };
    let entry = format!("{}.csv", zip_name.trim_end_matches(".zip"));
    let zip = zip_one(&entry, &csv);
    drop(csv);
    if !checksum {
        return Some(Response::bytes(200, "application/zip", zip));
    }
    let mut digest = hex(&Sha256::digest(&zip));
    if corrupt {
        digest = hex(&Sha256::digest(digest.as_bytes()));
    }
    let newline = if even { "\n" } else { "" };
    let body = format!("{digest}  {zip_name}{newline}");
    Some(Response::bytes(
        200,
        "binary/octet-stream",
        body.into_bytes(),
    ))
}
