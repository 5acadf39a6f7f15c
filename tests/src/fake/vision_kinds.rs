//! Binance Vision files for kinds beyond klines (wire-formats-datasets.md 1.4, 2.2), on the
//! same base URL as vision.rs:
//!
//! ```text
//! data/futures/{um|cm}/monthly/fundingRate/{SYMBOL}/{SYMBOL}-fundingRate-{YYYY-MM}.zip
//!     CSV with header calc_time,funding_interval_hours,last_funding_rate; no daily files;
//!     months from 2020-01 (USD-M) or the listing month (COIN-M) to the last closed one.
//! data/futures/{um|cm}/{daily|monthly}/{markPriceKlines|indexPriceKlines|premiumIndexKlines}/
//!     {NAME}/{iv}/{NAME}-{iv}-{date}.zip    NAME: the pair for index, else the symbol;
//!     the 12 kline columns (volumes "0"), the futures header from 2022-01-01 on; daily
//!     and monthly as klines (3d, 1w, 1mo monthly only).
//! ```
//!
//! Each with its `.CHECKSUM` (newline on even days or months, as vision.rs). The switches
//! `withhold_vision_file` and `corrupt_checksum` apply to these files too.

use sha2::{Digest, Sha256};

use super::candles::{now_ms, Market};
use super::funding::{has_funding, settlements, VISION_UM_FROM};
use super::grid::Step;
use super::http::Response;
use super::price_kinds::{PriceGen, PriceKind};
use super::state::Shared;
use super::vision::{hex, no_such_key, parse_date, zip_one, FUTURES_HEADER, FUTURES_HEADER_FROM};

const DAY_MS: i64 = 86_400_000;
const FUNDING_HEADER: &str = "calc_time,funding_interval_hours,last_funding_rate";

enum What {
    Funding,
    Price(PriceKind, Step),
}

/// A file named by its key.
struct KindFile {
    what: What,
    market: Market,
    name: String,
    monthly: bool,
    start: i64,
    end: i64,
    even: bool,
    checksum: bool,
    zip_name: String,
}

/// The answer for a key in these datasets, or `None` for other keys (klines).
pub(crate) fn answer(shared: &Shared, key: &str) -> Option<Response> {
    if let Some(resp) = super::vision_daily::answer(shared, key) {
        return Some(resp); // trades, aggregated trades, metrics
    }
    let rest = key.strip_prefix("data/futures/")?;
    let (market, rest) = match rest.split_once('/')? {
        ("um", r) => (Market::Um, r),
        ("cm", r) => (Market::Cm, r),
        _ => return None,
    };
    let mut parts = rest.split('/');
    let (period, dataset) = (parts.next()?, parts.next()?);
    if dataset != "fundingRate" && PriceKind::from_word(dataset).is_none() {
        return None;
    }
    let tail: Vec<&str> = parts.collect();
    let Some(file) = KindFile::parse(market, period, dataset, &tail) else {
        return Some(no_such_key(key));
    };
    let (withheld, corrupt) = shared.lock().vision.switches(&file.zip_name);
    if withheld || !file.exists(now_ms()) {
        return Some(no_such_key(key));
    }
    let zip = file.zip();
    if !file.checksum {
        return Some(Response::bytes(200, "application/zip", zip));
    }
    let mut digest = hex(&Sha256::digest(&zip));
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

impl KindFile {
    fn parse(market: Market, period: &str, dataset: &str, tail: &[&str]) -> Option<KindFile> {
        let monthly = match period {
            "daily" => false,
            "monthly" => true,
            _ => return None,
        };
        let (what, name, prefix, file) = match (PriceKind::from_word(dataset), tail) {
            (None, [name, file]) if monthly => {
                (What::Funding, *name, format!("{name}-fundingRate-"), *file)
            }
            (Some(kind), [name, iv, file]) => {
                let interval = match *iv {
                    "1mo" => "1M",
                    "1M" => return None,
                    other => other,
                };
                if !monthly && matches!(interval, "3d" | "1w" | "1M") {
                    return None;
                }
                let step = market.step(interval)?;
                (
                    What::Price(kind, step),
                    *name,
                    format!("{name}-{iv}-"),
                    *file,
                )
            }
            _ => return None,
        };
        let (zip_name, checksum) = match file.strip_suffix(".CHECKSUM") {
            Some(z) => (z, true),
            None => (file, false),
        };
        let date = zip_name.strip_suffix(".zip")?.strip_prefix(&prefix)?;
        let (start, end, even) = parse_date(date, monthly)?;
        Some(KindFile {
            what,
            market,
            name: name.to_string(),
            monthly,
            start,
            end,
            even,
            checksum,
            zip_name: zip_name.to_string(),
        })
    }

    /// A known instrument, from its first archive period, before today / this month.
    fn exists(&self, now: i64) -> bool {
        let published_before = match self.monthly {
            true => Step::Month.floor(now),
            false => now - now.rem_euclid(DAY_MS),
        };
        let listing = self.market.listing_ms();
        let (known, from) = match &self.what {
            What::Funding if self.market == Market::Um => {
                (has_funding(self.market, &self.name), VISION_UM_FROM)
            }
            What::Funding => (
                has_funding(self.market, &self.name),
                Step::Month.floor(listing),
            ),
            What::Price(kind, _) => (
                kind.knows(self.market, &self.name),
                listing - listing % DAY_MS,
            ),
        };
        known && self.start >= from && self.end <= published_before
    }

    fn csv(&self) -> String {
        let mut out = String::new();
        match &self.what {
            What::Funding => {
                out.push_str(FUNDING_HEADER);
                out.push('\n');
                for s in settlements(self.market, &self.name, self.start, self.end - 1, now_ms()) {
                    out.push_str(&s.csv_line());
                    out.push('\n');
                }
            }
            What::Price(kind, step) => {
                if self.start >= FUTURES_HEADER_FROM {
                    out.push_str(FUTURES_HEADER);
                    out.push('\n');
                }
                let gen = PriceGen::new(*kind, self.market, &self.name, *step);
                let span = step.span(self.start, self.end - 1, self.market.listing_ms(), now_ms());
                let opens = span.map_or_else(Vec::new, |(a, b)| step.oldest(a, b, usize::MAX));
                for t in opens {
                    gen.row(t).write_csv(&mut out);
                    out.push('\n');
                }
            }
        }
        out
    }

    fn zip(&self) -> Vec<u8> {
        let entry = format!("{}.csv", self.zip_name.trim_end_matches(".zip"));
        zip_one(&entry, &self.csv())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAR_2024: i64 = 1_709_251_200_000;

    fn file(key: &str) -> KindFile {
        let rest = key.strip_prefix("data/futures/um/").unwrap();
        let parts: Vec<&str> = rest.split('/').collect();
        KindFile::parse(Market::Um, parts[0], parts[1], &parts[2..]).unwrap()
    }

    #[test]
    fn funding_file_has_header_and_interval_per_row() {
        let f = file("data/futures/um/monthly/fundingRate/ETHUSDT/ETHUSDT-fundingRate-2024-03.zip");
        assert_eq!((f.start, f.monthly, f.even), (MAR_2024, true, false));
        let csv = f.csv();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some(FUNDING_HEADER));
        let hours: Vec<&str> = lines.map(|l| l.split(',').nth(1).unwrap()).collect();
        assert!(hours.contains(&"8") && hours.contains(&"4") && hours.contains(&"1"));
        assert!(f.exists(MAR_2024 + 40 * DAY_MS) && !f.exists(MAR_2024 + 20 * DAY_MS));
        let old =
            file("data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2019-12.zip");
        assert!(!old.exists(MAR_2024));
        let p = PriceKind::Mark.word();
        let daily = format!("data/futures/um/daily/{p}/BTCUSDT/1h/BTCUSDT-1h-2024-03-02.zip");
        let f = file(&daily);
        let csv = f.csv();
        assert!(csv.starts_with("open_time,open,"));
        assert_eq!(csv.lines().count(), 25);
        assert!(!csv.contains("0 "));
    }
}
