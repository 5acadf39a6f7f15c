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
//! are not served (404): the plugin reads daily files only. Trade days can be built ahead
//! (`prebuild_vision`, for the benchmarks); the bytes are those built on request.

use sha2::{Digest, Sha256};

use super::candles::{now_ms, Market};
use super::http::Response;
use super::state::Shared;
use super::trades::{has_trade_day, TradeDay};
use super::vision::{hex, no_such_key, parse_date, zip_one, Built};

#[derive(Clone, Copy, PartialEq)]
enum Dataset {
    Trades { aggregated: bool },
    Metrics,
}

/// A daily file named by its key.
pub(super) struct DailyFile {
    market: Market,
    dataset: Dataset,
    symbol: String,
    day: i64,
    even: bool,
    checksum: bool,
    zip_name: String,
    /// The key of the zip (without `.CHECKSUM`).
    pub(super) zip_path: String,
}

impl DailyFile {
    /// `None` for keys of other datasets; `Some(None)` for a malformed name (404).
    pub(super) fn parse(key: &str) -> Option<Option<DailyFile>> {
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
            return Some(None);
        };
        let zip_path = key.strip_suffix(".CHECKSUM").unwrap_or(key).to_string();
        Some(Some(DailyFile {
            market,
            dataset,
            symbol: symbol.to_string(),
            day,
            even,
            checksum,
            zip_name: zip_name.to_string(),
            zip_path,
        }))
    }

    /// Whether the exchange has published this day.
    pub(super) fn exists(&self, now: i64) -> bool {
        match self.dataset {
            Dataset::Trades { .. } => has_trade_day(self.market, &self.symbol, self.day, now),
            Dataset::Metrics => {
                super::metrics::has_metrics_day(self.market, &self.symbol, self.day, now)
            }
        }
    }

    pub(super) fn is_trades(&self) -> bool {
        matches!(self.dataset, Dataset::Trades { .. })
    }

    pub(super) fn zip(&self) -> Vec<u8> {
        let csv = match self.dataset {
            Dataset::Trades { aggregated } => {
                TradeDay::new(self.market, aggregated, &self.symbol, self.day).csv()
            }
            Dataset::Metrics => super::metrics::csv(&self.symbol, self.day),
        };
        let entry = format!("{}.csv", self.zip_name.trim_end_matches(".zip"));
        zip_one(&entry, &csv)
    }
}

/// The answer for a key of these datasets, or `None` for other keys.
pub(crate) fn answer(shared: &Shared, key: &str) -> Option<Response> {
    let Some(file) = DailyFile::parse(key)? else {
        return Some(no_such_key(key));
    };
    let (withheld, corrupt) = shared.lock().vision.switches(&file.zip_name);
    if withheld || !file.exists(now_ms()) {
        return Some(no_such_key(key));
    }
    let pinned: Option<Built> = shared.lock().vision.cached(&file.zip_path);
    let zip = match &pinned {
        Some(b) => b.zip.to_vec(),
        None => file.zip(),
    };
    if !file.checksum {
        return Some(Response::bytes(200, "application/zip", zip));
    }
    let mut digest = match pinned {
        Some(b) => b.sha256.to_string(),
        None => hex(&Sha256::digest(&zip)),
    };
    if corrupt {
        digest = hex(&Sha256::digest(digest.as_bytes()));
    }
    let newline = if file.even { "\n" } else { "" };
    let body = format!("{digest}  {}{newline}", file.zip_name);
    Some(Response::bytes(
        200,
        "binary/octet-stream",
        body.into_bytes(),
    ))
}
